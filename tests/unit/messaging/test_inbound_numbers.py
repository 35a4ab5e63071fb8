"""A number's inbound state and the one action each state allows (pure)."""

from __future__ import annotations

import pytest

from peoplesync.errors import ValidationError
from peoplesync.messaging.inbound_numbers import (
    Action,
    InboundConfig,
    InboundNumberError,
    NumberState,
    check_action,
    config_channel,
    is_ours,
    normalise_number,
    status_of,
)

HOOK = "https://people.example.com/hooks/messaging/main/inbound?token=abc"


def _config(
    url: str | None, *, keyword: str | None = None, kind: str = "HTTP_FORWARD"
) -> InboundConfig:
    return InboundConfig("K1", "SMS", "385981000123", keyword, kind if url else None, url)


@pytest.mark.parametrize(
    ("configs", "state", "action"),
    [
        ([], NumberState.NOT_CONFIGURED, Action.CREATE),
        ([_config(HOOK)], NumberState.OURS, Action.REMOVE),
        ([_config("https://people.example.com/hooks/messaging/main/inbound?token=old")],
         NumberState.OURS, Action.REMOVE),
        ([_config("https://elsewhere.example.com/mo")], NumberState.ELSEWHERE, Action.USE_DEFAULT),
        ([_config("https://people.example.com/hooks/messaging/other/inbound")],
         NumberState.ELSEWHERE, Action.USE_DEFAULT),
        ([_config(None)], NumberState.NOT_CONFIGURED, Action.CREATE),
        ([_config("x", kind="PULL")], NumberState.ELSEWHERE, Action.USE_DEFAULT),
        # a keyword configuration takes only its keyword's replies: the number stays unconfigured
        ([_config(HOOK, keyword="QUIZ")], NumberState.NOT_CONFIGURED, Action.CREATE),
    ],
)  # fmt: skip
def test_state_and_its_action(
    configs: list[InboundConfig], state: NumberState, action: Action
) -> None:
    status = status_of("385981000123", "SMS", configs, HOOK)
    assert (status.state, status.action) == (state, action)
    check_action(status, action)  # the allowed one passes
    for other in set(Action) - {action}:
        with pytest.raises(InboundNumberError) as refused:
            check_action(status, other)
        assert refused.value.record == "385981000123" and action.value in str(refused.value)


def test_the_token_is_never_shown() -> None:
    shown = status_of("385981000123", "SMS", [_config(HOOK)], HOOK).as_json()
    assert shown["forwards_to"] == "https://people.example.com/hooks/messaging/main/inbound"
    assert "abc" not in str(shown)


def test_is_ours_compares_scheme_host_and_path() -> None:
    assert is_ours("https://PEOPLE.example.com/hooks/messaging/main/inbound/", HOOK)
    assert not is_ours("http://people.example.com/hooks/messaging/main/inbound", HOOK)
    assert not is_ours(None, HOOK)


def test_numbers_and_channels_are_checked() -> None:
    assert normalise_number("+385 (98) 100-0123") == "385981000123"
    with pytest.raises(ValidationError, match="field 'number'"):
        normalise_number("call me")
    assert config_channel("Viber") == "VIBER_BM"
    with pytest.raises(ValidationError, match=r"field 'channel'.*kakao-alim"):
        config_channel("kakao-alim")
