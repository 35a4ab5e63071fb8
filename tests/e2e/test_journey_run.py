"""A small journey run by the Marketing Cloud sandbox against a real ``peoplesync serve``:
entry rows -> Message (signed execute) -> Wait -> Reports -> decision split -> Wait Until
Event. Sends reach the provider once each, the split routes on the reports, replies resume
the contacts waiting for them (events fired by ``marketing-cloud sync-reports``), and ``journeys show`` reads the paths back from the sandbox's data dir."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import ssl
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.journey_world import REPLY_EVENT, UNIT, World, journey_world, wait_for
from tests.served_org import PEOPLESYNC

ENTRY = "DEAudience-spring"
# The sandbox provider decides by the number's ending: 00 refused, 91 undeliverable.
PHONES = {
    "C-1": "+385911230001",
    "C-2": "+385911230002",
    "C-3": "+385911230091",
    "C-4": "+385911230003",
    "C-5": "+385911230000",
}
DELIVERED = ("C-1", "C-2", "C-4")


def small_journey(world: World, wait: float, reply_timeout: float) -> dict[str, Any]:
    return {
        "name": "spring",
        "entry": {
            "data_extension": "peoplesync_sample_audience",
            "event_definition_key": ENTRY,
            "contact_key": "ContactKey",
        },
        "activities": [
            {
                "key": "SMS-1",
                "type": "custom",
                "config_url": world.activity_url("message"),
                "in_arguments": [
                    {"channel": "sms"},
                    {"from": "Acme"},
                    {"text": f'Hi {{{{Event.{ENTRY}."FirstName"}}}}, spring is here'},
                    {"phone": f'{{{{Event.{ENTRY}."Mobile"}}}}'},
                    {"shortenUrl": "false"},
                    {"trackClicks": "false"},
                    {"triggerEventOnResponse": "true"},
                ],
                "next": "WAIT-1",
            },
            {"key": "WAIT-1", "type": "wait", "seconds": wait, "next": "REPORTS-1"},
            {
                "key": "REPORTS-1",
                "type": "custom",
                "config_url": world.activity_url("reports"),
                "in_arguments": [{"messageId": "{{Interaction.SMS-1.messageId}}"}],
                "next": "SPLIT-1",
            },
            {
                "key": "SPLIT-1",
                "type": "decision_split",
                "branches": [
                    {
                        "label": "delivered",
                        "when": {
                            "value": "{{Interaction.REPORTS-1.statusGroupName}}",
                            "equals": "DELIVERED",
                        },
                        "next": "REPLY-1",
                    },
                    {
                        "label": "undelivered",
                        "when": {
                            "value": "{{Interaction.REPORTS-1.statusGroupName}}",
                            "in": ["UNDELIVERABLE", "REJECTED"],
                        },
                        "next": None,
                    },
                    {
                        "label": "refused",
                        "when": {
                            "value": "{{Interaction.SMS-1.messageStatus}}",
                            "starts_with": "Error",
                        },
                        "next": None,
                    },
                    {"label": "remainder", "next": None},
                ],
            },
            {
                "key": "REPLY-1",
                "type": "wait_until_event",
                "event_definition_key": REPLY_EVENT,
                "timeout_seconds": reply_timeout,
                "next": None,
            },
        ],
    }


def _show(world: World, *options: str) -> dict[str, Any] | None:
    done = world.cli(
        "sandbox", "marketing-cloud", "journeys", "show", "spring",
        "--data-dir", str(world.mc_dir), "--json", *options,
    )  # fmt: skip
    return json.loads(done.stdout) if done.returncode == 0 else None


def _routed(world: World, contact: str) -> bool:
    shown = _show(world, "--contact", contact)
    return bool(shown and any(step["activity"] == "SPLIT-1" for step in shown.get("path", [])))


def _pages(world: World, run_id: str) -> list[str]:
    """The sandbox's journey pages a person follows: list, run, C-1's path."""
    info = world.mc
    auth = (info["client_id"], info["client_secret"])
    trust = ssl.create_default_context(cafile=info["ca_cert"])
    with httpx.Client(base_url=info["auth_url"], auth=auth, verify=trust) as http:
        listed = http.get("/sandbox").text
        assert "/sandbox/journeys" in listed  # linked from the data extensions
        runs = http.get("/sandbox/journeys").text
        assert f"/sandbox/journeys/{run_id}" in runs
        one = http.get(f"/sandbox/journeys/{run_id}").text
        assert f"/sandbox/journeys/{run_id}/contacts/C-1" in one
        path = http.get(f"/sandbox/journeys/{run_id}/contacts/C-1").text
        assert http.get("/sandbox/journeys", auth=("x", "y")).status_code == 401
    return [runs, one, path]


def test_a_small_journey_runs_against_serve(tmp_path: Path) -> None:
    contacts = [
        {"ContactKey": key, "FirstName": f"Ana {key}", "Mobile": phone}
        for key, phone in PHONES.items()
    ]
    with journey_world(tmp_path, contacts, "--report-delay", "0.2") as world:
        path = world.journey_file(small_journey(world, wait=8, reply_timeout=90))
        runner = subprocess.Popen(
            [
                *PEOPLESYNC, "sandbox", "marketing-cloud", "journeys", "run",
                "--config", str(path), "--data-dir", str(world.mc_dir), "--json",
            ],
            env=world.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for contact in DELIVERED:

            def routed(contact: str = contact) -> bool:
                assert runner.poll() is None, runner.communicate()
                return _routed(world, contact)

            wait_for(routed, 60, f"{contact} to pass the split")
            world.reply(PHONES[contact].lstrip("+"), "YES please")
        sync = ["marketing-cloud", "sync-reports", UNIT, "--once", "--json"]

        events = 0

        def fired() -> bool:
            nonlocal events
            done = world.cli(*sync, "--ca-cert", world.mc["ca_cert"])
            assert done.returncode in (0, 2), done.stderr
            events += int(json.loads(done.stdout)["events"])
            return events == len(DELIVERED)

        wait_for(fired, 60, "the replies' API events")
        out, err = runner.communicate(timeout=120)
        assert runner.returncode == 0, err
        sent = Counter(message["to"] for message in world.provider_messages())
        pages = _pages(world, json.loads(out)["run"])
    summary = json.loads(out)
    assert summary["contacts"] == summary["finished"] == 5
    assert summary["ejected"] == 0
    assert summary["branches"]["SPLIT-1"] == {"delivered": 3, "undelivered": 2}
    # Each delivered contact replied and its API event resumed it.
    shown = _show(world, "--contact", "C-1")
    assert shown is not None
    steps = [(step["activity"], step["status"]) for step in shown["path"]]
    assert steps == [
        ("SMS-1", "ok"),
        ("WAIT-1", "waited"),
        ("REPORTS-1", "ok"),
        ("SPLIT-1", "routed"),
        ("REPLY-1", "event"),
    ]
    assert shown["path"][0]["out"]["messageStatus"] == "Success: Message pending"
    assert shown["path"][2]["out"]["statusGroupName"] == "DELIVERED"
    counts = {(c["activity"], c["status"]): c["contacts"] for c in shown["counts"]}
    assert counts[("REPLY-1", "event")] == 3
    assert ("REPLY-1", "timed_out") not in counts
    # The provider took one message per contact (C-5's number is refused at send).
    assert sorted(sent.values()) == [1] * 5
    _, one, trail = pages
    assert "<td>SPLIT-1</td><td>routed</td><td>delivered</td><td>3</td>" in one
    assert "<td>REPLY-1</td><td>20" in trail and "<td>event</td>" in trail
    assert "Success: Message pending" in trail


def _recorded(world: World, activity: str) -> int:
    """Contacts the runner has stored a step at ``activity`` for (read beside it)."""
    path = world.mc_dir / "journeys.sqlite3"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        try:
            row = db.execute(
                "SELECT COUNT(DISTINCT contact_key) FROM steps WHERE activity = ?", (activity,)
            ).fetchone()
        except sqlite3.OperationalError:  # the runner has not made its tables yet
            return 0
    return int(row[0])


def test_a_killed_run_is_continued_without_sending_twice(tmp_path: Path) -> None:
    # Enough contacts that the kill lands mid-journey: the runner stores steps in batches of
    # at most 500 (or every half second), so 150 fast executes could all land in one batch.
    count = 1000
    contacts = [
        {"ContactKey": f"K-{n:04d}", "FirstName": f"N{n}", "Mobile": f"+3859{n:07d}1"}
        for n in range(count)
    ]
    with journey_world(tmp_path, contacts, "--report-delay", "0.2") as world:
        journey = {
            "name": "resumed",
            "entry": {
                "data_extension": "peoplesync_sample_audience",
                "event_definition_key": ENTRY,
            },
            "activities": [
                {
                    "key": "SMS-1",
                    "type": "custom",
                    "config_url": world.activity_url("message"),
                    "in_arguments": [
                        {"channel": "sms"},
                        {"from": "Acme"},
                        {"text": f'Hi {{{{Event.{ENTRY}."FirstName"}}}}'},
                        {"phone": f'{{{{Event.{ENTRY}."Mobile"}}}}'},
                        {"shortenUrl": "false"},
                        {"trackClicks": "false"},
                    ],
                    "next": "WAIT-1",
                },
                {"key": "WAIT-1", "type": "wait", "seconds": 3, "next": None},
            ],
        }
        path = world.journey_file(journey)
        command = [
            *PEOPLESYNC, "sandbox", "marketing-cloud", "journeys", "run", "--config", str(path),
            "--data-dir", str(world.mc_dir), "--json", "--inject-retries", "0.2",
        ]  # fmt: skip
        first = subprocess.Popen(command, env=world.env, stderr=subprocess.PIPE, text=True)

        def some_sent() -> bool:
            assert first.poll() is None, first.communicate()
            return _recorded(world, "SMS-1") >= 10

        wait_for(some_sent, 120, "ten contacts past SMS-1", every=0.05)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)  # its pipe closed
        before = _recorded(world, "SMS-1")
        assert before < count  # killed mid-journey
        summary = world.run_journey(path, "--inject-retries", "0.2")

        def all_sent() -> list[dict[str, Any]] | None:
            messages = world.provider_messages()
            return messages if len(messages) >= count else None

        sent = Counter(m["to"] for m in wait_for(all_sent, 120, "the sends at the provider"))
    assert summary["resumed"] is True
    assert summary["contacts"] == summary["finished"] == count
    assert summary["ejected"] == 0
    assert summary["paths"] == {"SMS-1 > WAIT-1": count}
    # The resumed run executed SMS-1 only for the contacts not recorded past it.
    assert summary["execute"]["SMS-1"]["calls"] == count - before
    # Each contact's number got exactly one message: none lost, none twice.
    assert len(sent) == count and set(sent.values()) == {1}
    runs = json.loads(
        world.cli(
            "sandbox",
            "marketing-cloud",
            "journeys",
            "show",
            "resumed",
            "--data-dir",
            str(world.mc_dir),
            "--json",
        ).stdout
    )
    assert runs["runs"] == 1 and runs["finished"] is not None
