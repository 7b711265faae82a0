from __future__ import annotations

import typer

from api.cli.common import DataDir, JsonFlag, out, print_json, runtime
from etle.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, json: JsonFlag = False) -> None:
    """Create or upgrade the database schema to the newest version and add seed data."""
    with runtime(data_dir) as rt:
        upgrade(rt.engine)
        revision = current_revision(rt.engine)
        url = rt.engine.url.render_as_string(hide_password=True)
    if json:
        print_json({"revision": revision, "database": url})
    else:
        out.print(f"database {url} is at revision {revision}")


@app.command("status")
def db_status(data_dir: DataDir = None, json: JsonFlag = False) -> None:
    """Show the schema revision of the database and the newest one available."""
    with runtime(data_dir) as rt:
        current, head = current_revision(rt.engine), head_revision(rt.engine)
    if json:
        print_json({"current": current, "head": head, "up_to_date": current == head})
    else:
        state = "up to date" if current == head else "needs `etle db upgrade`"
        out.print(f"current {current or 'none'}, newest {head}: {state}")
