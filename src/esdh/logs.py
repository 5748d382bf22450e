"""Structured logs: one JSON object per line, or a plain line for a person at a terminal.

Library code calls :func:`event` with an event name and its fields; nothing is printed until an
application (the CLI, the API) calls :func:`configure`. Every record carries the run id of the run it
belongs to (:func:`run_context`), so the lines of concurrent runs can be told apart.

Environment: ``ESDH_LOG_LEVEL`` (debug, info, warning, error; default error: a failure the caller reports
anyway, such as data that breaks its spec, is logged as a warning, so that a person at a terminal is not
told twice) and ``ESDH_LOG_FORMAT``
(json, text, or auto: text on a terminal, JSON otherwise). Options of the CLI take precedence.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

LOGGER = "esdh"
LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("auto", "json", "text")

_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("esdh_run_id", default=None)


def logger() -> logging.Logger:
    return logging.getLogger(LOGGER)


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``name`` (a dotted event name such as ``run.published``) with its fields."""
    log = logger()
    if log.isEnabledFor(level):
        log.log(level, name, extra={"esdh_fields": fields}, stacklevel=2)


@contextmanager
def run_context(run_id: str) -> Iterator[None]:
    """Tag every record logged inside the block with ``run_id``."""
    token = _run_id.set(run_id)
    try:
        yield
    finally:
        _run_id.reset(token)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value if isinstance(value, str | int | float | bool | type(None) | list | dict) else str(value)


class JsonFormatter(logging.Formatter):
    """``{"timestamp", "level", "event", "run_id", ...fields}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        data: dict[str, Any] = {"timestamp": stamp.replace("+00:00", "Z"), "level": record.levelname.lower(),
                                "event": record.getMessage(), "run_id": getattr(record, "run_id", None),
                                "logger": record.name}
        for key, value in getattr(record, "esdh_fields", {}).items():
            data.setdefault(key, _plain(value))
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``12:00:01 info  run.published dataset=retail version=1.0.0`` for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC).strftime("%H:%M:%S")
        fields = " ".join(f"{k}={_plain(v)}" for k, v in getattr(record, "esdh_fields", {}).items())
        run = getattr(record, "run_id", None)
        head = f"{stamp} {record.levelname.lower():<7} {record.getMessage()}"
        return " ".join(p for p in (head, fields, f"run={run}" if run else "") if p)


class _RunIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = _run_id.get()
        return True


def configure(level: str | None = None, fmt: str | None = None, stream: TextIO | None = None) -> None:
    """Send ESDH's log records to ``stream`` (stderr) at ``level`` in ``fmt``; None takes the environment
    variable, then the default. Calling it again replaces the earlier configuration."""
    from esdh.errors import UsageError

    level = (level or os.environ.get("ESDH_LOG_LEVEL") or "error").lower()
    fmt = (fmt or os.environ.get("ESDH_LOG_FORMAT") or "auto").lower()
    if level not in LEVELS:
        raise UsageError(f"unknown log level '{level}'; choose from {', '.join(LEVELS)}")
    if fmt not in FORMATS:
        raise UsageError(f"unknown log format '{fmt}'; choose from {', '.join(FORMATS)}")
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if hasattr(stream, "isatty") and stream.isatty() else "json"
    log = logger()
    for handler in list(log.handlers):
        if getattr(handler, "esdh_owned", False):
            log.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.esdh_owned = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_RunIdFilter())
    log.addHandler(handler)
    log.setLevel(level.upper())
    log.propagate = False
