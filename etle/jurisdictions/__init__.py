"""Jurisdictions (a Polda or Polres): the deadlines their cases run on, and their cameras."""
