"""ETLE domain core: plates, registry, violations, cases, audit.

This package holds the rules. It never imports FastAPI, nor the `camera_ingest`, `notices` or
`api` packages: they import it.
"""
