"""A segment as an outbound filter, from the command line against the sandbox org: the
Person -> Lead step limited to a segment pushes only its persons; a person who joins the
segment later is pushed then."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
from pathlib import Path

from tests.served_org import PEOPLESYNC, call, connect, enable_outbound, login, served_org


def test_push_run_pushes_only_the_segment(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed", "3") as info:
        env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
            "PEOPLESYNC_SF_CLIENT_SECRET": info["client_secret"],
            "PEOPLESYNC_SF_PASSWORD": info["password"],
        }

        def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
            done = subprocess.run(
                [*PEOPLESYNC, *args], capture_output=True, text=True, env=env, timeout=300
            )
            assert done.returncode == code, done.stderr
            return done

        def leads() -> list[str]:
            query = urllib.parse.quote(
                "SELECT LastName FROM Lead WHERE Email LIKE '%@segment.example'"
            )
            body = call(info, f"/services/data/v59.0/query?q={query}", login(info))
            return sorted(record["LastName"] for record in body["records"])

        connect(info, env)
        enable_outbound(env)
        people = tmp_path / "people.jsonl"
        rows = [("ada", "London"), ("grace", "london"), ("alan", "Manchester"), ("edsger", None)]
        people.write_text(
            "".join(
                json.dumps(
                    {
                        "email": f"{who}@segment.example",
                        "last_name": who.title(),
                        "company": "Segments Ltd",
                        **({"city": city} if city else {}),
                    }
                )
                + "\n"
                for who, city in rows
            )
        )
        cli("people", "import", str(people), "--json")
        cli("segments", "add", "Londoners", "--filter", "city:equals:London")
        listed = json.loads(cli("segments", "list", "--json").stdout)
        assert [(s["name"], s["members"]) for s in listed] == [("Londoners", 2)]

        cli("steps", "set", "Person to Lead", "--segment", "Nobody")
        missing = cli("push", "run", "--json", code=1)
        assert "Nobody" in missing.stderr + missing.stdout
        assert leads() == []

        cli("steps", "set", "Person to Lead", "--segment", "Londoners")
        first = json.loads(cli("push", "run", "--json").stdout)
        assert first["created"] == 2
        assert leads() == ["Ada", "Grace"]

        moved = tmp_path / "moved.jsonl"
        moved.write_text(json.dumps({"email": "alan@segment.example", "city": "London"}) + "\n")
        cli("people", "import", str(moved), "--json")
        second = json.loads(cli("push", "run", "--json").stdout)
        assert second["created"] == 1
        assert leads() == ["Ada", "Alan", "Grace"]
