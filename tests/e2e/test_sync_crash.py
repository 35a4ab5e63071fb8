"""SIGKILL `peoplesync sync run` during the initial transfer and during continuous sync while
Salesforce keeps changing; in the end People equals a clean sync of the final org."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

from tests.served_org import PEOPLESYNC, call, connect, environment, login, served_org

API = "/services/data/v59.0"


def sync_once(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [*PEOPLESYNC, "sync", "run", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def killed_after(env: dict[str, str], seconds: float, *options: str) -> bool:
    """Start a sync, SIGKILL it after ``seconds``; True when it was still running."""
    process = subprocess.Popen(
        [*PEOPLESYNC, "sync", "run", "--json", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    time.sleep(seconds)
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return running


def picture(data_dir: Path) -> tuple[int, dict[str, tuple[str, ...]]]:
    """How many persons, and for every linked lead its person's names, city and emails."""
    with sqlite3.connect(data_dir / "peoplesync.db") as db:
        persons = db.execute("SELECT COUNT(*) FROM persons").fetchone()[0]
        rows = db.execute(
            "SELECT l.external_id, p.first_name, p.last_name, p.company, p.city, "
            "(SELECT group_concat(e.email_key, ' ') FROM "
            " (SELECT email_key FROM person_emails WHERE person_id = p.id ORDER BY position) e) "
            "FROM external_links l JOIN persons p ON p.id = l.entity_id WHERE l.object = 'Lead'"
        ).fetchall()
    return int(persons), {r[0]: tuple(str(v) for v in r[1:]) for r in rows}


class Editor:
    """Random edits in the org, only on leads whose email no other lead shares (a shared
    email makes which lead is linked depend on history, not on the final state)."""

    def __init__(self, info: dict[str, Any], rng: random.Random) -> None:
        self.info = info
        self.rng = rng
        self.token = login(info)
        query = urllib.parse.quote("SELECT Id, Email FROM Lead WHERE IsConverted = false")
        body = call(info, f"{API}/query?q={query}", self.token)
        records = list(body["records"])
        while body.get("nextRecordsUrl"):
            body = call(info, body["nextRecordsUrl"], self.token)
            records += body["records"]
        emails = [str(r["Email"] or "").lower() for r in records]
        self.leads = [
            r["Id"] for r, e in zip(records, emails, strict=True) if e and emails.count(e) == 1
        ]
        self.made = 0

    def edit(self) -> None:
        roll = self.rng.random()
        if roll < 0.6 and self.leads:
            lead = self.rng.choice(self.leads)
            city = f"City {self.rng.randrange(10_000)}"
            call(
                self.info,
                f"{API}/sobjects/Lead/{lead}",
                self.token,
                method="PATCH",
                body={"City": city},
            )
        elif roll < 0.85:
            self.made += 1
            created = call(
                self.info,
                f"{API}/sobjects/Lead",
                self.token,
                method="POST",
                body={
                    "LastName": f"Crashproof {self.made}",
                    "Company": "Kill -9 Ltd",
                    "Email": f"crash{self.made}.{self.rng.randrange(10**9)}@kill9.example",
                },
            )
            self.leads.append(created["id"])
        elif self.leads:
            lead = self.leads.pop(self.rng.randrange(len(self.leads)))
            call(self.info, f"{API}/sobjects/Lead/{lead}", self.token, method="DELETE")


def test_kills_during_transfer_and_continuous_sync_lose_and_duplicate_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(20)
    with served_org(tmp_path / "org", "--seed-leads", "1500", "--seed", "5") as info:
        crashed = tmp_path / "crashed"
        env = environment(info, crashed)
        connect(info, env)
        clean = tmp_path / "timing"
        timing_env = environment(info, clean)
        connect(info, timing_env)
        started = time.perf_counter()
        sync_once(timing_env)
        duration = time.perf_counter() - started

        hits = attempts = 0
        while hits < 10 and attempts < 30:  # the initial transfer (and restarts after it)
            hits += killed_after(env, rng.uniform(0.2, 1.0) * duration)
            attempts += 1
        editor = Editor(info, rng)
        for _ in range(12):  # continuous sync (CDC and polling) while the org changes
            process = subprocess.Popen(
                [*PEOPLESYNC, "sync", "run", "--json", "--follow", "--reconcile-every", "0.5"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            deadline = time.monotonic() + rng.uniform(1.0, 4.0)
            while time.monotonic() < deadline:
                editor.edit()
                time.sleep(rng.uniform(0.0, 0.15))
            hits += process.poll() is None
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert hits >= 20
        sync_once(env)  # restarted once more after the last kill

        reference = tmp_path / "reference"
        reference_env = environment(info, reference)
        connect(info, reference_env)
        sync_once(reference_env)
        expected = picture(reference)
        actual = picture(crashed)
        assert expected[0] > 1000
        assert actual[0] == expected[0]  # no person lost, none duplicated
        assert actual[1] == expected[1]  # every lead linked once, with its latest values
