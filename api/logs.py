"""Structured logs: one JSON object per line, and nothing personal or secret in them.

Invariant 7 of the design: logs name rows by id, never by plate, owner, address, email, phone
or token. Our own messages follow that rule where they are written; this module makes sure the
rest cannot break it:

* **exception text is left out**: a database error quotes the values of the row it refused (a
  plate, an email address), so a logged exception carries its type and its stack (file, line,
  function), never its message;
* **request paths are reduced to their shape**: uvicorn's access log would print a portal
  verification token or a notice number from the URL; every segment that is not a plain lower-
  case word becomes `:param`, query strings are dropped, and the client address is left out;
* **libraries that log values are quietened**: httpx logs every gateway URL at INFO, and
  SQLAlchemy's engine logger prints statement parameters.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

# A path segment kept as it is: route words (`frames`, `verify`, `v1`); anything else is data.
_WORD = re.compile(r"^(?:[a-z][a-z_-]{0,39}|v\d{1,2})$")
# Loggers that print values (URLs with phone numbers, SQL parameters) at INFO or below.
QUIET = ("httpx", "httpx2", "httpcore", "sqlalchemy.engine", "aiosmtplib", "mail.log", "multipart")


def path_shape(path: str) -> str:
    """`/api/v1/public/verify/Xy9...` -> `/api/v1/public/verify/:param`."""
    path = path.split("?", 1)[0]
    return "/".join(s if not s or _WORD.match(s) else ":param" for s in path.split("/"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if (
            record.name == "uvicorn.access"
            and isinstance(record.args, tuple)
            and len(record.args) == 5
        ):
            # uvicorn: (client address, method, path, HTTP version, status)
            _client, method, path, _version, status = record.args
            entry.update(message="request", method=method, path=path_shape(str(path)))
            entry["status"] = status
        elif record.name == "uvicorn.access":  # an access line of another shape: say nothing
            entry["message"] = "request"
        else:
            entry["message"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            kind, _value, tb = record.exc_info
            entry["exception"] = kind.__qualname__
            entry["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(tb)
            ][-8:]
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The same rules for a terminal: one readable line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = json.loads(JsonFormatter().format(record))
        extra = {k: v for k, v in entry.items() if k not in ("time", "level", "logger", "message")}
        tail = " ".join(f"{k}={v}" for k, v in extra.items())
        return (
            f"{entry['time']} {record.levelname} {record.name}: {entry['message']} {tail}".rstrip()
        )


def formatter_for(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure_logging(
    kind: str = "json", level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Route every logger (ours, uvicorn's, Huey's) through one handler on stderr."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for(kind))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "huey"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def uvicorn_log_config(kind: str) -> dict[str, Any]:
    """uvicorn's `log_config` sending its loggers (errors, access) through our formatter."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"etle": {"()": f"api.logs.{type(formatter_for(kind)).__name__}"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "etle"}},
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
    }
