"""SIGKILL `peoplesync sync run` during the initial transfer and during continuous sync while
Salesforce keeps changing; in the end People equals a clean sync of the final org, and the
status names the same rejected records as an uninterrupted run."""

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


def problems(data_dir: Path) -> set[tuple[str, str, str, str, int]]:
    """Every error entry: step, code, record, field, how often it was seen."""
    with sqlite3.connect(data_dir / "peoplesync.db") as db:
        rows = db.execute(
            "SELECT step, code, record_id, field, count FROM sync_problems"
        ).fetchall()
    return {(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in rows}


def persons_in(data_dir: Path) -> int:
    """How many persons the data folder's People store holds (0 before it exists)."""
    if not (data_dir / "peoplesync.db").exists():
        return 0
    with sqlite3.connect(data_dir / "peoplesync.db", timeout=30) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM persons").fetchone()[0])
        except sqlite3.OperationalError:  # the tables are not made yet
            return 0


def killed_after_a_batch(env: dict[str, str], data_dir: Path) -> bool:
    """Start a sync and SIGKILL it as soon as one more batch has committed; True when it was
    killed mid-transfer (False: it ended first)."""
    before = persons_in(data_dir)
    process = subprocess.Popen(
        [*PEOPLESYNC, "sync", "run", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    while process.poll() is None and persons_in(data_dir) == before:
        time.sleep(0.02)
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return running


def org_with_unusable_phones(data_dir: Path, leads: int) -> int:
    """Seed an org with ``leads`` leads (changed over the last two years), then give every
    100th a phone People cannot read, in the org's own storage so their dates stay spread:
    the rejected records fall in every batch of the transfer. Returns how many."""
    with served_org(data_dir, "--seed-leads", str(leads), "--seed", "9"):
        pass
    with sqlite3.connect(data_dir / "org.sqlite3") as db:
        changed = db.execute("UPDATE Lead SET Phone = 'ring ' || rowid WHERE rowid % 100 = 7")
    return int(changed.rowcount)


def test_kills_during_a_transfer_with_rejected_records_lose_no_error_entry(
    tmp_path: Path,
) -> None:
    assert org_with_unusable_phones(tmp_path / "org", 5000) == 50
    with served_org(tmp_path / "org") as info:
        reference = tmp_path / "reference"
        reference_env = environment(info, reference)
        connect(info, reference_env)
        sync_once(reference_env)
        expected = problems(reference)
        rejected = [p for p in expected if p[1] == "INVALID_PHONE"]
        assert len(rejected) >= 40  # (a converted lead is not applied, so not rejected)
        assert {p[4] for p in expected} == {1}  # each seen once

        crashed = tmp_path / "crashed"
        env = environment(info, crashed)
        connect(info, env)
        for _ in range(2):  # 5,000 leads are 3 batches of up to 2,000: kill after 2 of them
            assert killed_after_a_batch(env, crashed)
        assert 0 < persons_in(crashed) < persons_in(reference)
        sync_once(env)

        assert problems(crashed) == expected  # none lost, none counted twice
        report = subprocess.run(
            [*PEOPLESYNC, "status", "--json", "--records", "1000"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert report.returncode == 0, report.stderr
        listed = {
            (example["step"], group["code"], example["record"])
            for group in json.loads(report.stdout)["problems"]
            for example in group["examples"]
        }
        assert listed == {p[:3] for p in expected}
