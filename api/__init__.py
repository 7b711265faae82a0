"""The outer layer: the HTTP API (FastAPI) and the operator command line (Typer).

Both only translate requests into calls on `etle`, `camera_ingest` and `notices`; no business
rule lives here. `api.runtime` is the composition root that wires settings to real components.
"""
