"""Notices: render the letter once, send it by post (print batch), email and message, and keep
the delivery ledger current."""
