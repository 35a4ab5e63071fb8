"""The sandbox's Journey Builder canvas: ``/journeys/canvas``.

It loads a custom activity's ``config.json`` (``?activity=<URL>``), puts the activity on a
draft journey whose entry source is one of the sandbox's data extensions (``?entry=<key>``),
and frames the activity's configuration page; ``canvas.js`` speaks Journey Builder's side of
the postMessage protocol. What ``updateActivity`` hands back is posted here, kept in
``canvas.json`` in the data dir, and ``save`` is called on the activity's endpoint;
*Activate* calls ``validate`` then ``publish``, each signed with the unit's JWT secret when
the activity asks for ``useJwt``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from peoplesync.sandbox.marketing_cloud import canvas_model as model
from peoplesync.sandbox.marketing_cloud.auth import Tokens
from peoplesync.sandbox.marketing_cloud.canvas_calls import (
    HttpFactory,
    call_step,
    default_http,
    fetch_config,
)
from peoplesync.sandbox.marketing_cloud.canvas_state import CanvasState, by_config, held
from peoplesync.sandbox.marketing_cloud.config import SandboxConfig
from peoplesync.sandbox.marketing_cloud.store import SandboxStore

MAX_ACTIVITY = 1_000_000  # bytes of an updateActivity payload
SCRIPT = Path(__file__).resolve().parent / "static" / "canvas.js"
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem}pre{background:#f6f6f6;padding:.5rem;"
    "max-height:24rem;overflow:auto;font-size:.8rem}.error{color:#b00020}"
    "#modal{border:2px solid #2f5d8a;padding:1rem;margin:1rem 0}#modal iframe{border:1px solid #ccc}"
    "li{margin:.5rem 0}form{margin:1rem 0}"
)


class Canvas:
    """The canvas' routes; the state lives in ``<data dir>/canvas.json``."""

    def __init__(
        self,
        config: SandboxConfig,
        tokens: Tokens,
        clock: Callable[[], float],
        http: HttpFactory = default_http,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.clock = clock
        self.http = http
        self.state = CanvasState(config.data_dir / "canvas.json")

    async def page(self, request: Request, store: SandboxStore) -> Response:
        """The canvas; ``?activity=`` drops an activity on it, ``?entry=`` picks the entry."""
        problem, status, opened = "", 200, None
        async with self.state.lock:
            try:
                state = await self.state.load()
            except model.CanvasProblem as error:
                return HTMLResponse(f"<p class='error'>{escape(error.message)}</p>", 500)
            try:
                entry = request.query_params.get("entry")
                if entry:
                    if await store.extension(f"key:{entry}") is None:
                        raise model.CanvasProblem(f"entry: no data extension keyed {entry}.")
                    state["entry"] = entry
                given = request.query_params.get("activity")
                if given is not None:
                    opened = await self._drop(state, given)
            except model.CanvasProblem as error:
                problem = error.message
                status = 502 if error.message.startswith("Could not load") else 400
            await self.state.write(state)
        extensions = await store.extensions()
        data = await self._data(request, store, state)
        data["open"] = opened
        choices = "".join(
            f"<option value='{escape(each['key'])}'"
            f"{' selected' if each['key'] == state['entry'] else ''}>"
            f"{escape(each['name'])} ({escape(each['key'])})</option>"
            for each in extensions
        )
        body = (
            "<form method='get' action='/journeys/canvas'>"
            "<label>Entry data extension <select name='entry'>"
            f"<option value=''>(choose)</option>{choices}</select></label> "
            "<label>Activity (endpoint or config.json URL) "
            "<input name='activity' size='60'></label> <button>Add to the canvas</button></form>"
            f"<p id='canvas-error' class='error' role='alert'>{escape(problem)}</p>"
            "<p id='canvas-status' role='status'></p>"
            "<div id='modal' hidden><h2 id='modal-title'>Configure</h2>"
            "<iframe id='activity-frame' title='activity configuration' width='900' height='640'>"
            "</iframe><p><button id='cancel' type='button'>Cancel</button> "
            "<button id='done' type='button'>Done</button></p></div>"
            "<ol id='activities'></ol>"
            "<p><button id='activate' type='button'>Activate</button></p>"
            f"<script type='application/json' id='canvas-data'>{_embedded(data)}</script>"
            "<script src='/journeys/canvas.js'></script>"
        )
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'><title>Journey canvas</title>"
            f"<style>{_STYLE}</style></head><body><h1>Journey canvas</h1>{body}</body></html>",
            status_code=status,
        )

    async def _drop(self, state: model.Json, given: str) -> str | None:
        """Load the activity's config.json; a new one is added (its key to open when its
        ``configOnDrop`` asks), a known one gets the config as it is now."""
        url = model.config_url(given)
        async with self.http() as http:
            config = await fetch_config(http, url)
        found = by_config(state, url)
        if found is not None:
            found["config"] = config
            found["ui"] = model.ui_url(config, url)
            return None
        key = model.next_key(
            [each["activity"] for each in state["activities"]], str(config["type"])
        )
        state["activities"].append(
            {
                "key": key,
                "config_url": url,
                "config": config,
                "ui": model.ui_url(config, url),
                "activity": model.new_activity(config, key),
                "answers": {},
            }
        )
        return key if (config.get("metaData") or {}).get("configOnDrop") else None

    async def _data(self, request: Request, store: SandboxStore, state: model.Json) -> model.Json:
        """What canvas.js works from: activities, schema, interaction, tokens, endpoints."""
        extension = await store.extension(f"key:{state['entry']}") if state["entry"] else None
        token, lifetime = self.tokens.issue()
        base = str(request.base_url).rstrip("/")
        return {
            "entry": state["entry"],
            "activities": [
                {
                    "key": each["key"],
                    "name": each["activity"].get("name"),
                    "ui": each["ui"],
                    "size": model.modal_size(each["config"]),
                    "configured": bool(
                        (each["activity"].get("metaData") or {}).get("isConfigured")
                    ),
                    "activity": each["activity"],
                    "answers": each["answers"],
                }
                for each in state["activities"]
            ],
            "schema": model.entry_schema(extension),
            "interaction": model.interaction(state["journey"], state["activities"], extension),
            "tokens": {
                "token": token,
                "fuel2token": token,
                "expires": int((self.clock() + lifetime) * 1000),
                "stackKey": "S0",
            },
            "endpoints": {"restHost": request.url.netloc, "fuelapiRestHost": f"{base}/"},
        }

    async def save(self, request: Request, store: SandboxStore) -> Response:
        """``POST /journeys/canvas/activities/{key}``: keep ``updateActivity``'s payload and
        call the activity's ``save`` endpoint as Journey Builder does when a journey is saved."""
        if not request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"error": "send the activity as application/json"}, 415)
        raw = await request.body()
        if len(raw) > MAX_ACTIVITY:
            return JSONResponse({"error": "the activity is over 1 MB"}, 413)
        try:
            update = json.loads(raw)
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, 400)
        async with self.state.lock:
            try:
                state = await self.state.load()
                entry = held(state, request.path_params["key"])
                entry["activity"] = model.accept_update(entry["activity"], update)
            except model.CanvasProblem as error:
                return JSONResponse({"error": error.message}, 400)
            entry["answers"] = await self._calls(state["journey"], entry["activity"], ("save",))
            await self.state.write(state)
        return JSONResponse(await self._data(request, store, state))

    async def activate(self, request: Request, store: SandboxStore) -> Response:
        """``POST /journeys/canvas/activate``: ``validate`` then ``publish`` on each activity;
        an activity not configured, or a refused ``validate``, stops its publish."""
        async with self.state.lock:
            try:
                state = await self.state.load()
            except model.CanvasProblem as error:
                return JSONResponse({"error": error.message}, 500)
            for entry in state["activities"]:
                activity = entry["activity"]
                saved = {k: v for k, v in entry["answers"].items() if k == "save"}  # kept
                if not (activity.get("metaData") or {}).get("isConfigured"):
                    entry["answers"] = saved | {
                        "validate": {"status": 0, "error": "not configured"}
                    }
                    continue
                answers = await self._calls(state["journey"], activity, ("validate",))
                if 200 <= answers["validate"]["status"] < 300:
                    answers |= await self._calls(state["journey"], activity, ("publish",))
                entry["answers"] = saved | answers
            await self.state.write(state)
        return JSONResponse(await self._data(request, store, state))

    async def _calls(
        self, journey: model.Json, activity: model.Json, steps: tuple[str, ...]
    ) -> model.Json:
        answers: model.Json = {}
        async with self.http() as http:
            for step in steps:
                call = model.step_call(activity, step)
                if call is None:
                    answers[step] = {"status": 0, "error": f"no {step} endpoint in config.json"}
                    continue
                body = model.lifecycle_body(journey, activity, step)
                answers[step] = await call_step(http, call, body, self.config.jwt_secret)
        return answers

    async def script(self, _: Request) -> Response:
        return FileResponse(SCRIPT, media_type="text/javascript")


def _embedded(data: model.Json) -> str:
    """JSON safe inside a ``<script>`` element."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
