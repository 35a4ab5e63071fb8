"""A field newly mapped in an outbound step reaches the linked Leads on the next push, with the
fewest calls, and a second push writes nothing."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

from tests.e2e.test_two_way_soak import is_write, request_log
from tests.served_org import (
    PEOPLESYNC,
    call,
    connect,
    enable_outbound,
    environment,
    login,
    served_org,
)

PERSONS = 12


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*PEOPLESYNC, *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done


def _statuses(info: dict[str, Any], token: str) -> dict[str, str]:
    query = urllib.parse.quote("SELECT Email, Status FROM Lead WHERE Email LIKE '%@repush.example'")
    body = call(info, f"/services/data/v59.0/query?q={query}", token)
    return {r["Email"]: r["Status"] for r in body["records"]}


def test_a_newly_mapped_field_is_pushed_to_the_linked_leads_once(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed", "4") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)
        enable_outbound(env)
        token = login(info)
        people = tmp_path / "people.jsonl"
        people.write_text(
            "".join(
                json.dumps(
                    {
                        "email": f"p{i}@repush.example",
                        "last_name": f"Repush {i}",
                        "company": "R",
                        "status": "Working - Contacted",
                    }
                )
                + "\n"
                for i in range(PERSONS)
            )
        )
        _run(env, "people", "import", str(people), "--json")
        first = json.loads(_run(env, "push", "run", "--json").stdout)
        assert first["created"] == PERSONS
        assert set(_statuses(info, token).values()) == {"Open - Not Contacted"}  # not mapped

        mapped = _run(env, "steps", "map", "Person to Lead", "--field", "Status",
                      "--attribute", "status")  # fmt: skip
        assert "the next `peoplesync push run` writes the changed fields" in " ".join(
            mapped.stderr.split()
        )
        mark = request_log(info, token)[-1]["time"]
        pushed = json.loads(_run(env, "push", "run", "--json").stdout)
        assert pushed["updated"] == PERSONS
        assert set(_statuses(info, token).values()) == {"Working - Contacted"}
        writes = [e for e in request_log(info, token) if e["time"] > mark and is_write(e)]
        assert len(writes) == 1  # one sObject Collections call for the twelve Leads
        assert "/composite/sobjects" in writes[0]["path"]

        mark = request_log(info, token)[-1]["time"]
        again = json.loads(_run(env, "push", "run", "--json").stdout)
        assert (again["updated"], again["created"]) == (0, 0)
        assert [e for e in request_log(info, token) if e["time"] > mark and is_write(e)] == []
