from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import build_runtime
from api.settings import load_app_settings


def test_health_and_openapi(fresh_url: str, tmp_path: Path) -> None:
    rt = build_runtime(load_app_settings(data_dir=tmp_path, database_url=fresh_url))
    with TestClient(create_app(rt)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["database"] == "ok"
        assert client.get("/openapi.json").json()["info"]["title"] == "ETLE back office"
        assert client.get("/docs").status_code == 200
    rt.close()
