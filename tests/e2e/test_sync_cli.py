"""Connecting to the sandbox org and syncing from the command line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.served_org import PEOPLESYNC, served_org


def test_connect_then_sync_twice(tmp_path: Path) -> None:
    with served_org(
        tmp_path / "org",
        "--seed-leads",
        "300",
        "--seed-contacts",
        "200",
        "--seed-accounts",
        "20",
        "--seed",
        "2",
    ) as info:
        env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
            "PEOPLESYNC_SF_CLIENT_SECRET": info["client_secret"],
            "PEOPLESYNC_SF_PASSWORD": info["password"],
            "PEOPLESYNC_DEFAULT_PHONE_REGION": "US",
        }
        connected = subprocess.run(
            [
                *PEOPLESYNC,
                "salesforce",
                "connect",
                "--login-url",
                info["login_url"],
                "--client-id",
                info["client_id"],
                "--username",
                info["username"],
                "--ca-cert",
                info["ca_cert"],
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert connected.returncode == 0, connected.stderr
        assert json.loads(connected.stdout)["integration"] == "default"
        stored = (tmp_path / "data" / "peoplesync.db").read_bytes()
        assert info["client_secret"].encode() not in stored  # sealed at rest
        assert info["password"].encode() not in stored
        first = subprocess.run(
            [*PEOPLESYNC, "sync", "run", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert first.returncode == 0, first.stderr
        summary = json.loads(first.stdout)
        assert summary["Lead"]["read"] == 300
        assert summary["Contact"]["read"] == 200
        assert summary["persons"] >= 450  # some leads share an email with a contact
        assert summary["api_calls"] <= 6
        second = json.loads(
            subprocess.run(
                [*PEOPLESYNC, "sync", "run", "--json"],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
                check=True,
            ).stdout
        )
        assert second["Lead"]["created"] == second["Contact"]["created"] == 0
        assert second["persons"] == summary["persons"]
        follow = subprocess.Popen(
            [*PEOPLESYNC, "sync", "run", "--follow", "--interval", "0.2", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert follow.stdout is not None
        passes = [json.loads(follow.stdout.readline()) for _ in range(2)]
        follow.terminate()
        follow.wait(timeout=30)
        follow.stdout.close()
        assert all(p["Lead"]["created"] == 0 for p in passes)
        bad = subprocess.run(
            [*PEOPLESYNC, "sync", "run", "--name", "missing"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert bad.returncode == 1
        assert "connect one first" in bad.stderr
