from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, err, out, plural, print_json, runtime
from api.cli.schema import require_schema
from etle.audit.chain import verify
from etle.audit.digest import head_digest, load_digest, verify_with_digests
from etle.db import session_scope
from etle.errors import Conflict

app = typer.Typer(
    help="The tamper-evident audit trail: verify it, export its head.", no_args_is_help=True
)


@app.command("verify")
def audit_verify(
    digest: Annotated[
        list[Path] | None,
        typer.Option(
            help="A digest exported earlier (repeatable): its event must still be there, "
            "unchanged. Catches deletion of the newest events."
        ),
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Recompute the hash chain and name the first event edited, deleted or inserted out of
    place. Exit code 1 if the trail was tampered with."""
    digests = [load_digest(path) for path in digest or []]
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with session_scope(rt.sessions) as session:
            verdict = verify_with_digests(session, digests)
    if json:
        print_json(
            {
                "ok": verdict.ok,
                "checked": verdict.checked,
                "head_seq": verdict.head_seq,
                "head_hash": verdict.head_hash,
                "first_bad_seq": verdict.first_bad_seq,
                "problem": verdict.problem,
                "digests": len(digests),
            }
        )
    elif verdict.ok:
        out.print(
            f"audit trail intact: {plural(verdict.checked, 'event')}, head {verdict.head_seq} "
            f"{verdict.head_hash[:16]}..."
            + (f", {plural(len(digests), 'digest')} match" if digests else "")
        )
    else:
        err.print(f"[red]audit trail BROKEN:[/red] {verdict.problem}", highlight=False)
    if not verdict.ok:
        raise typer.Exit(1)


@app.command("digest")
def audit_digest(
    output: Annotated[
        Path | None, typer.Option(help="Also write the digest to this file (JSON).")
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Print the chain head (event number, hash, time) as JSON, to publish once a day.

    The chain is verified first: the head of a broken chain is not exported (exit code 1).
    """
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with session_scope(rt.sessions) as session:
            verdict = verify(session)
            if not verdict.ok:
                raise Conflict(f"audit trail broken, no digest exported: {verdict.problem}")
            digest = head_digest(session)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(digest.to_json(), encoding="utf-8")
    if json or output is None:
        print_json(digest.as_dict())
    else:
        out.print(f"digest of event {digest.seq} written to {output}")
