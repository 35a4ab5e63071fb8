"""Pushing People changes to the sandbox org from the command line."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from pathlib import Path

from tests.served_org import (
    PEOPLESYNC,
    call,
    connect,
    enable_outbound,
    environment,
    login,
    served_org,
)


def test_imported_persons_become_leads_once(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed", "3") as info:
        env = environment(info, tmp_path / "data")

        def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
            done = subprocess.run(
                [*PEOPLESYNC, *args], capture_output=True, text=True, env=env, timeout=300
            )
            assert done.returncode == code, done.stderr
            return done

        connect(info, env)
        enable_outbound(env)
        people = tmp_path / "people.jsonl"
        people.write_text(
            "\n".join(
                json.dumps(
                    {"email": f"cli{i}@push.example", "last_name": f"Cli {i}", "company": "P"}
                )
                for i in range(5)
            )
            + "\n"
            + json.dumps({"email": "nocompany@push.example", "last_name": "None"})
            + "\n"
        )
        cli("people", "import", str(people), "--json")
        preview = json.loads(cli("push", "run", "--preview", "--json").stdout)
        assert (preview["would_create"], preview["would_reject"]) == (5, 1)
        assert len(preview["samples"]["create Lead"]) == 5
        cli("salesforce", "pause")
        refused = cli("push", "run", "--json", code=3)
        assert json.loads(refused.stdout)["state"] == "refused"
        cli("salesforce", "resume")
        first = json.loads(cli("push", "run", "--json").stdout)
        assert first["created"] == 5
        (error,) = first["errors"]
        assert (error["code"], error["field"]) == ("MANDATORY_MISSING", "company")
        status = json.loads(cli("status", "--json").stdout)
        today = status["days"][-1]
        assert today["steps"]["Person to Lead"]["created"] == 5
        assert today["steps"]["Person to Lead"]["rejected"] == 1
        assert today["api_calls"] >= 2
        [problem] = status["problems"]
        assert (problem["code"], problem["examples"][0]["field"]) == (
            "MANDATORY_MISSING",
            "company",
        )
        assert status["log"][0]["operation"] == "push"
        assert "Person to Lead" in status["last_sync"]
        again = json.loads(cli("push", "run", "--json").stdout)
        assert (again["created"], again["changes"]) == (0, 0)
        query = urllib.parse.quote("SELECT Id FROM Lead WHERE Email LIKE '%@push.example'")
        body = call(info, f"/services/data/v59.0/query?q={query}", login(info))
        assert body["totalSize"] == 5
