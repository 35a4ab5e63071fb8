"""Issue 15's end-to-end journey: 1,000 contacts in the Marketing Cloud sandbox's entry data
extension -> SMS Message with link tracking -> Wait -> delivery split (the Reports split) ->
branches, against ``peoplesync serve`` and the sandbox provider.

Journey Builder retries are injected (a tenth of the successful executes are sent again),
and ``serve`` is SIGKILLed once every contact has been executed (its send loop is sending)
and started again. Then: each contact reached the provider exactly once, the split's branches
follow the provider's outcome table, a reply resumes its contact from Wait Until Event, and
``marketing-cloud sync-reports`` writes the delivery reports and the clicks into the data
extensions."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import ssl
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import SMS_DELIVERY_REPORTS
from tests.journey_world import REPLY_EVENT, UNIT, World, journey_world, wait_for
from tests.served_org import PEOPLESYNC

CONTACTS = 1_000
ENTRY = "DEAudience-thousand"
CLICKS = 10
# The sandbox provider's outcome table by the number's last two digits.
OUTCOMES = {"00": "REJECTED", "91": "UNDELIVERABLE", "92": "EXPIRED", "93": "REJECTED"}
ENDINGS = ["00", "91", "92", "93", *(f"{n:02d}" for n in range(10, 26))]  # 4 in 20 fail
HANDSET = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"


def _phone(n: int) -> str:
    return f"+38591{n:05d}{ENDINGS[n % len(ENDINGS)]}"


def _expected(n: int) -> str:
    return OUTCOMES.get(_phone(n)[-2:], "DELIVERED")


def _journey(world: World) -> dict[str, Any]:
    split = {name: None for name in ("UNDELIVERABLE", "REJECTED", "EXPIRED", "NOT_AVAILABLE")}
    return {
        "name": "thousand",
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
                    {"text": f'{{{{Event.{ENTRY}."FirstName"}}}}: https://example.com/spring'},
                    {"phone": f'{{{{Event.{ENTRY}."Mobile"}}}}'},
                    {"shortenUrl": "true"},
                    {"trackClicks": "true"},
                    {"triggerEventOnResponse": "true"},
                ],
                "next": "WAIT-1",
            },
            {"key": "WAIT-1", "type": "wait", "seconds": 60, "next": "SPLIT-1"},
            {
                "key": "SPLIT-1",
                "type": "custom",
                "config_url": world.activity_url("delivery-split"),
                "in_arguments": [{"messageId": "{{Interaction.SMS-1.messageId}}"}],
                "outcomes": {"DELIVERED": "REPLY-1", **split},
            },
            {
                "key": "REPLY-1",
                "type": "wait_until_event",
                "event_definition_key": REPLY_EVENT,
                "timeout_seconds": 30,
                "next": None,
            },
        ],
    }


def _counts(world: World) -> dict[tuple[str, str], int]:
    done = world.cli(
        "sandbox", "marketing-cloud", "journeys", "show", "thousand",
        "--data-dir", str(world.mc_dir), "--json",
    )  # fmt: skip
    if done.returncode != 0:
        return {}
    shown = json.loads(done.stdout)
    return {(c["activity"], c["status"]): c["contacts"] for c in shown["counts"]}


def _sync(world: World) -> dict[str, Any]:
    done = world.cli(
        "marketing-cloud",
        "sync-reports",
        UNIT,
        "--once",
        "--json",
        "--ca-cert",
        world.mc["ca_cert"],
    )
    assert done.returncode == 0, done.stderr + done.stdout
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


async def _rows(info: dict[str, Any], key: str) -> int:
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_cert"])) as http:
        client = MarketingCloudClient(
            info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
        )
        found = await client.read_rows(key, page_size=1)
    return int(found["count"])


def test_a_thousand_contacts_through_a_journey(tmp_path: Path) -> None:
    contacts = [
        {"ContactKey": f"K-{n:04d}", "FirstName": f"Ana {n}", "Mobile": _phone(n)}
        for n in range(CONTACTS)
    ]
    replier = next(n for n in range(CONTACTS) if _expected(n) == "DELIVERED")
    # Reports the provider could not post while serve was down come again within a second.
    faster = ("--report-delay", "0.2", "--retry-scale", "0.01")
    with journey_world(tmp_path, contacts, *faster) as world:
        runner = subprocess.Popen(
            [
                *PEOPLESYNC, "sandbox", "marketing-cloud", "journeys", "run",
                "--config", str(world.journey_file(_journey(world))),
                "--data-dir", str(world.mc_dir), "--json",
                "--inject-retries", "0.1", "--seed", "15",
            ],
            env=world.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

        def counted(activity: str, status: str, wanted: int) -> bool:
            assert runner.poll() is None, runner.communicate()
            return _counts(world).get((activity, status), 0) >= wanted

        wait_for(lambda: counted("SMS-1", "ok", CONTACTS), 120, "every contact executed", 1.0)
        # Before the first contact's wait is over (none is being executed); the send loop
        # is still sending and reports are coming in.
        world.kill_serve()
        world.start_serve()

        def at_reply() -> bool:
            assert runner.poll() is None, runner.communicate()
            done = world.cli(
                "sandbox", "marketing-cloud", "journeys", "show", "thousand",
                "--data-dir", str(world.mc_dir), "--json", "--contact", f"K-{replier:04d}",
            )  # fmt: skip
            path = json.loads(done.stdout).get("path", []) if done.returncode == 0 else []
            return any(step["activity"] == "SPLIT-1" for step in path)

        wait_for(at_reply, 180, "the replier past the split", 1.0)
        world.reply(_phone(replier).lstrip("+"), "YES")
        wait_for(lambda: _sync(world)["events"] > 0, 60, "the reply's event", 1.0)
        out, err = runner.communicate(timeout=180)
        assert runner.returncode == 0, err
        summary = json.loads(out)
        messages = world.provider_messages()
        database = sqlite3.connect(tmp_path / "data" / "peoplesync.db")
        links = [row[0] for row in database.execute("SELECT base || '/' || code FROM short_links")]
        database.close()
        steps = sqlite3.connect(world.mc_dir / "journeys.sqlite3")
        retried = list(
            steps.execute(
                "SELECT json_extract(o.out, '$.messageId'), json_extract(r.out, '$.messageId') "
                "FROM steps r JOIN steps o ON o.run_id = r.run_id AND o.contact_key = "
                "r.contact_key AND o.activity = r.activity AND o.status = 'ok' "
                "WHERE r.status = 'retry' AND r.activity = 'SMS-1' AND r.code = 200"
            )
        )
        steps.close()
        with httpx.Client(headers={"User-Agent": HANDSET}) as handset:
            for link in links[:CLICKS]:
                assert handset.get(link).status_code in (302, 303, 307)
        _sync(world)  # the reports that came after the reply's pass, and the reply's row
        delivery_rows = asyncio.run(_rows(world.mc, SMS_DELIVERY_REPORTS.key))
        database = sqlite3.connect(tmp_path / "data" / "peoplesync.db")
        clicked = database.execute("SELECT COUNT(*) FROM link_clicks").fetchone()[0]
        database.close()
        replied = _counts(world)
    # Exactly one message per contact reached the provider, retries and the kill included.
    per_number = Counter(message["to"] for message in messages)
    assert len(per_number) == CONTACTS and set(per_number.values()) == {1}
    assert summary["contacts"] == summary["finished"] == CONTACTS
    assert summary["ejected"] == 0
    assert summary["retries_injected"] > 50
    # A retried Message execute answered with the message of the first call (its status may
    # have moved on; a split's answer may too, as reports arrive). Retries in flight when
    # serve was killed got no answer: they count among the provider's messages above.
    assert retried and all(first == again for first, again in retried)
    # The split follows the provider's outcomes (REJECTED covers refused at send, 00).
    expected = Counter(_expected(n) for n in range(CONTACTS))
    assert summary["branches"]["SPLIT-1"] == dict(expected)
    assert replied[("REPLY-1", "event")] == 1
    assert replied[("REPLY-1", "timed_out")] == expected["DELIVERED"] - 1
    assert len(links) == CONTACTS
    assert delivery_rows == CONTACTS
    assert clicked == CLICKS  # recorded by peoplesync; see the docs on Unified URL Tracking
