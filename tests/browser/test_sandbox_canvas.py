"""The activities configured on the Marketing Cloud sandbox's canvas, in Chromium.

``peoplesync sandbox marketing-cloud`` and ``peoplesync serve`` run as processes on two
origins. The canvas loads the activity's config.json from peoplesync, frames its
configuration page, answers it as Journey Builder does (initActivity, the entry data
extension's schema, the journey's activities), keeps what updateActivity hands back in its
data dir and calls save / validate / publish with a JWT signed by the unit's secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.browser.conftest import ARTIFACTS, _free_port, run_cli
from tests.served_org import PEOPLESYNC, served_sandbox

ENTRY = "spring_audience"


@dataclass(frozen=True)
class Canvas:
    """The sandbox (its URL, data dir and Basic credentials) and peoplesync's web address."""

    sandbox: str
    data_dir: Path
    credentials: dict[str, str]
    web: str
    entry_id: str

    def url(self, activity: str) -> str:
        return f"{self.sandbox}/journeys/canvas?entry={ENTRY}&activity={quote(activity, safe='')}"

    def saved(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.data_dir / "canvas.json").read_text())
        return {each["key"]: each for each in state["activities"]}


def _entry_extension(info: dict[str, Any]) -> str:
    base = info["rest_url"].rstrip("/")
    token = httpx.post(
        f"{base}/v2/token",
        json={
            "grant_type": "client_credentials",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
        },
    ).json()["access_token"]
    created = httpx.post(
        f"{base}/data/v1/customobjects",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "name": "Spring audience",
            "key": ENTRY,
            "isSendable": True,
            "fields": [
                {"name": "ContactKey", "type": "Text", "length": 50, "isPrimaryKey": True},
                {"name": "FirstName", "type": "Text", "length": 50},
                {"name": "Mobile", "type": "Phone"},
                {"name": "WorkPhone", "type": "Phone"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.fixture
def canvas(tmp_path: Path) -> Iterator[Canvas]:
    with served_sandbox("marketing-cloud", tmp_path / "mc", "--http") as info:
        sandbox = info["rest_url"].rstrip("/")
        entry_id = _entry_extension(info)
        web_port = _free_port()
        env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
            "PEOPLESYNC_MC_CLIENT_SECRET": "client-secret",
            "PEOPLESYNC_MC_JWT_SECRET": info["jwt_secret"],
            "PEOPLESYNC_JOURNEY_FRAME_ANCESTORS": sandbox,
        }
        env.pop("PEOPLESYNC_DATABASE_URL", None)
        run_cli(
            env,
            "marketing-cloud",
            "add",
            "--name",
            "acme",
            "--mid",
            info["mid"],
            "--client-id",
            info["client_id"],
            "--auth-url",
            "https://acme.auth.example",
        )
        log = (tmp_path / "serve.log").open("w")
        web = subprocess.Popen(
            [*PEOPLESYNC, "serve", "--port", str(web_port)], env=env, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{web_port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if web.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "serve.log").read_text())
                time.sleep(0.2)
            credentials = {"username": info["client_id"], "password": info["client_secret"]}
            yield Canvas(sandbox, tmp_path / "mc", credentials, url, entry_id)
        finally:
            web.terminate()
            web.wait(timeout=20)
            log.close()


def _merged(activity: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    merged: dict[str, Any] = {}
    phones = []
    for pair in activity["arguments"]["execute"]["inArguments"]:
        for key, value in pair.items():
            if key == "phone":
                phones.append(value)
            else:
                merged.setdefault(key, value)
    return merged, phones


async def test_the_message_activity_is_configured_on_the_canvas(
    browser: Any, canvas: Canvas
) -> None:
    context = await browser.new_context(http_credentials=canvas.credentials)
    page = await context.new_page()
    await page.goto(canvas.url(f"{canvas.web}/journey/acme/message/"))
    # configOnDrop: the configuration opens as the activity lands on the canvas
    frame = page.frame_locator("#activity-frame")
    await frame.get_by_text("Editing the activity.").wait_for()
    await page.get_by_role("button", name="Done").click()  # nothing filled in yet
    await frame.get_by_text("Write the message text.").wait_for()
    assert await page.locator("#modal").is_visible()
    assert not canvas.saved()["REST-1"]["activity"]["metaData"]["isConfigured"]

    await frame.locator('select[name="channel"]').select_option("sms")
    await frame.locator('input[name="from"]').fill("ACME")
    await frame.locator('textarea[name="text"]').fill("Hi ")
    await frame.locator("#merge-field").select_option(label="FirstName")
    await frame.get_by_role("checkbox", name="Mobile").check()
    await page.screenshot(path=ARTIFACTS / "canvas-01-configuring.png", full_page=True)
    await page.get_by_role("button", name="Done").click()
    await page.get_by_text("Saved REST-1.").wait_for()
    assert not await page.locator("#modal").is_visible()

    event = f"Event.DEAudience-{canvas.entry_id}"
    held = canvas.saved()["REST-1"]
    merged, phones = _merged(held["activity"])
    assert held["activity"]["metaData"]["isConfigured"] is True
    assert merged["channel"] == "sms" and merged["from"] == "ACME"
    assert merged["text"] == f"Hi {{{{{event}.FirstName}}}}"
    assert phones == [f"{{{{{event}.Mobile}}}}"]
    assert merged["contactKey"] == "{{Contact.Key}}"  # config.json's own bindings kept
    save = held["answers"]["save"]
    assert save["status"] == 200 and save["jwt"] is True  # peoplesync took the signature
    assert save["url"] == f"{canvas.web}/journey/acme/message/save"
    shown = await page.locator("li[data-key='REST-1'] pre.saved").text_content()
    assert f"{event}.Mobile" in (shown or "")

    await page.get_by_role("button", name="Activate").click()
    await page.get_by_text("Activated").wait_for()
    answers = canvas.saved()["REST-1"]["answers"]
    assert answers["validate"]["status"] == 200 and answers["publish"]["status"] == 200
    shown = await page.locator("li[data-key='REST-1'] pre.answers").text_content()
    assert '"publish"' in (shown or "")
    await page.screenshot(path=ARTIFACTS / "canvas-02-activated.png", full_page=True)
    await context.close()


async def test_the_reports_activity_reads_the_canvas_activities(
    browser: Any, canvas: Canvas
) -> None:
    context = await browser.new_context(http_credentials=canvas.credentials)
    page = await context.new_page()
    await page.goto(canvas.url(f"{canvas.web}/journey/acme/message/"))
    await page.frame_locator("#activity-frame").get_by_text("Editing the activity.").wait_for()
    await page.get_by_role("button", name="Cancel").click()
    assert not await page.locator("#modal").is_visible()

    await page.goto(canvas.url(f"{canvas.web}/journey/acme/reports/config.json"))
    frame = page.frame_locator("#activity-frame")
    await frame.get_by_text("Editing the activity.").wait_for()
    select = frame.locator('select[name="messageActivity"]')
    options = await select.locator("option").all_text_contents()
    assert options[1:] == ["peoplesync Message (REST-1)"]  # the canvas' others, not itself
    await select.select_option(label="peoplesync Message (REST-1)")
    await frame.locator('select[name="report"]').select_option("clicks")
    await page.get_by_role("button", name="Done").click()
    await page.get_by_text("Saved REST-2.").wait_for()
    held = canvas.saved()["REST-2"]
    merged, _ = _merged(held["activity"])
    assert merged["messageId"] == "{{Interaction.REST-1.messageId}}"
    assert merged["report"] == "clicks"
    assert held["answers"]["save"]["status"] == 200
    await context.close()


async def test_an_address_without_config_json_is_refused_clearly(
    browser: Any, canvas: Canvas
) -> None:
    context = await browser.new_context(http_credentials=canvas.credentials)
    page = await context.new_page()
    silent = f"http://127.0.0.1:{_free_port()}/journey/acme/message/"
    await page.goto(canvas.url(silent))
    error = page.locator("#canvas-error")
    assert f"Could not load config.json from {silent}config.json" in (
        await error.text_content() or ""
    )
    await page.goto(canvas.url(f"{canvas.web}/journey/nobody/message/"))
    assert "HTTP 404" in (await error.text_content() or "")
    assert await page.locator("#activities li[data-key]").count() == 0
    await page.screenshot(path=ARTIFACTS / "canvas-03-error.png")
    await context.close()
