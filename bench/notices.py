"""Render and email N notices to a local SMTP sink through the real dispatcher; print notices/s.

    python bench/notices.py --notices 10000 --workers 2 [--database-url postgresql+psycopg://...]

Setup (not timed): a fresh data directory and database, the eight sample frames as evidence,
N confirmed cases with their notices (owners with an email address only, so each notice is one
PDF render and one email), their dispatch jobs on the embedded queue. Timed: `etle worker
--burst` processes (as in production) draining the queue: claim, render the letter, keep it by
hash, send it over SMTP (sessions kept open), mark it sent with its audit events. The sink is a
minimal SMTP server in its own process that counts messages and bytes.

Also printed: single-core costs of each step on one letter (load, render, build email), and the
same for the renderer before this change (decode and re-encode the evidence photo and plate
crop with Pillow, fpdf2's multi_cell), as a ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# -- a fast SMTP sink ---------------------------------------------------------------------------
class _Sink(asyncio.Protocol):
    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.buffer = b""
        self.in_data = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.counter[0] += 1
                self.counter[1] += end
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                self.transport.write(b"250 OK queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line, self.buffer = self.buffer[:end].upper(), self.buffer[end + 2 :]
            if line.startswith(b"EHLO"):
                self.transport.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif line.startswith(b"DATA"):
                self.in_data = True
                self.transport.write(b"354 go ahead\r\n")
            elif line.startswith(b"QUIT"):
                self.transport.write(b"221 bye\r\n")
                self.transport.close()
            else:
                self.transport.write(b"250 OK\r\n")


def run_sink(port: int, counts: multiprocessing.Array) -> None:  # type: ignore[type-arg]
    counter = [0, 0]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(lambda: _Sink(counter), "127.0.0.1", port)
        while True:
            await asyncio.sleep(0.05)
            counts[0], counts[1] = counter[0], counter[1]

    asyncio.run(main())


# -- setup ----------------------------------------------------------------------------------
def setup(data_dir: Path, database_url: str | None, notices: int, port: int) -> dict[str, str]:
    from api.runtime import build_runtime
    from api.settings import load_app_settings
    from etle.cases.review import confirm
    from etle.db import session_scope
    from etle.migrate import upgrade
    from tests import factories

    env = {
        "ETLE_DATA_DIR": str(data_dir),
        "ETLE_PORTAL_URL": "https://etle.polri.go.id",
        "ETLE_SECRET_KEY": "bench-signing-key-0123456789abcdef",
        "ETLE_EMAIL_BACKEND": "smtp",
        "ETLE_SMTP_PORT": str(port),
        "ETLE_SMTP_SECURITY": "none",
    }
    if database_url:
        env["ETLE_DATABASE_URL"] = database_url
    settings = load_app_settings(
        **{k.removeprefix("ETLE_").lower(): v for k, v in env.items()}  # type: ignore[arg-type]
    )
    rt = build_runtime(settings)
    upgrade(rt.engine)
    frames = json.loads((ROOT / "sample_frames" / "frames.json").read_text())
    with session_scope(rt.sessions) as session:
        cam = factories.camera(session, road="Jl. M.H. Thamrin")
        evidence = []
        for item in frames:
            data = (ROOT / "sample_frames" / item["file"]).read_bytes()
            digest = rt.evidence.put(data)
            src = factories.frame(session, cam, sha256=digest, size_bytes=len(data))
            evidence.append((src, item["plate_box"]))
        reviewer = factories.officer(session)
    done = 0
    while done < notices:
        with session_scope(rt.sessions) as session:
            for _ in range(min(500, notices - done)):
                src, box = evidence[done % len(evidence)]
                plate = f"B{1 + done % 1999}{'ABCDEFGHJK'[done // 1999 % 10]}{'XYZ'[done % 3]}"
                holder = factories.owner(session, phone=None, email=f"owner{done}@example.id")
                factories.vehicle(session, plate=plate, owner=holder)
                read = factories.plate_read(session, src, text=plate, box=box, index=done)
                case = factories.case(
                    session,
                    camera=cam,
                    frame=src,
                    plate=plate,
                    owner_id=holder.id,
                    plate_read_id=read.id,
                    evidence_sha256=src.sha256,
                )
                confirm(session, case=case, officer=reviewer, settings=rt.settings)
                done += 1
        print(f"\rsetup: {done}/{notices} confirmed notices", end="", file=sys.stderr)
    print(file=sys.stderr)
    rt.close()
    return env


# -- single-core step costs -------------------------------------------------------------------
def step_costs(env: dict[str, str], repeat: int = 30) -> dict[str, float]:
    from api.runtime import build_runtime
    from api.settings import load_app_settings
    from etle.db import session_scope
    from etle.notices.models import Notice
    from notices.channels.base import Outgoing
    from notices.channels.email import email_bytes
    from notices.dispatch import letter_for
    from notices.render import render_letter

    settings = load_app_settings(
        **{k.removeprefix("ETLE_").lower(): v for k, v in env.items()}  # type: ignore[arg-type]
    )
    rt = build_runtime(settings)
    ctx = rt.dispatch

    def timed(fn):  # type: ignore[no-untyped-def]
        fn()
        start = time.perf_counter()
        for _ in range(repeat):
            out = fn()
        return (time.perf_counter() - start) / repeat * 1000, out

    with session_scope(rt.sessions) as session:
        notice = session.get_one(Notice, 1)
        load_ms, letter = timed(lambda: letter_for(session, ctx, notice))
    render_ms, pdf = timed(lambda: render_letter(letter, ctx.wording))
    email_ms, _ = timed(
        lambda: email_bytes(
            Outgoing(letter, pdf, "k"), sender=settings.email_from, wording=ctx.wording, dkim=None
        )
    )
    before_ms = _renderer_before(letter, repeat)
    rt.close()
    return {
        "load_letter_ms": load_ms,
        "render_ms": render_ms,
        "build_email_ms": email_ms,
        "pdf_kb": len(pdf) / 1024,
        "before_image_and_render_ms": before_ms,
    }


def _renderer_before(letter, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """The obvious way this replaced: Pillow decodes, resizes and re-encodes the photo and the
    plate crop; fpdf2's multi_cell breaks the lines; the QR goes in as a PNG."""
    import segno
    from fpdf import FPDF
    from PIL import Image

    def once() -> None:
        with Image.open(io.BytesIO(letter.evidence_jpeg)) as image:
            rgb = image.convert("RGB")
            rgb.thumbnail((1600, 1600))
            photo = io.BytesIO()
            rgb.save(photo, format="JPEG", quality=85)
            x1, y1, x2, y2 = letter.plate_box
            crop = io.BytesIO()
            image.convert("RGB").crop((x1, y1, x2, y2)).save(crop, format="JPEG", quality=90)
        qr = io.BytesIO()
        segno.make(letter.verify_url, error="m").save(qr, kind="png", scale=6, border=2)
        pdf = FPDF(format="A4")
        pdf.add_page()
        pdf.set_font("Helvetica", "", 10)
        for _ in range(5):
            pdf.multi_cell(
                0, 5, "Kendaraan bermotor dengan nomor polisi B 1234 ABC " * 5, new_x="LMARGIN"
            )
        pdf.image(io.BytesIO(photo.getvalue()), x=18, w=110)
        pdf.image(io.BytesIO(crop.getvalue()), x=133, w=59)
        pdf.image(io.BytesIO(qr.getvalue()), x=18, w=32)
        pdf.output()

    once()
    start = time.perf_counter()
    for _ in range(repeat):
        once()
    return (time.perf_counter() - start) / repeat * 1000


# -- the run --------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="etle worker processes")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from tests.notices.peers import free_port

    port = free_port()
    counts = multiprocessing.Array("q", 2)
    sink = multiprocessing.Process(target=run_sink, args=(port, counts), daemon=True)
    sink.start()
    with tempfile.TemporaryDirectory(prefix="etle-bench-notices-") as tmp:
        env = setup(Path(tmp) / "data", args.database_url, args.notices, port)
        costs = step_costs(env)
        full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("ETLE_")}, **env}
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from api.cli.main import main; main()",
                    "worker",
                    "--burst",
                ],
                cwd=ROOT,
                env=full_env,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        while counts[0] < args.notices and all(w.poll() is None for w in workers):
            time.sleep(0.2)
            print(f"\rsent {counts[0]}/{args.notices}", end="", file=sys.stderr)
        for w in workers:
            w.wait()
        elapsed = time.perf_counter() - started
        print(file=sys.stderr)
    sink.terminate()
    result = {
        "notices": args.notices,
        "emails_received": int(counts[0]),
        "megabytes_sent": round(counts[1] / 1e6, 1),
        "workers": args.workers,
        "database": "postgresql" if args.database_url else "sqlite",
        "seconds": round(elapsed, 1),
        "notices_per_second": round(counts[0] / elapsed, 1),
        "single_core_ms": {k: round(v, 2) for k, v in costs.items()},
        "render_speedup_vs_before": round(
            costs["before_image_and_render_ms"] / costs["render_ms"], 1
        ),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['emails_received']} of {args.notices} notices rendered and emailed in "
        f"{result['seconds']} s with {args.workers} worker processes on {result['database']}: "
        f"{result['notices_per_second']} notices/s ({result['megabytes_sent']} MB over SMTP)"
    )
    c = result["single_core_ms"]
    print(
        f"one letter, one core: load {c['load_letter_ms']} ms, render {c['render_ms']} ms "
        f"({c['pdf_kb']:.0f} KB), build email {c['build_email_ms']} ms"
    )
    print(
        f"renderer before this change: {c['before_image_and_render_ms']} ms per letter "
        f"(x{result['render_speedup_vs_before']} slower)"
    )


if __name__ == "__main__":
    main()
