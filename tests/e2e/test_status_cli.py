"""The status page, pause and resume, and the API allowance from the command line."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.served_org import PEOPLESYNC, call, connect, environment, login, served_org

FAST = ("--interval", "0.2", "--recheck", "1")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PEOPLESYNC, *args], capture_output=True, text=True, env=env, timeout=300
    )


def _status(env: dict[str, str]) -> dict[str, Any]:
    done = _cli(env, "status", "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _set_limit(info: dict[str, Any], token: str, limit: int) -> None:
    call(info, "/sandbox/admin/knobs", token, method="PUT", body={"api_daily_limit": limit})


def test_status_pause_resume_and_the_allowance(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "20", "--seed-contacts", "10") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)
        token = login(info)
        bad = call(
            info,
            "/services/data/v59.0/sobjects/Lead/",
            token,
            body={
                "LastName": "Unreachable",
                "Company": "Acme",
                "Email": "unreachable@example.com",
                "Phone": "call me maybe",
            },
        )["id"]
        first = _cli(env, "sync", "run", "--json")
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["Lead"]["rejected"] >= 1

        status = _status(env)
        assert status["state"] == "active"
        assert {"Lead", "Contact"} <= set(status["last_sync"])
        assert len(status["days"]) == 7
        today = status["days"][-1]
        assert today["api_calls"] >= 2
        assert today["created"] >= 1
        [phones] = [g for g in status["problems"] if g["code"] == "INVALID_PHONE"]
        example = next(e for e in phones["examples"] if e["record"] == bad)
        assert example["step"] == "Lead"
        assert "Phone" in example["field"]
        assert phones["hint"]
        assert {entry["object"] for entry in status["log"]} >= {"Lead", "Contact"}
        human = _cli(env, "status")
        assert human.returncode == 0, human.stderr
        assert "INVALID_PHONE" in human.stdout

        assert _cli(env, "salesforce", "pause").returncode == 0
        refused = _cli(env, "sync", "run", "--json")
        assert refused.returncode == 3
        assert "paused" in refused.stderr
        paused = _status(env)
        assert paused["state"] == "paused"
        assert paused["log"][0]["operation"] == "pause"
        assert _cli(env, "salesforce", "resume").returncode == 0
        assert _cli(env, "sync", "run", "--json").returncode == 0

        limits = call(info, "/services/data/v59.0/limits", token)["DailyApiRequests"]
        allowance, used = limits["Max"], limits["Max"] - limits["Remaining"]
        _set_limit(info, token, used + 1)  # the org's allowance runs out
        limited = _cli(env, "sync", "run", "--json", "--recheck", "1")
        assert limited.returncode == 4, limited.stderr
        status = _status(env)
        assert status["state"] == "api_limit_reached"
        assert status["until"]

        log = tmp_path / "follow.log"
        with log.open("w") as errors:
            follow = subprocess.Popen(
                [*PEOPLESYNC, "sync", "run", "--follow", "--json", *FAST],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=env,
            )
        try:
            time.sleep(3)
            assert follow.poll() is None, log.read_text()
            assert _status(env)["state"] == "api_limit_reached"  # still waiting
            _set_limit(info, token, allowance)
            assert follow.stdout is not None
            line = follow.stdout.readline()
            assert line, log.read_text()
            assert "Lead" in json.loads(line)
            assert _status(env)["state"] == "active"
        finally:
            follow.terminate()
            follow.wait(timeout=30)
            if follow.stdout is not None:
                follow.stdout.close()
        operations = {entry["operation"] for entry in _status(env)["log"]}
        assert {"active", "api_limit_reached"} <= operations
