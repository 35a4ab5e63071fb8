"""The Message activity's execute call: reading it, and the draft or messageStatus it gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from peoplesync.errors import JourneyRequestError
from peoplesync.marketing_cloud.execute import (
    bulk_id_for,
    out_arguments,
    parse_execute,
    plan_message,
)
from peoplesync.messaging.channels.message_status import MessageStatus as S
from peoplesync.messaging.speed_limit import TimeUnit


def body(*arguments: dict[str, Any], **top: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "inArguments": list(arguments),
        "outArguments": [],
        "activityObjectID": "act-1",
        "journeyId": "journey-v3",
        "activityId": "act-1",
        "definitionInstanceId": "run-9",
        "activityInstanceId": "inst-1",
        "keyValue": "contact-7",
        "mode": 0,
    }
    base.update(top)
    return base


SMS = (
    {"channel": "sms"},
    {"account": "main"},
    {"text": "Hello Ana"},
    {"shortenUrl": "false"},
    {"trackClicks": "false"},
)


def test_a_complete_sms_call_becomes_a_draft_keyed_by_activity_and_run() -> None:
    call = parse_execute(body(*SMS, {"phone": "+385 91 234 5678"}))
    plan = plan_message(call, mid="5100", default_account=None)
    assert plan.refusal is None and plan.draft is not None
    assert plan.draft.idempotency_key == "jb:act-1:run-9"
    assert plan.draft.account == "main"
    assert plan.draft.request["to"] == "+385 91 234 5678"
    assert plan.draft.request["shortenUrl"] is False
    callback = json.loads(plan.draft.callback_data or "{}")
    assert callback["ActivityId"] == "act-1"
    assert callback["ContactKey"] == "contact-7"
    assert callback["MID"] == "5100"
    assert callback["BulkId"] == "peoplesync SMS"
    assert "channel" not in plan.draft.request and "account" not in plan.draft.request


def test_retries_of_one_contact_share_the_key_and_other_runs_do_not() -> None:
    first = parse_execute(body(*SMS, {"phone": "+38591"}))
    again = parse_execute(body(*SMS, {"phone": "+38591"}, activityInstanceId="inst-2"))
    other = parse_execute(body(*SMS, {"phone": "+38591"}, definitionInstanceId="run-10"))
    assert first.dedupe_key == again.dedupe_key != other.dedupe_key


def test_the_first_populated_phone_field_is_used() -> None:
    call = parse_execute(
        body(*SMS, {"phone": ""}, {"phone": "  "}, {"phone": "+385912345678"}, {"phone": "+1555"})
    )
    plan = plan_message(call, mid="1", default_account=None)
    assert plan.draft is not None and plan.draft.request["to"] == "+385912345678"


def test_no_phone_at_all_answers_the_missing_phone_status() -> None:
    call = parse_execute(body(*SMS, {"phone": ""}))
    plan = plan_message(call, mid="1", default_account=None)
    assert plan.refusal is not None and plan.refusal.status is S.MISSING_PHONE
    assert plan.draft is not None and plan.draft.request["to"] == ""  # stored as invalid
    assert out_arguments(plan.refusal.status, None) == {
        "messageStatus": "Error: Missing phone number in request",
        "messageId": "",
    }


def test_missing_tracking_flags_answer_the_seed_statuses() -> None:
    call = parse_execute(
        body({"channel": "sms"}, {"account": "a"}, {"text": "hi"}, {"phone": "+38591234567"})
    )
    refusal = plan_message(call, mid="1", default_account=None).refusal
    assert refusal is not None and refusal.status is S.MISSING_TRACK_CLICKS


def test_custom_callback_data_is_merged_and_reserved_names_refused() -> None:
    fine = parse_execute(body(*SMS, {"phone": "+38591234567"}, {"callbackData": '{"Offer": "X1"}'}))
    plan = plan_message(fine, mid="1", default_account=None)
    assert plan.draft is not None
    assert json.loads(plan.draft.callback_data or "{}")["Offer"] == "X1"
    reserved = parse_execute(
        body(*SMS, {"phone": "+38591234567"}, {"callbackData": {"ContactKey": "mine"}})
    )
    refusal = plan_message(reserved, mid="1", default_account=None).refusal
    assert refusal is not None and refusal.status is S.INVALID_CALLBACK_DATA
    assert refusal.field == "callbackData.ContactKey"


def test_callback_data_over_4000_characters_with_the_journey_fields_is_refused() -> None:
    # the custom part alone fits; with the fields peoplesync adds it does not
    custom = {"Notes": "n" * 3_960}
    call = parse_execute(body(*SMS, {"phone": "+38591234567"}, {"callbackData": custom}))
    refusal = plan_message(call, mid="1", default_account=None).refusal
    assert refusal is not None and refusal.status is S.INVALID_CALLBACK_DATA
    assert "4000" in refusal.detail


def test_speed_limit_is_kept_per_journey_version_and_activity() -> None:
    call = parse_execute(
        body(
            *SMS, {"phone": "+38591234567"}, {"speedLimitAmount": "500"}, {"speedLimitUnit": "hour"}
        )
    )
    plan = plan_message(call, mid="1", default_account=None)
    assert plan.limit is not None and plan.limit.unit is TimeUnit.HOUR
    assert plan.limit.interval.total_seconds() == pytest.approx(7.2)
    assert plan.limit_key == "journey-v3:act-1"
    bad = parse_execute(body(*SMS, {"phone": "+38591234567"}, {"speedLimitAmount": "200000"}))
    refusal = plan_message(bad, mid="1", default_account=None).refusal
    assert refusal is not None and refusal.status is S.INVALID_SPEED_LIMIT


def test_the_business_units_default_account_fills_in_and_none_at_all_is_an_error() -> None:
    call = parse_execute(
        body(
            {"channel": "sms"},
            {"text": "x"},
            {"shortenUrl": False},
            {"trackClicks": False},
            {"phone": "+38591234567"},
        )
    )
    assert plan_message(call, mid="1", default_account="fallback").draft is not None
    refusal = plan_message(call, mid="1", default_account=None).refusal
    assert refusal is not None and refusal.status is S.MISSING_ACCOUNT


def test_an_unknown_channel_is_a_status_not_an_exception() -> None:
    call = parse_execute(body({"channel": "pigeon"}, {"phone": "+38591234567"}))
    refusal = plan_message(call, mid="1", default_account="a").refusal
    assert refusal is not None and refusal.status is S.UNKNOWN_CHANNEL
    no_account = plan_message(call, mid="1", default_account=None)
    assert no_account.draft is None and no_account.refusal == refusal


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"inArguments": "nope"}, "inArguments"),
        ({"activityId": "", "activityObjectID": ""}, "activityId"),
        ({"definitionInstanceId": None}, "definitionInstanceId"),
    ],
)
def test_an_unreadable_call_names_the_field(broken: dict[str, Any], field: str) -> None:
    with pytest.raises(JourneyRequestError) as caught:
        parse_execute(body(*SMS, **broken))
    assert caught.value.field == field


def test_bad_json_in_an_argument_names_it() -> None:
    with pytest.raises(JourneyRequestError) as caught:
        parse_execute(body(*SMS, {"callbackData": "{not json"}))
    assert caught.value.field == "inArguments.callbackData"


def test_bulk_id_is_the_activity_name_or_the_channel_default() -> None:
    assert bulk_id_for("sms", "Spring sale SMS") == "Spring sale SMS"
    assert bulk_id_for("whatsapp", "") == "peoplesync WhatsApp"
    assert bulk_id_for("kakao-alim", None) == "peoplesync Kakao Alim"
