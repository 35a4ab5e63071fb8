"""Issue 12: an org is connected once (a second integration on it would push the other's
records back as new ones, multiplying them), and a new integration writes nothing to
Salesforce until its outbound steps are reviewed and switched on."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

from tests.served_org import (
    PEOPLESYNC,
    call,
    connect,
    connect_command,
    enable_outbound,
    environment,
    login,
    served_org,
)


def org_records(info: dict[str, Any]) -> dict[str, str]:
    """Every Lead and Contact of the org by Id, with its SystemModstamp (any write moves it)."""
    token = login(info)
    found: dict[str, str] = {}
    for sobject in ("Lead", "Contact"):
        soql = urllib.parse.quote(f"SELECT Id, SystemModstamp FROM {sobject}")
        path = f"/services/data/v59.0/query?q={soql}"
        while path:
            body = call(info, path, token)
            found |= {r["Id"]: r["SystemModstamp"] for r in body["records"]}
            path = body.get("nextRecordsUrl") or ""
    return found


def test_same_org_twice_is_refused_and_nothing_is_written_before_review(
    tmp_path: Path,
) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "20") as info:
        env = environment(info, tmp_path / "data", COLUMNS="1000")

        def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
            done = subprocess.run(
                [*PEOPLESYNC, *args], capture_output=True, text=True, env=env, timeout=300
            )
            assert done.returncode == code, done.stderr
            return done

        connected = json.loads(connect(info, env).stdout)
        assert connected["organization_id"].startswith("00D")
        assert connected["outbound_awaiting_review"] == ["Person to Lead", "Person to Contact"]
        listed = cli("steps", "list").stdout
        assert listed.count("off until reviewed") == 2
        status = json.loads(cli("status", "--json").stdout)
        assert status["outbound_awaiting_review"] == ["Person to Lead", "Person to Contact"]
        before = org_records(info)

        # Inbound runs at once; outbound writes nothing, and says how to review it.
        synced = json.loads(cli("sync", "run", "--json").stdout)
        assert synced["Lead"]["read"] == 20
        people = tmp_path / "people.jsonl"
        people.write_text(
            "".join(
                json.dumps({"email": f"new{i}@once.example", "last_name": f"N{i}", "company": "C"})
                + "\n"
                for i in range(3)
            )
        )
        cli("people", "import", str(people))
        refused = cli("push", "run", "--json", code=3)
        assert json.loads(refused.stdout)["state"] == "awaiting_review"
        assert "push run --preview" in refused.stderr and "steps enable" in refused.stderr
        preview = json.loads(cli("push", "run", "--preview", "--json").stdout)
        assert preview["would_create"] == 3
        assert org_records(info) == before  # not one record written or changed

        # The same org under another name is refused, naming the integration that holds it.
        second = subprocess.run(
            connect_command(info, "--username", info["username"], "--name", "second"),
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert second.returncode == 1
        assert "already connected as integration 'default'" in second.stderr
        assert "connect --name default" in second.stderr
        cli("push", "run", "--name", "second", code=1)  # nothing stored under that name
        assert "no Salesforce integration named 'second'" in cli(
            "sync", "run", "--name", "second", code=1
        ).stderr.replace("\n", " ")

        # Switched on after review, the push writes once; rounds after that multiply nothing.
        enable_outbound(env)
        pushed = json.loads(cli("push", "run", "--json").stdout)
        assert pushed["created"] == 3
        after_push = org_records(info)
        cli("sync", "run", "--json")
        cli("push", "run", "--json")
        assert len(org_records(info)) == len(after_push) == len(before) + 3
        assert json.loads(cli("people", "count", "--json").stdout)["persons"] == 23

        # Reconnecting the same integration renews it and keeps its switched-on steps.
        again = json.loads(connect(info, env).stdout)
        assert (again["integration"], again["outbound_awaiting_review"]) == ("default", [])
        assert "off until reviewed" not in cli("steps", "list").stdout
