"""Camera ingest: frame intake (authenticate, validate, store, enqueue), plate recognition, and
the workers that turn stored frames into plate reads and cases."""
