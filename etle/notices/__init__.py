"""Notice records: the letter issued for a confirmed case and one delivery per channel.

Rows only. The top-level `notices` package renders the letters and sends them; this package
creates the records in the same transaction as the officer's confirmation, so a confirmed case
always has its notice and a notice always has its deliveries.
"""
