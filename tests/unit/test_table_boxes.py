"""Every table of the web app's pages sits in a box that scrolls sideways (.table-scroll), so a
narrow window scrolls the table inside its card, never the whole page."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "peoplesync" / "web" / "templates"


def test_every_table_is_wrapped_in_a_scrolling_box() -> None:
    unwrapped: list[str] = []
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text()
        for found in re.finditer(r"<table\b", text):
            before = text[: found.start()].rstrip()
            if not before.endswith('<div class="table-scroll">'):
                line = text.count("\n", 0, found.start()) + 1
                unwrapped.append(f"{template.name}:{line}")
    assert unwrapped == []
    css = (TEMPLATES.parent / "static" / "app.css").read_text()
    assert ".table-scroll { overflow-x: auto; }" in css
