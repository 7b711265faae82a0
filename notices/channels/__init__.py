"""Channel senders. Each has a local default (files) and a production implementation chosen by
settings; all carry the delivery's idempotency key so a resend is recognised as the same."""
