"""The canvas' calls to an activity's server: its ``config.json``, and ``save`` /
``validate`` / ``publish`` as Journey Builder makes them (a JWT body when ``useJwt``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from peoplesync.sandbox.marketing_cloud.canvas_model import CanvasProblem, Json, check_config

HttpFactory = Callable[[], httpx.AsyncClient]
ANSWER_SHOWN = 2000  # characters of an endpoint's answer kept for the page


def default_http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=20.0, follow_redirects=True)


async def fetch_config(http: httpx.AsyncClient, url: str) -> Json:
    """The activity's config.json, or ``CanvasProblem`` saying why it could not be had."""
    try:
        answer = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise CanvasProblem(
            f"Could not load config.json from {url}: {type(error).__name__} {error}".rstrip()
        ) from None
    if answer.status_code != 200:
        raise CanvasProblem(f"Could not load config.json from {url}: HTTP {answer.status_code}.")
    try:
        body = answer.json()
    except ValueError:
        raise CanvasProblem(f"Could not load config.json from {url}: not JSON.") from None
    return check_config(body, url)


def _shown(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text[:ANSWER_SHOWN]


async def call_step(
    http: httpx.AsyncClient,
    call: tuple[str, bool, float],
    body: Json,
    jwt_secret: str,
) -> Json:
    """POST one lifecycle step; the answer as the page shows it (``status`` 0: no answer)."""
    url, use_jwt, timeout = call
    if use_jwt:
        content = jwt.encode(body, jwt_secret, algorithm="HS256").encode()
        kind = "application/jwt"
    else:
        content = json.dumps(body).encode()
        kind = "application/json"
    try:
        answer = await http.post(
            url, content=content, headers={"Content-Type": kind}, timeout=timeout
        )
    except httpx.HTTPError as error:
        return {"url": url, "jwt": use_jwt, "status": 0, "error": type(error).__name__}
    return {"url": url, "jwt": use_jwt, "status": answer.status_code, "body": _shown(answer)}
