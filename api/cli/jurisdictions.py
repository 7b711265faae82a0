from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, out, print_json, runtime
from api.cli.schema import require_schema
from etle.db import session_scope
from etle.jurisdictions.service import assign_camera, list_jurisdictions, set_jurisdiction
from etle.officers.access import Permission
from etle.officers.service import officer_with

app = typer.Typer(
    help="Jurisdictions: deadlines to respond and to pay, per police unit and its cameras.",
    no_args_is_help=True,
)
AsOfficer = Annotated[
    str, typer.Option("--as", help="Your officer username (an active administrator).")
]


@app.command("list")
def jurisdictions_list(data_dir: DataDir = None, json: JsonFlag = False) -> None:
    """List jurisdictions and their deadlines (cameras outside any use ETLE_RESPOND_DAYS and
    ETLE_PAY_DAYS)."""
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with session_scope(rt.sessions) as session:
            rows = [
                {
                    "code": j.code,
                    "name": j.name,
                    "respond_days": j.respond_days,
                    "pay_days": j.pay_days,
                }
                for j in list_jurisdictions(session)
            ]
        defaults = {"respond_days": rt.settings.respond_days, "pay_days": rt.settings.pay_days}
    if json:
        print_json({"jurisdictions": rows, "default": defaults})
        return
    for row in rows:
        out.print(
            f"{row['code']:<20} respond {row['respond_days']:>3} d, pay {row['pay_days']:>3} d"
            f"  {row['name']}",
            highlight=False,
        )
    out.print(
        f"{'(default)':<20} respond {defaults['respond_days']:>3} d, "
        f"pay {defaults['pay_days']:>3} d"
    )


@app.command("set")
def jurisdictions_set(
    code: Annotated[str, typer.Argument(help="e.g. POLDA-METRO-JAYA.")],
    as_officer: AsOfficer,
    name: Annotated[str | None, typer.Option(help="Full name of the unit.")] = None,
    respond_days: Annotated[int | None, typer.Option(help="Days to respond to a notice.")] = None,
    pay_days: Annotated[int | None, typer.Option(help="Days to pay once issued.")] = None,
    issuing_unit: Annotated[
        str | None, typer.Option(help="The unit named in its letters' letterhead.")
    ] = None,
    office_address: Annotated[
        str | None, typer.Option(help="The unit's office address, under the letterhead.")
    ] = None,
    signatory_title: Annotated[
        str | None, typer.Option(help="Title in the letters' signature block.")
    ] = None,
    signatory_name: Annotated[
        str | None, typer.Option(help="Name (and rank) in the signature block.")
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Add a jurisdiction or change its deadlines and who issues its letters (audited).

    New deadlines apply to notices and payments issued from now on; the issuer to letters
    rendered from now on. An empty value ("") puts a field back to its default from settings
    (ETLE_ISSUING_UNIT, ETLE_ISSUING_OFFICE, ETLE_SIGNATORY_TITLE, ETLE_SIGNATORY_NAME)."""
    issuer = {
        field: value
        for field, value in (
            ("issuing_unit", issuing_unit),
            ("office_address", office_address),
            ("signatory_title", signatory_title),
            ("signatory_name", signatory_name),
        )
        if value is not None
    }
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with session_scope(rt.sessions) as session:
            officer = officer_with(session, as_officer, Permission.MANAGE_CATALOGUE)
            jurisdiction, created = set_jurisdiction(
                session,
                code=code,
                officer=officer,
                name=name,
                respond_days=respond_days,
                pay_days=pay_days,
                issuer=issuer,
            )
            row = {
                "code": jurisdiction.code,
                "name": jurisdiction.name,
                "respond_days": jurisdiction.respond_days,
                "pay_days": jurisdiction.pay_days,
                "issuing_unit": jurisdiction.issuing_unit,
                "office_address": jurisdiction.office_address,
                "signatory_title": jurisdiction.signatory_title,
                "signatory_name": jurisdiction.signatory_name,
                "created": created,
            }
    if json:
        print_json(row)
    else:
        out.print(f"{code}: {'created' if created else 'saved'}")


@app.command("assign")
def jurisdictions_assign(
    camera: Annotated[str, typer.Argument(help="Camera id.")],
    code: Annotated[str, typer.Argument(help="Jurisdiction code, or 'none' for the defaults.")],
    as_officer: AsOfficer,
    data_dir: DataDir = None,
) -> None:
    """Put a camera in a jurisdiction (audited)."""
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with session_scope(rt.sessions) as session:
            officer = officer_with(session, as_officer, Permission.MANAGE_CATALOGUE)
            target = None if code.lower() == "none" else code
            assign_camera(session, camera_id=camera, code=target, officer=officer)
    out.print(f"camera {camera}: jurisdiction {code}")
