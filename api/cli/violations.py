from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, out, print_json, runtime
from api.cli.schema import require_schema
from etle.db import session_scope
from etle.officers.access import Permission
from etle.officers.service import officer_with
from etle.violations.admin import as_dict, list_violations, set_violation

app = typer.Typer(
    help="The violation catalogue: codes, names, legal basis, maximum fines.",
    no_args_is_help=True,
)
AsOfficer = Annotated[
    str, typer.Option("--as", help="Your officer username (an active administrator).")
]


@app.command("list")
def violations_list(data_dir: DataDir = None, json: JsonFlag = False) -> None:
    """List every violation type, active or not."""
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with session_scope(rt.sessions) as session:
            rows = [as_dict(v) for v in list_violations(session)]
    if json:
        print_json(rows)
        return
    for row in rows:
        state = "" if row["active"] else "  (inactive)"
        fine = f"Rp {row['max_fine_rp']:,}".replace(",", ".")
        out.print(
            f"{row['code']:<16} {fine:>12}  {row['legal_basis']:<30} {row['name_id']}{state}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("set")
def violations_set(
    code: Annotated[str, typer.Argument(help="Violation code, e.g. red_light.")],
    as_officer: AsOfficer,
    name_id: Annotated[str | None, typer.Option(help="Name in Bahasa Indonesia.")] = None,
    name_en: Annotated[str | None, typer.Option(help="Name in English.")] = None,
    legal_basis: Annotated[
        str | None, typer.Option(help='e.g. "UU 22/2009 Pasal 287 ayat (2)".')
    ] = None,
    max_fine: Annotated[int | None, typer.Option(help="Maximum fine in whole rupiah.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Whether cameras may report it.")
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Add a violation type or change it. Every change is audited with before and after.

    A new code needs all of --name-id, --name-en, --legal-basis and --max-fine. Codes are never
    deleted (cases refer to them): use --inactive.
    """
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with session_scope(rt.sessions) as session:
            officer = officer_with(session, as_officer, Permission.MANAGE_CATALOGUE)
            violation, changed = set_violation(
                session,
                code=code,
                officer=officer,
                name_id=name_id,
                name_en=name_en,
                legal_basis=legal_basis,
                max_fine_rp=max_fine,
                active=active,
            )
            row = as_dict(violation)
    if json:
        print_json({**row, "changed": changed})
    else:
        out.print(f"{code}: {'saved' if changed else 'nothing to change'}")
