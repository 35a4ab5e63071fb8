"""The Message activity's configuration page inside a Journey Builder stand-in, in Chromium.

A host page on another origin frames the page and speaks Journey Builder's side of the
postMessage protocol: it answers ``ready`` with ``initActivity`` and ``requestSchema`` with
the entry data's fields, and keeps what ``updateActivity`` hands back.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import _free_port, run_cli
from tests.served_org import PEOPLESYNC

HOST_PAGE = """<!doctype html><html><body>
<iframe id="activity" width="900" height="900"></iframe>
<script>
window.saved = null; window.asked = [];
const frame = document.getElementById("activity");
frame.src = location.hash === "#reports" ? "{reports}" : "{ui}";
function post(event, arg) {{
  frame.contentWindow.postMessage(JSON.stringify({{e: event, z1: arg}}), "*");
}}
window.addEventListener("message", (event) => {{
  const message = JSON.parse(event.data);
  window.asked.push(message.e);
  if (message.e === "ready" && window.asked.filter((e) => e === "ready").length === 1) {{
    post("initActivity", {{
      key: location.hash === "#reports" ? "REST-2" : "REST-1", name: "Spring SMS",
      arguments: {{execute: {{inArguments: [{{contactKey: "{{{{Contact.Key}}}}"}}]}}}},
      metaData: {{isConfigured: false}}
    }});
  }}
  if (message.e === "requestSchema") {{
    post("requestedSchema", {{schema: [
      {{key: "Event.DEAudience-1.FirstName", name: "FirstName", type: "Text"}},
      {{key: "Event.DEAudience-1.Mobile", name: "Mobile", type: "Phone"}},
      {{key: "Event.DEAudience-1.WorkPhone", name: "WorkPhone", type: "Phone"}}
    ]}});
  }}
  if (message.e === "requestInteraction") {{
    post("requestedInteraction", {{activities: [
      {{key: "REST-1", name: "Spring SMS", type: "REST"}},
      {{key: "WAIT-1", name: "Wait 1 day", type: "WAIT"}},
      {{key: "REST-2", name: "Reports", type: "REST"}}
    ]}});
  }}
  if (message.e === "updateActivity") {{ window.saved = message.z1; }}
}});
</script></body></html>"""


@pytest.fixture
def journey_host(tmp_path: Path) -> Iterator[str]:
    """peoplesync serve with a business unit, and a host page on another port that frames it."""
    host_port, web_port = _free_port(), _free_port()
    host_origin = f"http://127.0.0.1:{host_port}"
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
        "PEOPLESYNC_MC_CLIENT_SECRET": "client-secret",
        "PEOPLESYNC_JOURNEY_FRAME_ANCESTORS": host_origin,
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    run_cli(
        env,
        "marketing-cloud",
        "add",
        "--name",
        "acme",
        "--mid",
        "5100",
        "--client-id",
        "c",
        "--auth-url",
        "https://acme.auth.example",
    )
    log = (tmp_path / "serve.log").open("w")
    web = subprocess.Popen(
        [*PEOPLESYNC, "serve", "--port", str(web_port)], env=env, stdout=log, stderr=log
    )
    site = tmp_path / "host"
    site.mkdir()
    ui = f"http://127.0.0.1:{web_port}/journey/acme/message/ui"
    reports = ui.replace("/message/ui", "/reports/ui")
    (site / "index.html").write_text(HOST_PAGE.format(ui=ui, reports=reports))
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    host = ThreadingHTTPServer(("127.0.0.1", host_port), handler)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ui, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "serve.log").read_text())
            time.sleep(0.2)
        yield f"{host_origin}/index.html"
    finally:
        host.shutdown()
        host.server_close()
        web.terminate()
        web.wait(timeout=20)
        log.close()


async def test_the_activity_is_configured_inside_the_canvas(
    browser: Any, journey_host: str
) -> None:
    page = await browser.new_page()
    await page.goto(journey_host)
    frame = page.frame_locator("#activity")
    await frame.get_by_text("Editing the activity.").wait_for()
    await frame.get_by_role("button", name="Save").click()  # the obvious mistake: empty form
    await frame.get_by_text("Write the message text.").wait_for()
    await frame.get_by_text("Choose at least one Phone field").wait_for()
    assert await page.evaluate("window.saved") is None
    await frame.locator('textarea[name="text"]').fill("Hello ")
    await frame.locator("#merge-field").select_option("{{Event.DEAudience-1.FirstName}}")
    await frame.get_by_role("checkbox", name="WorkPhone").check()
    await frame.get_by_role("checkbox", name="Mobile").check()
    await frame.get_by_role("checkbox", name="Track clicks").check()
    await frame.locator('input[name="speedLimitAmount"]').fill("500")
    await frame.get_by_role("button", name="+ Add custom callback data").click()
    await frame.locator('input[name="callbackName"]').fill("Offer")
    await frame.locator('input[name="callbackValue"]').fill("X1")
    await frame.get_by_role("button", name="Save").click()
    await frame.get_by_text("Saved.").wait_for()
    # "Saved." shows in the frame when it posts updateActivity; the canvas gets it after.
    await page.wait_for_function("window.saved !== null")
    saved = await page.evaluate("window.saved")
    pairs = saved["arguments"]["execute"]["inArguments"]
    merged: dict[str, Any] = {}
    phones = []
    for pair in pairs:
        for key, value in pair.items():
            if key == "phone":
                phones.append(value)
            else:
                merged[key] = value
    assert saved["metaData"]["isConfigured"] is True
    assert merged["contactKey"] == "{{Contact.Key}}"  # Journey Builder's own bindings kept
    assert merged["text"].startswith("Hello {{Event.DEAudience-1.FirstName}}")
    assert phones == ["{{Event.DEAudience-1.Mobile}}", "{{Event.DEAudience-1.WorkPhone}}"]
    assert merged["trackClicks"] is True and merged["shortenUrl"] is False
    assert merged["speedLimitAmount"] == "500" and merged["speedLimitUnit"] == "HOUR"
    assert merged["callbackData"] == {"Offer": "X1"}


async def test_the_reports_activity_picks_the_message_activity(
    browser: Any, journey_host: str
) -> None:
    page = await browser.new_page()
    await page.goto(journey_host + "#reports")
    frame = page.frame_locator("#activity")
    await frame.get_by_text("Editing the activity.").wait_for()
    await frame.get_by_role("button", name="Save").click()
    await frame.get_by_text("Choose the message activity to report on.").wait_for()
    options = await frame.locator('select[name="messageActivity"] option').all_text_contents()
    assert options[1:] == ["Spring SMS (REST-1)"]  # not itself, not the wait
    await frame.locator('select[name="messageActivity"]').select_option(label="Spring SMS (REST-1)")
    await frame.locator('select[name="report"]').select_option("clicks")
    await frame.locator('input[name="url"]').fill("not a url")
    await frame.get_by_role("button", name="Save").click()
    await frame.get_by_text("Enter a whole address").wait_for()
    await frame.locator('input[name="url"]').fill("https://shop.example/offer")
    await frame.get_by_role("button", name="Save").click()
    await frame.get_by_text("Saved.").wait_for()
    # "Saved." shows in the frame when it posts updateActivity; the canvas gets it after.
    await page.wait_for_function("window.saved !== null")
    saved = await page.evaluate("window.saved")
    merged = {
        k: v for pair in saved["arguments"]["execute"]["inArguments"] for k, v in pair.items()
    }
    assert merged == {
        "contactKey": "{{Contact.Key}}",
        "messageId": "{{Interaction.REST-1.messageId}}",
        "report": "clicks",
        "url": "https://shop.example/offer",
    }
