"""The Reports activity's answers: the five delivery groups, SEEN, clicks and server time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from peoplesync.marketing_cloud.report_answer import (
    Click,
    DeliveryFacts,
    click_answer,
    delivery_answer,
)
from peoplesync.marketing_cloud.server_time import from_server_time, server_time

T = datetime(2026, 12, 5, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("group", "name", "expected"),
    [
        ("DELIVERED", "DELIVERED_TO_HANDSET", "DELIVERED"),
        ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED", "UNDELIVERABLE"),
        ("REJECTED", "REJECTED_DESTINATION", "REJECTED"),
        ("EXPIRED", "EXPIRED_EXPIRED", "EXPIRED"),
        ("PENDING", "PENDING_ENROUTE", "NOT_AVAILABLE"),
    ],
)
def test_each_group_routes_and_pending_is_not_available(
    group: str, name: str, expected: str
) -> None:
    answer = delivery_answer(DeliveryFacts(group, name, sent_at=T, done_at=T))
    assert answer["statusGroupName"] == answer["branchResult"] == expected
    assert answer["statusName"] == (name if expected != "NOT_AVAILABLE" else "NOT_AVAILABLE")
    assert answer["doneAt"] == ("" if expected == "NOT_AVAILABLE" else "2026-12-05T06:00:00.123")


def test_no_report_at_all_is_not_available_and_not_seen() -> None:
    answer = delivery_answer(None)
    assert answer["branchResult"] == "NOT_AVAILABLE"
    assert answer["seen"] == "NOT_SEEN" and answer["seenAt"] == ""


def test_a_seen_report_says_seen() -> None:
    answer = delivery_answer(DeliveryFacts("DELIVERED", "DELIVERED_TO_HANDSET", seen_at=T))
    assert answer["seen"] == "SEEN" and answer["seenAt"].startswith("2026-12-05T06:00")


def test_clicks_answer_the_first_clicked_url_or_not_clicked() -> None:
    later = T.replace(hour=13)
    clicks = [Click("https://b.example/x", later), Click("https://a.example/", T)]
    assert click_answer(clicks)["url"] == "https://a.example/"
    assert click_answer(clicks, "https://b.example/x")["url"] == "https://b.example/x"
    assert click_answer(clicks, "https://c.example/")["url"] == "NOT_CLICKED"
    assert click_answer([]) == {
        "notificationType": "",
        "url": "NOT_CLICKED",
        "branchResult": "NOT_CLICKED",
    }


def test_server_time_is_utc_minus_six_all_year_and_round_trips() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert server_time(summer) == "2026-07-01T06:00:00.000"
    assert server_time(T) == "2026-12-05T06:00:00.123"
    assert from_server_time("2026-07-01T06:00:00.000") == summer
    assert from_server_time("2017-10-27T16:00:38.98") == datetime(
        2017, 10, 27, 22, 0, 38, 980000, tzinfo=UTC
    )
