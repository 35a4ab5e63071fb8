"""Connecting through the browser (web-server flow with PKCE) and with a JWT bearer key."""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.served_org import PEOPLESYNC, connect, connect_command, environment, served_org


def sync_runs(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [*PEOPLESYNC, "sync", "run", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_browser_flow_stores_a_refresh_token_that_syncs(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "30") as info:
        env = environment(info, tmp_path / "data", secrets=False, COLUMNS="1000")
        connecting = subprocess.Popen(
            connect_command(info, "--browser"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert connecting.stderr is not None and connecting.stdout is not None
        link = ""
        for line in connecting.stderr:
            if line.startswith("https://"):
                link = line.strip()
                break
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(link).query))
        assert query["code_challenge_method"] == "S256" and query["state"]
        context = ssl.create_default_context(cafile=info["ca_cert"])
        # The person's browser: the consent page, then "Allow", then the redirect home.
        with urllib.request.urlopen(link, context=context) as page:
            assert b"Allow access?" in page.read()
        form = urllib.parse.urlencode({**query, "decision": "allow"}).encode()
        allow = urllib.request.Request(info["login_url"] + "/services/oauth2/authorize", form)
        with urllib.request.urlopen(allow, context=context) as landed:
            assert b"peoplesync is connected" in landed.read()
        assert connecting.wait(timeout=60) == 0, connecting.stderr.read()
        assert json.loads(connecting.stdout.read())["integration"] == "default"
        connecting.stdout.close()
        connecting.stderr.close()
        stored = (tmp_path / "data" / "peoplesync.db").read_bytes()
        assert b"refresh_token" in stored  # the key is there, its value sealed
        assert sync_runs(env)["Lead"]["read"] == 30


def test_jwt_bearer_key_connects_headlessly(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "12") as info:
        env = environment(info, tmp_path / "data", secrets=False)
        key = tmp_path / "org" / "jwt-key.pem"
        connect(info, env, "--jwt-key", str(key))
        stored = (tmp_path / "data" / "peoplesync.db").read_bytes()
        assert b"PRIVATE KEY" not in stored  # sealed at rest
        assert sync_runs(env)["Lead"]["read"] == 12
