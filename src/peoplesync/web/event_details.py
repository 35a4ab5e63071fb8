"""A timeline event's details as a person reads them: one "key: value" line each, nested
objects by dotted key, lists joined by commas (never raw JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value) or "—"
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items()) or "—"
    return str(value)


def detail_lines(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The details as (label, text) pairs, in their order; a nested object's keys are
    dotted onto its own (``error.code``)."""
    lines: list[tuple[str, str]] = []
    for key, value in data.items():
        label = f"{prefix}{key}".replace("_", " ")
        if isinstance(value, Mapping) and value:
            lines += detail_lines(value, f"{prefix}{key}.")
        else:
            lines.append((label, _text(value)))
    return lines


__all__ = ["detail_lines"]
