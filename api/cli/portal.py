"""`etle portal ...`: what citizens reported through the public portal, and a signed example of
the bank callback for integrators testing against a staging server."""

from __future__ import annotations

import json as jsonlib
import shlex
import time
import uuid
from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, out, print_json, runtime, settings
from etle.clock import format_local
from etle.db import session_scope
from etle.errors import ConfigError, ValidationFailed
from etle.payments.callback import (
    REQUEST_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign_callback,
)
from etle.payments.codes import is_well_formed_code
from etle.portal.scams import recent_reports

app = typer.Typer(help="Public portal: scam reports, bank callback example.", no_args_is_help=True)


@app.command("scam-reports")
def scam_reports(
    data_dir: DataDir = None,
    limit: Annotated[int, typer.Option(help="The newest N reports.", min=1, max=1000)] = 50,
    json: JsonFlag = False,
) -> None:
    """Messages citizens reported as fake ETLE notices, newest first (no reporter data kept)."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        rows = [
            {
                "id": r.id,
                "received_at": r.received_at.isoformat(),
                "received_local": format_local(r.received_at, rt.settings.timezone),
                "channel": r.channel,
                "sender": r.sender,
                "link": r.link,
                "message": r.message,
            }
            for r in recent_reports(session, limit=limit)
        ]
    if json:
        print_json({"reports": rows})
        return
    if not rows:
        out.print("no scam reports")
    for r in rows:
        sender = f" from {r['sender']}" if r["sender"] else ""
        link = f" link {r['link']}" if r["link"] else ""
        message = " ".join(str(r["message"]).split())[:120]
        out.print(f"#{r['id']} {r['received_local']} {r['channel']}{sender}{link}: {message}")


@app.command("callback-example")
def callback_example(
    code: Annotated[str, typer.Argument(help="A payment code (virtual account) to pay.")],
    amount: Annotated[int, typer.Option("--amount", help="Amount in whole rupiah.", min=1)],
    url: Annotated[str, typer.Option(help="Base URL of the server to call.")] = (
        "http://127.0.0.1:8000"
    ),
    transaction_id: Annotated[
        str | None, typer.Option(help="The bank's transaction id (default: a new one).")
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Print a correctly signed bank callback (a curl command) with this server's secret, for a
    bank integrator to compare their signing with. Each run has a fresh request id."""
    s = settings(data_dir)
    if s.payment_callback_secret is None:
        raise ConfigError("ETLE_PAYMENT_CALLBACK_SECRET is not set")
    if not is_well_formed_code(code):
        raise ValidationFailed(f"{code} is not a payment code (its check digit is wrong)")
    body = jsonlib.dumps(
        {
            "transaction_id": transaction_id or f"TEST-{uuid.uuid4().hex[:12]}",
            "payment_code": code,
            "amount_rp": amount,
            "paid_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        },
        separators=(",", ":"),
    )
    timestamp, request_id = int(time.time()), str(uuid.uuid4())
    signature = sign_callback(
        s.payment_callback_secret.get_secret_value(), timestamp, request_id, body.encode()
    )
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        REQUEST_ID_HEADER: request_id,
        SIGNATURE_HEADER: signature,
    }
    target = f"{url.rstrip('/')}/api/v1/payments/callback"
    if json:
        print_json({"url": target, "headers": headers, "body": body})
        return
    parts = ["curl", "-sS", "-X", "POST", target]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", body]
    typer.echo(" ".join(shlex.quote(p) for p in parts))
