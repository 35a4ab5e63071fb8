"""Connecting to the sandbox org and syncing from the command line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

from tests.served_org import PEOPLESYNC, call, connect, environment, login, served_org


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
        env = environment(info, tmp_path / "data")
        connected = connect(info, env)
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
            [*PEOPLESYNC, "sync", "run", "--follow", "--no-stream", "--interval", "0.2", "--json"],
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


def _cities(env: dict[str, str]) -> set[str]:
    exported = subprocess.run(
        [*PEOPLESYNC, "people", "export"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    return {json.loads(line).get("city") or "" for line in exported.splitlines() if line}


def test_follow_applies_change_events_between_polls(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "40", "--seed-contacts", "20") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)
        # Polls only once an hour: the edit below can only arrive through Change Data Capture.
        log = tmp_path / "follow.log"
        with log.open("w") as errors:
            follow = subprocess.Popen(
                [*PEOPLESYNC, "sync", "run", "--follow", "--reconcile-every", "3600", "--json"],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=env,
            )
        try:
            assert follow.stdout is not None
            first_line = follow.stdout.readline()
            assert first_line, log.read_text()
            assert json.loads(first_line)["Lead"]["read"] == 40
            token = login(info)
            query = urllib.parse.quote("SELECT Id FROM Lead WHERE IsConverted = false LIMIT 1")
            lead = call(info, f"/services/data/v59.0/query?q={query}", token)["records"][0]
            call(
                info,
                f"/services/data/v59.0/sobjects/Lead/{lead['Id']}",
                token,
                method="PATCH",
                body={"City": "Streamed City"},
            )
            deadline = time.monotonic() + 60
            while "Streamed City" not in _cities(env):
                assert follow.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the change event never reached People"
                time.sleep(0.5)
        finally:
            follow.terminate()
            follow.wait(timeout=30)
            if follow.stdout is not None:
                follow.stdout.close()


def test_transfer_preview_filters_and_resync(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "120", "--seed", "3") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)

        def run(*args: str) -> dict[str, Any]:
            done = subprocess.run(
                [*PEOPLESYNC, "sync", *args, "--json"],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr
            return dict(json.loads(done.stdout))

        preview = run("transfer", "--preview")
        assert preview["preview"] is True
        assert preview["Lead"]["read"] == 120
        assert preview["Lead"]["created"] > 0
        assert preview["Lead"]["samples"]["create"]
        assert preview["persons"] == 0  # nothing was written

        working = run("transfer", "--step", "Lead", "--lead-status", "Working - Contacted")
        assert set(working) >= {"Lead"} and "Contact" not in working
        assert 0 < working["Lead"]["read"] < 120
        assert working["persons"] == working["Lead"]["created"]

        resynced = run("resync", "--step", "Lead")
        assert resynced["Lead"]["read"] == 120
        # Both are in the transfer history; the preview, which wrote nothing, is not.
        assert _history(tmp_path / "data") == [
            ("transfer", "sync transfer", "done", {"Lead": working["Lead"]["read"]}),
            ("resync", "sync transfer", "done", {"Lead": 120}),
        ]
        bad = subprocess.run(
            [*PEOPLESYNC, "sync", "transfer", "--step", "Nope"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert bad.returncode == 1
        assert "no enabled step named Nope" in bad.stderr

        # The filter is checked against each chosen step's object before anything runs.
        wrong = subprocess.run(
            [*PEOPLESYNC, "sync", "transfer", "--filter", "Country = 'Germany'"],
            capture_output=True,
            text=True,
            env={**env, "COLUMNS": "400"},
            timeout=120,
        )
        assert wrong.returncode == 1
        assert "Country is not a field of Account (step Account to Company)" in wrong.stderr
        assert "choose only the Lead step" in wrong.stderr
        assert "INVALID_FIELD" not in wrong.stderr
        germans = run("transfer", "--preview", "--step", "Lead", "--filter", "Country = 'Germany'")
        assert set(germans) & {"Account", "Contact"} == set()
        assert germans["Lead"]["read"] < 120


def _history(data_dir: Path) -> list[tuple[str, str, str, dict[str, int]]]:
    """The transfer history, oldest first: kind, started by, state, records read by step."""
    with sqlite3.connect(data_dir / "peoplesync.db") as db:
        rows = db.execute(
            "SELECT kind, started_by, state, progress FROM transfer_jobs ORDER BY started_at"
        ).fetchall()
    return [
        (r[0], r[1], r[2], {step: p["read"] for step, p in json.loads(r[3]).items()}) for r in rows
    ]


def _status(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [*PEOPLESYNC, "status", "--json", "--days", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_a_streamed_rejection_shows_in_the_status_while_following(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "10") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)
        # Polls only once an hour: what arrives comes through Change Data Capture.
        log = tmp_path / "follow.log"
        with log.open("w") as errors:
            follow = subprocess.Popen(
                [*PEOPLESYNC, "sync", "run", "--follow", "--reconcile-every", "3600", "--json"],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=env,
            )
        try:
            assert follow.stdout is not None
            assert follow.stdout.readline(), log.read_text()  # the first pass is done
            [(kind, by, state, read)] = _history(tmp_path / "data")  # the initial transfer
            assert (kind, by, state, read["Lead"]) == ("transfer", "sync run", "done", 10)
            before = _status(env)["days"][0]["created"]
            token = login(info)
            bad = call(
                info,
                "/services/data/v59.0/sobjects/Lead",
                token,
                body={"LastName": "Bad", "Company": "X", "Email": "bad@x.example", "Phone": "ring"},
            )["id"]
            call(
                info,
                "/services/data/v59.0/sobjects/Lead",
                token,
                body={"LastName": "Good", "Company": "X", "Email": "good@x.example"},
            )
            deadline = time.monotonic() + 60  # the reconcile poll is an hour away
            while True:
                status = _status(env)
                listed = {
                    (group["code"], example["record"], example["field"].split(",")[0])
                    for group in status["problems"]
                    for example in group["examples"]
                }
                streamed = [e for e in status["log"] if e["operation"] == "stream"]
                counted = status["days"][0]["created"] == before + 1  # the good lead
                # The two leads' events may come in separate batches: wait for both.
                if ("INVALID_PHONE", bad, "Phone") in listed and streamed and counted:
                    break
                assert follow.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"not in the status: {status}"
                time.sleep(0.5)
            assert status["days"][0]["created"] == before + 1  # the good lead, counted
            assert status["days"][0]["rejected"] >= 1
        finally:
            follow.terminate()
            follow.wait(timeout=30)
            if follow.stdout is not None:
                follow.stdout.close()
