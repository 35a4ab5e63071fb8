"""Soak: `sync run --follow` and `push run --follow` run while Salesforce and People are both
edited at random, often on the same field of the same lead. After the edits stop, both sides
converge on every mapped field by the fields' conflict rules, and peoplesync then writes nothing
more: no Salesforce write in the org's request log, no new row in People's change log.

Edits for at least a minute on CI (CI=true), PEOPLESYNC_SOAK_SECONDS sets it (longer on CI,
any length locally). The five-minute soak is `python -m bench two_way_soak` (this test with
PEOPLESYNC_SOAK_SECONDS=300), so the suite keeps its wall time.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from peoplesync.people.model import PersonInput
from peoplesync.settings import Settings
from peoplesync.wiring import people_store
from tests.e2e.test_sync_crash import API, sync_once
from tests.served_org import (
    PEOPLESYNC,
    call,
    connect,
    enable_outbound,
    environment,
    login,
    served_org,
)

CI_SECONDS = 60.0  # the least on CI; bench/two_way_soak.py runs the long soak
# Two-way fields (Salesforce field: People attribute, rule) and the values the test writes.
TWO_WAY = {
    "FirstName": ("first_name", "people_wins"),
    "Title": ("title", "most_recent"),
    "City": ("city", "salesforce_wins"),
    "Country": ("country", "most_recent"),
    "Street": ("address", "people_wins"),
    # Required on create, so two-way too (a Lead step writing to Salesforce must fill them).
    "LastName": ("last_name", "salesforce_wins"),
    "Company": ("company", "salesforce_wins"),
}
EDITED = ("FirstName", "Title", "City", "Country", "Street")
# Every mapped Lead field compared at the end (Salesforce field: People column).
COMPARED = {name: attribute for name, (attribute, _) in TWO_WAY.items()}
QUIET_TIMEOUT = 120.0  # seconds for both sides to converge after the last edit
WATCH = 20.0  # seconds of watching for writes after convergence
# Edits this far apart have a clear order; closer ones race with the runners by design.
CLEAR_ORDER = 3.0


def soak_seconds() -> float:
    wanted = float(os.environ.get("PEOPLESYNC_SOAK_SECONDS", CI_SECONDS))
    return max(wanted, CI_SECONDS) if os.environ.get("CI", "").lower() == "true" else wanted


def two_way_profile(env: dict[str, str], folder: Path) -> None:
    """The default profile with the Lead step's name, title, place and company lines two-way."""
    exported = subprocess.run(
        [*PEOPLESYNC, "config", "export"], capture_output=True, text=True, env=env, check=True
    )
    data = yaml.safe_load(exported.stdout)
    for step in data["steps"]:
        if step["sobject"] != "Lead":
            continue
        for line in step["mapping"]:
            if line["field"] in TWO_WAY:
                line["direction"] = "both"
                line["conflict"] = TWO_WAY[line["field"]][1]
    path = folder / "two-way.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    done = subprocess.run(
        [*PEOPLESYNC, "config", "import", str(path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr


@dataclass
class Edit:
    value: str
    at: float


@dataclass
class History:
    """The last value each side wrote to each (lead, field)."""

    salesforce: dict[tuple[str, str], Edit] = field(default_factory=dict)
    people: dict[tuple[str, str], Edit] = field(default_factory=dict)
    edits: int = 0


class Editors:
    """Random edits on both sides, on a fixed set of linked leads."""

    def __init__(
        self, info: dict[str, Any], settings: Settings, pairs: dict[str, str], rng: random.Random
    ) -> None:
        self.info = info
        self.settings = settings
        self.pairs = pairs  # lead id -> person id
        self.rng = rng
        self.token = login(info)
        self.history = History()

    def value(self, side: str) -> str:
        self.history.edits += 1
        return f"{side} {self.history.edits} {self.rng.randrange(1000)}"

    def in_salesforce(self, lead: str, name: str) -> None:
        value = self.value("sf")
        call(
            self.info, f"{API}/sobjects/Lead/{lead}", self.token, method="PATCH", body={name: value}
        )
        self.history.salesforce[(lead, name)] = Edit(value, time.monotonic())

    def in_people(self, edits: list[tuple[str, str]]) -> None:
        made = [(lead, name, self.value("people")) for lead, name in edits]
        inputs = [
            PersonInput(values={TWO_WAY[name][0]: value}, id=self.pairs[lead])
            for lead, name, value in made
        ]

        async def write() -> None:
            async with people_store(self.settings) as store:
                result = await store.upsert_persons(inputs, origin="ui")
                assert not result.rejected, result.rejected

        asyncio.run(write())
        now = time.monotonic()
        for lead, name, value in made:
            self.history.people[(lead, name)] = Edit(value, now)

    def step(self) -> None:
        leads = list(self.pairs)
        roll = self.rng.random()
        lead, name = self.rng.choice(leads), self.rng.choice(EDITED)
        if roll < 0.35:
            self.in_salesforce(lead, name)
        elif roll < 0.7:
            picks = [(self.rng.choice(leads), self.rng.choice(EDITED)) for _ in range(3)]
            self.in_people([(lead, name), *picks])
        else:  # the same field on both sides at nearly the same time: a conflict
            if self.rng.random() < 0.5:
                self.in_salesforce(lead, name)
                self.in_people([(lead, name)])
            else:
                self.in_people([(lead, name)])
                self.in_salesforce(lead, name)


def linked_pairs(data_dir: Path) -> dict[str, str]:
    with sqlite3.connect(data_dir / "peoplesync.db") as db:
        rows = db.execute(
            "SELECT external_id, entity_id FROM external_links WHERE object = 'Lead'"
        ).fetchall()
    return {str(lead): str(person) for lead, person in rows}


def people_values(data_dir: Path, pairs: dict[str, str]) -> dict[str, dict[str, Any]]:
    columns = list(dict.fromkeys(COMPARED.values()))
    with sqlite3.connect(data_dir / "peoplesync.db") as db:
        rows = db.execute(f"SELECT id, {', '.join(columns)} FROM persons").fetchall()
    by_person = {str(row[0]): dict(zip(columns, row[1:], strict=True)) for row in rows}
    return {lead: by_person.get(person, {}) for lead, person in pairs.items()}


def salesforce_values(info: dict[str, Any], token: str, leads: list[str]) -> dict[str, Any]:
    ids = ", ".join(f"'{lead}'" for lead in leads)
    query = f"SELECT Id, {', '.join(COMPARED)} FROM Lead WHERE Id IN ({ids})"
    body = call(info, f"{API}/query?q={urllib.parse.quote(query)}", token)
    return {str(r["Id"]): r for r in body["records"]}


def differences(
    info: dict[str, Any], token: str, data_dir: Path, pairs: dict[str, str]
) -> list[str]:
    people = people_values(data_dir, pairs)
    org = salesforce_values(info, token, list(pairs))
    found = []
    for lead in pairs:
        for name, attribute in COMPARED.items():
            left, right = org[lead].get(name) or None, people[lead].get(attribute) or None
            if left != right:
                found.append(f"{lead} {name}: Salesforce {left!r}, People {right!r}")
    return found


def last_change(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "peoplesync.db") as db:
        return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0])


def request_log(info: dict[str, Any], token: str) -> list[dict[str, Any]]:
    return list(call(info, "/sandbox/admin/requests?limit=100000", token))


def is_write(entry: dict[str, Any]) -> bool:
    """A record write (REST, sObject Collections, Bulk ingest), not a login or a stream poll."""
    path = str(entry["path"])
    return entry["method"] in ("POST", "PATCH", "PUT", "DELETE") and (
        "/sobjects" in path or "/jobs/ingest" in path or "/composite" in path
    )


def winner_value(rule: str, salesforce: Edit | None, people: Edit | None) -> str | None:
    """The value a rule must leave when both sides' last edits are clearly ordered."""
    if salesforce is None or people is None:
        edit = salesforce or people
        return edit.value if edit else None
    if abs(salesforce.at - people.at) < CLEAR_ORDER:
        return None  # either value may win: the edits raced with the runners
    later = salesforce if salesforce.at > people.at else people
    if rule == "salesforce_wins" and later is salesforce:
        return salesforce.value
    if rule == "people_wins" and later is people:
        return people.value
    if rule == "most_recent":
        return later.value
    return None  # the earlier side's change may or may not have been synced first


def test_two_way_soak_converges_without_ping_pong(tmp_path: Path) -> None:
    seconds = soak_seconds()
    rng = random.Random(31)
    with served_org(tmp_path / "org", "--seed-leads", "40", "--seed", "9") as info:
        data_dir = tmp_path / "people"
        env = environment(info, data_dir)
        connect(info, env)
        enable_outbound(env)
        two_way_profile(env, tmp_path)
        sync_once(env)
        token = login(info)
        query = urllib.parse.quote("SELECT Id FROM Lead WHERE IsConverted = false")
        open_leads = {r["Id"] for r in call(info, f"{API}/query?q={query}", token)["records"]}
        pairs = {k: v for k, v in sorted(linked_pairs(data_dir).items()) if k in open_leads}
        pairs = dict(list(pairs.items())[:25])
        assert len(pairs) >= 20
        settings = Settings(data_dir=data_dir, default_phone_region="US")
        editors = Editors(info, settings, pairs, rng)

        logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("sync", "push")}
        commands = {
            "sync": ["sync", "run", "--follow", "--reconcile-every", "5"],
            "push": ["push", "run", "--follow", "--interval", "0.5"],
        }
        processes = {
            name: subprocess.Popen(
                [*PEOPLESYNC, *command],
                stdout=logs[name],
                stderr=subprocess.STDOUT,
                env=env,
            )
            for name, command in commands.items()
        }
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                editors.step()
                time.sleep(rng.uniform(0.05, 0.6))
                for name, process in processes.items():
                    assert process.poll() is None, f"{name} stopped: see {tmp_path}/{name}.log"

            # Quiet: both sides converge.
            quiet = time.monotonic() + QUIET_TIMEOUT
            left = differences(info, token, data_dir, pairs)
            while left and time.monotonic() < quiet:
                time.sleep(1.0)
                left = differences(info, token, data_dir, pairs)
            assert left == [], left[:20]

            # ... by the rules: each field holds a value one side wrote last, and the winner's
            # when the two last edits were clearly ordered.
            org = salesforce_values(info, token, list(pairs))
            for lead in pairs:
                for name in EDITED:
                    sf_edit = editors.history.salesforce.get((lead, name))
                    people_edit = editors.history.people.get((lead, name))
                    final = org[lead].get(name)
                    candidates = {e.value for e in (sf_edit, people_edit) if e}
                    if candidates:
                        assert final in candidates, (lead, name, final, candidates)
                    expected = winner_value(TWO_WAY[name][1], sf_edit, people_edit)
                    if expected is not None:
                        assert final == expected, (lead, name, final, sf_edit, people_edit)

            # ... and peoplesync writes nothing more: its own writes never come back.
            mark = request_log(info, token)[-1]["time"]
            seq = last_change(data_dir)
            time.sleep(WATCH)
            after = [e for e in request_log(info, token) if e["time"] > mark and is_write(e)]
            assert after == []
            assert last_change(data_dir) == seq
            assert differences(info, token, data_dir, pairs) == []
            for name, process in processes.items():
                assert process.poll() is None, f"{name} stopped: see {tmp_path}/{name}.log"
        finally:
            for process in processes.values():
                process.terminate()
                process.wait(timeout=30)
            for log in logs.values():
                log.close()
        assert editors.history.edits >= seconds  # roughly one edit or more a second
