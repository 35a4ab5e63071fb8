"""`peoplesync serve` connected to the served sandbox org through the real OAuth redirect
chain (httpx as the browser), then its sync workers bring a Lead created in the org into
People; pausing stops them, resuming starts them again, shutdown stops them cleanly."""

from __future__ import annotations

import html
import os
import re
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import _free_port
from tests.served_org import PEOPLESYNC, call, login, served_org

ADMIN = "admin@example.com"
PASSWORD = "serve test password"


@pytest.fixture
def org(tmp_path: Path) -> Iterator[dict[str, Any]]:
    options = ("--seed-leads", "20", "--seed-contacts", "10", "--seed-accounts", "3")
    with served_org(tmp_path / "org", *options) as info:
        yield info


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _wait(check: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_serve_connects_by_oauth_and_its_workers_sync(tmp_path: Path, org: dict[str, Any]) -> None:
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
        "PEOPLESYNC_USER_PASSWORD": PASSWORD,
    }
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    subprocess.run(
        [*PEOPLESYNC, "users", "add", ADMIN, "--role", "admin"], env=env, check=True, timeout=120
    )
    token = subprocess.run(
        [*PEOPLESYNC, "users", "token", ADMIN],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = _free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    serve = subprocess.Popen(
        [*PEOPLESYNC, "serve", "--port", str(port), "--insecure-cookies", "--sync-interval", "3"],
        env={**env, "COLUMNS": "400"},
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=org["ca_cert"])
    try:

        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                assert serve.poll() is None, log_path.read_text()
                return False

        _wait(up, 60, "serve to start")
        with (
            httpx.Client(base_url=url, timeout=30) as browser,
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as api,
        ):
            form = browser.get("/login")
            logged_in = browser.post(
                "/login",
                data={"email": ADMIN, "password": PASSWORD, "csrf_token": _csrf(form.text)},
            )
            assert logged_in.status_code == 303
            page = browser.get("/salesforce/connect")
            assert page.status_code == 200
            started = browser.post(
                "/salesforce/connect",
                data={
                    "csrf_token": _csrf(page.text),
                    "name": "default",
                    "environment": "custom",
                    "login_url": org["login_url"],
                    "ca_cert": org["ca_cert"],
                    "client_id": org["client_id"],
                    "client_secret": org["client_secret"],
                },
            )
            assert started.status_code == 303, started.text
            with httpx.Client(verify=trust) as at_org:  # the person's browser at the org
                consent = at_org.get(started.headers["location"])
                assert "Allow access?" in consent.text
                hidden = dict(
                    re.findall(r'type="hidden" name="([^"]*)" value="([^"]*)"', consent.text)
                )
                fields = {html.unescape(k): html.unescape(v) for k, v in hidden.items()}
                allowed = at_org.post(
                    org["login_url"] + "/services/oauth2/authorize",
                    data={**fields, "decision": "allow"},
                )
            assert allowed.status_code == 302
            callback = allowed.headers["location"]
            assert callback.startswith(f"{url}/oauth/salesforce/callback?code=")
            landed = browser.get(callback)
            assert landed.status_code == 303 and landed.headers["location"].startswith(
                "/salesforce"
            )
            assert 'data-connected="default"' in browser.get(landed.headers["location"]).text

            [item] = api.get("/api/v1/integrations").json()["items"]
            assert item["name"] == "default" and item["state"] == "active"
            assert item["instance_url"] == org["instance_url"]
            assert item["workers"] is True

            # the workers' first pass brings the seeded Leads and Contacts in
            _wait(lambda: api.get("/api/v1/persons?limit=25").json()["items"], 120, "first sync")

            def person(email: str) -> Any:
                found = api.get("/api/v1/persons", params={"q": email}).json()["items"]
                return found[0] if found else None

            sf_token = login(org)
            lead = {"LastName": "Marulic", "Company": "Split Press", "Email": "marko@split.example"}
            call(org, "/services/data/v59.0/sobjects/Lead", sf_token, body=lead)
            marko = _wait(lambda: person("marko@split.example"), 60, "the new Lead in People")
            details = api.get(f"/api/v1/persons/{marko['id']}").json()
            assert details["links"][0]["url"].startswith(org["instance_url"] + "/00Q")

            # pause: the workers stop; a Lead created meanwhile waits for resume
            assert api.post("/api/v1/integrations/default/pause").json()["state"] == "paused"
            stopped = "default: sync worker stopped (the integration may not run now)"
            _wait(lambda: stopped in log_path.read_text(), 30, "the sync worker to stop")
            lead = {"LastName": "Gundulic", "Company": "Ragusa Ink", "Email": "ivan@ragusa.example"}
            call(org, "/services/data/v59.0/sobjects/Lead", sf_token, body=lead)
            time.sleep(8)
            assert person("ivan@ragusa.example") is None, log_path.read_text()
            assert api.post("/api/v1/integrations/default/resume").json()["state"] == "active"
            _wait(lambda: person("ivan@ragusa.example"), 60, "the Lead after resume")
    finally:
        serve.terminate()
        serve.wait(timeout=60)
        log.close()
    said = log_path.read_text()
    assert "sync workers stopped (1 integration(s))" in said, said
    assert org["client_secret"] not in said
