"""The canvas' journey kept in the sandbox's data dir (``canvas.json``): the entry data
extension, each activity's config.json and saved configuration, and the endpoints' answers."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

from peoplesync.sandbox.marketing_cloud.canvas_model import CanvasProblem, Json


class CanvasState:
    """One draft journey per sandbox; every change is written before it is answered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = asyncio.Lock()  # one change at a time: read, change, write

    async def load(self) -> Json:
        return await asyncio.to_thread(self._load)

    async def write(self, state: Json) -> None:
        await asyncio.to_thread(self._write, state)

    def _load(self) -> Json:
        if not self.path.exists():
            return {
                "journey": {"id": str(uuid.uuid4()), "key": str(uuid.uuid4()), "name": "Canvas"},
                "entry": None,
                "activities": [],
            }
        try:
            loaded = json.loads(self.path.read_text())
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("activities"), list):
            raise CanvasProblem(
                f"{self.path} does not hold a canvas (JSON): move it away to start anew."
            )
        return loaded

    def _write(self, state: Json) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        spare = self.path.with_suffix(".tmp")
        spare.write_text(json.dumps(state, indent=2))
        os.replace(spare, self.path)


def held(state: Json, key: str) -> Json:
    """The canvas' entry for an activity key, or a problem naming the key."""
    for each in state["activities"]:
        if each["key"] == key:
            found: Json = each
            return found
    raise CanvasProblem(f"No activity {key} on the canvas.")


def by_config(state: Json, url: str) -> Json | None:
    for each in state["activities"]:
        if each["config_url"] == url:
            found: Json = each
            return found
    return None
