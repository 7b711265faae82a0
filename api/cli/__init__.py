"""`etle`: the operator's command line. Every command explains itself in `--help`."""
