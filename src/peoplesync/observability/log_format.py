"""Structured logs: one JSON object per line, carrying the run's context (integration, job).

``log_context(integration=..., job=...)`` sets fields for everything logged inside it, tasks
started inside it included (asyncio copies the context into new tasks), so every record of a
worker's run names its integration and job without each call passing them.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["text", "json"]

_CONTEXT: ContextVar[Mapping[str, str] | None] = ContextVar("peoplesync_log_context", default=None)
# Attributes every LogRecord has: anything else was passed with ``extra=`` and is kept.
# uvicorn's ``color_message`` repeats the message with terminal colours: left out.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Add ``fields`` to every record logged inside the block (and its tasks)."""
    token = _CONTEXT.set({**current_context(), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> Mapping[str, str]:
    """The fields ``log_context`` has set here."""
    return _CONTEXT.get() or {}


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, context, extras, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **current_context(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry.setdefault(key, value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(
    log_format: LogFormat, level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    """Send every logger's records to ``stream`` (stderr) as JSON lines or plain text."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
