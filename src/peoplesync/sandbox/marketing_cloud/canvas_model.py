"""The canvas' journey as Journey Builder holds it: activities made from ``config.json``,
the entry data extension's schema, the interaction, and lifecycle call bodies (no I/O)."""

from __future__ import annotations

import copy
import uuid
from typing import Any
from urllib.parse import urljoin, urlsplit

Json = dict[str, Any]
LIFECYCLE = ("save", "validate", "publish")


class CanvasProblem(Exception):
    """Something the canvas cannot do, said so a person can fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def config_url(given: str) -> str:
    """The ``config.json`` address of an activity, given it or the activity's endpoint."""
    text = given.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CanvasProblem(f"activity: {text or '(empty)'} is not an http(s) address.")
    if parts.path.endswith("config.json"):
        return text
    return urljoin(text.rstrip("/") + "/", "config.json")


def ui_url(config: Json, url: str) -> str:
    """The page framed in the configuration modal: ``userInterfaces.configModal.url``
    (relative to config.json's address), else ``index.html`` beside config.json."""
    modal = (config.get("userInterfaces") or {}).get("configModal") or {}
    given = modal.get("url") if isinstance(modal, dict) else None
    return urljoin(url, given if isinstance(given, str) and given else "index.html")


def modal_size(config: Json) -> list[int]:
    """``[width, height]`` of the configuration modal (900 by 640 unless config.json says)."""
    modal = (config.get("userInterfaces") or {}).get("configModal") or {}
    found = modal if isinstance(modal, dict) else {}
    width, height = found.get("width"), found.get("height")
    return [
        width if isinstance(width, int) and 200 <= width <= 2000 else 900,
        height if isinstance(height, int) and 200 <= height <= 2000 else 640,
    ]


def check_config(config: object, url: str) -> Json:
    """``config`` as an activity's config.json, or the first thing wrong with it."""
    if not isinstance(config, dict):
        raise CanvasProblem(f"{url} did not answer a JSON object.")
    execute = (config.get("arguments") or {}).get("execute")
    if not isinstance(execute, dict) or not isinstance(execute.get("url"), str):
        raise CanvasProblem(f"{url}: arguments.execute.url is missing.")
    if config.get("type") not in ("REST", "RESTDECISION", "Rest", "RestDecision"):
        raise CanvasProblem(f"{url}: type {config.get('type')!r} is not REST or RESTDECISION.")
    steps = config.get("configurationArguments")
    if steps is not None and not isinstance(steps, dict):
        raise CanvasProblem(f"{url}: configurationArguments must be an object.")
    return config


def activity_name(config: Json) -> str:
    lang = config.get("lang") or {}
    english = lang.get("en-US") if isinstance(lang, dict) else None
    name = english.get("name") if isinstance(english, dict) else None
    return str(name) if name else "Custom activity"


def next_key(activities: list[Json], kind: str) -> str:
    """Journey Builder's activity keys: ``REST-1``, ``REST-2``... in the order dropped."""
    prefix = "REST" if kind.upper() == "REST" else "RESTDECISION"
    taken = {each["key"] for each in activities}
    number = 1
    while f"{prefix}-{number}" in taken:
        number += 1
    return f"{prefix}-{number}"


def new_activity(config: Json, key: str) -> Json:
    """The activity object Journey Builder sends with ``initActivity`` for a fresh drop."""
    activity: Json = {
        "id": str(uuid.uuid4()),
        "key": key,
        "name": activity_name(config),
        "type": config.get("type"),
        "arguments": copy.deepcopy(config.get("arguments") or {}),
        "configurationArguments": copy.deepcopy(config.get("configurationArguments") or {}),
        "metaData": copy.deepcopy(config.get("metaData") or {}),
        "schema": copy.deepcopy(config.get("schema") or {}),
        "editable": True,
    }
    if config.get("outcomes"):
        activity["outcomes"] = copy.deepcopy(config["outcomes"])
    return activity


def accept_update(held: Json, update: object) -> Json:
    """What ``updateActivity`` handed back, with the canvas' own key and id kept."""
    if not isinstance(update, dict):
        raise CanvasProblem("updateActivity: the activity must be a JSON object.")
    arguments = update.get("arguments")
    if not isinstance(arguments, dict):
        raise CanvasProblem(f"updateActivity {held['key']}: arguments must be an object.")
    execute = arguments.get("execute")
    if execute is not None and not isinstance(execute, dict):
        raise CanvasProblem(f"updateActivity {held['key']}: arguments.execute must be an object.")
    in_arguments = (execute or {}).get("inArguments", [])
    if not isinstance(in_arguments, list) or not all(isinstance(a, dict) for a in in_arguments):
        raise CanvasProblem(f"updateActivity {held['key']}: inArguments must be a list of objects.")
    return {**update, "key": held["key"], "id": held["id"]}


def event_key(extension: Json) -> str:
    """The entry event's key for a data extension entry source."""
    return f"DEAudience-{extension['id']}"


def entry_schema(extension: Json | None) -> list[Json]:
    """``requestedSchema``'s fields: the entry data extension's, bound as ``Event.<key>.<F>``."""
    if extension is None:
        return []
    key = event_key(extension)
    return [
        {
            "key": f"Event.{key}.{field['name']}",
            "name": field["name"],
            "type": field["type"],
            "length": field.get("length"),
            "default": field.get("defaultValue"),
            "isNullable": field.get("isNullable", True),
            "isPrimaryKey": field.get("isPrimaryKey", False),
        }
        for field in extension["fields"]
    ]


def interaction(journey: Json, activities: list[Json], extension: Json | None) -> Json:
    """``requestedInteraction``: the journey with its trigger and activities."""
    triggers = []
    if extension is not None:
        triggers.append(
            {
                "key": "TRIGGER",
                "name": extension["name"],
                "type": "EmailAudience",
                "metaData": {"eventDefinitionKey": event_key(extension)},
                "configurationArguments": {"dataExtensionId": extension["id"]},
            }
        )
    return {
        "id": journey["id"],
        "key": journey["key"],
        "name": journey["name"],
        "version": 1,
        "triggers": triggers,
        "activities": [copy.deepcopy(each["activity"]) for each in activities],
    }


def lifecycle_body(journey: Json, activity: Json, step: str) -> Json:
    """What Journey Builder POSTs to ``save``, ``validate``, ``publish`` (and ``stop``)."""
    return {
        "activityObjectID": activity["id"],
        "interactionId": journey["id"],
        "originalDefinitionId": journey["id"],
        "interactionKey": journey["key"],
        "interactionVersion": "1",
        "isPublished": step == "publish",
    }


def step_call(activity: Json, step: str) -> tuple[str, bool, float] | None:
    """``(url, useJwt, timeout seconds)`` of a lifecycle step, or ``None`` when the activity
    has no endpoint for it."""
    steps = activity.get("configurationArguments") or {}
    found = steps.get(step) if isinstance(steps, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("url"), str):
        return None
    timeout = found.get("timeout")
    seconds = float(timeout) / 1000 if isinstance(timeout, int | float) and timeout > 0 else 20.0
    return found["url"], bool(found.get("useJwt")), seconds
