"""What the sync steps pages share: their URLs, form texts, and how a refused change reads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import FormData

from peoplesync.errors import PeopleSyncError
from peoplesync.sync.mapping import Mode
from peoplesync.sync.profile.model import ProfileError
from peoplesync.sync.profile.store import SaveResult

MAX_LINES = 500
MODES = {Mode.DONT_SYNC: "Don't sync", Mode.FILL: "Fill (only empty)", Mode.OVERWRITE: "Overwrite"}
Row = dict[str, Any]


def steps_url(name: str, **query: str) -> str:
    """The steps list of integration ``name``."""
    tail = f"?{urlencode(query)}" if query else ""
    return f"/salesforce/{quote(name, safe='')}/steps{tail}"


def step_url(name: str, step: str, **query: str) -> str:
    """The page of one step."""
    tail = f"?{urlencode(query)}" if query else ""
    return f"/salesforce/{quote(name, safe='')}/steps/{quote(step, safe='')}{tail}"


def saved_query(result: SaveResult) -> dict[str, str]:
    """The query a page shows a saved change with (and the steps due a resync)."""
    return {"saved": "1", "resync": ",".join(result.resync)}


def form_texts(form: FormData) -> dict[str, str]:
    """The text fields of a posted form."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


def error_text(error: PeopleSyncError) -> str:
    """A refused change as one line, every problem with its hint."""
    if isinstance(error, ProfileError):
        return "; ".join(p.text_on_web for p in error.problems)  # each with its hint
    return error.message + (f" ({error.hint_on_web})" if error.hint_on_web else "")


__all__ = [
    "MAX_LINES",
    "MODES",
    "Row",
    "error_text",
    "form_texts",
    "saved_query",
    "step_url",
    "steps_url",
]
