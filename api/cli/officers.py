"""`etle officers`: police officer accounts (add, disable, reset a password, list)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, operator, out, print_json, runtime
from etle.db import session_scope
from etle.errors import ValidationFailed
from etle.migrate import upgrade
from etle.officers.models import Officer, Role
from etle.officers.service import add_officer, disable_officer, list_officers, reset_password

app = typer.Typer(
    help="Officer accounts: reviewers, supervisors, administrators.", no_args_is_help=True
)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input (for scripts), "
        "instead of asking for it twice.",
    ),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line.strip():
            raise ValidationFailed("no password on standard input")
        return line.rstrip("\r\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Again", hide_input=True) != first:
        raise ValidationFailed("the two passwords differ")
    return str(first)


def _row(officer: Officer) -> dict[str, object]:
    return {
        "username": officer.username,
        "full_name": officer.full_name,
        "role": officer.role,
        "active": officer.active,
        "nik_recorded": officer.nik is not None,
    }


@app.command("add")
def add(
    username: Annotated[str, typer.Option(help="Login name: lower-case letters, digits, . _ -")],
    role: Annotated[Role, typer.Option(help="reviewer, supervisor or administrator")],
    full_name: Annotated[str, typer.Option(help="Name shown in the console")] = "",
    nik: Annotated[
        str | None,
        typer.Option(help="The officer's own NIK (16 digits): never given cases of own vehicles"),
    ] = None,
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Create an officer account with an argon2-hashed password."""
    password = _password(password_stdin)
    with runtime(data_dir) as rt:
        upgrade(rt.engine)
        with session_scope(rt.sessions) as session:
            officer = add_officer(
                session,
                username=username,
                role=role,
                password=password,
                full_name=full_name,
                nik=nik,
                actor=operator(),
            )
            row = _row(officer)
    if json:
        print_json(row)
    else:
        out.print(f"officer {row['username']} added ({row['role']})")


@app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="The officer to disable")],
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Disable an account: its sessions end at once and the case it holds returns to the queue."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        row = _row(disable_officer(session, username, actor=operator()))
    if json:
        print_json(row)
    else:
        out.print(f"officer {row['username']} disabled")


@app.command("reset-password")
def reset(
    username: Annotated[str, typer.Argument(help="The officer whose password to set")],
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Set a new password; every token and console session issued before stops working."""
    password = _password(password_stdin)
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        row = _row(reset_password(session, username, password=password, actor=operator()))
    if json:
        print_json(row)
    else:
        out.print(f"password of {row['username']} reset; earlier sessions ended")


@app.command("list")
def list_all(data_dir: DataDir = None, json: JsonFlag = False) -> None:
    """Every officer account."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        rows = [_row(o) for o in list_officers(session)]
    if json:
        print_json(rows)
        return
    for row in rows:
        state = "active" if row["active"] else "disabled"
        out.print(f"{row['username']:<24} {row['role']:<14} {state:<9} {row['full_name']}")
