"""Login and API token throttling decisions, on a clock that moves only when told to."""

from __future__ import annotations

from datetime import timedelta

from peoplesync.clock import ManualClock
from peoplesync.web.login_throttle import (
    ACCOUNT_POLICY,
    CLIENT_POLICY,
    Failures,
    LoginThrottle,
    ThrottlePolicy,
    account_key,
    after_failure,
    client_key,
    describe,
    retry_after_seconds,
    token_client_key,
    wait,
)

POLICY = ThrottlePolicy(
    free_failures=3,
    first_block=timedelta(seconds=30),
    longest_block=timedelta(minutes=4),
    forget_after=timedelta(minutes=10),
)


def fail(times: int, clock: ManualClock, failures: Failures | None = None) -> Failures:
    state = failures or Failures()
    for _ in range(times):
        state = after_failure(state, clock.now(), POLICY)
    return state


def test_free_failures_do_not_block() -> None:
    clock = ManualClock()
    state = fail(3, clock)
    assert state.count == 3
    assert wait(state, clock.now()) is None


def test_each_failure_past_the_free_ones_doubles_the_block_up_to_the_longest() -> None:
    clock = ManualClock()
    state = fail(4, clock)
    assert wait(state, clock.now()) == timedelta(seconds=30)
    blocks = []
    for _ in range(5):
        clock.advance(wait(state, clock.now()) or timedelta())  # wait out the block, fail again
        state = after_failure(state, clock.now(), POLICY)
        blocks.append(wait(state, clock.now()))
    assert blocks == [
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=240),
        timedelta(seconds=240),  # longest_block caps it
        timedelta(seconds=240),
    ]


def test_a_block_runs_out_and_old_failures_are_forgotten() -> None:
    clock = ManualClock()
    state = fail(4, clock)
    clock.advance(timedelta(seconds=29))
    assert wait(state, clock.now()) == timedelta(seconds=1)
    clock.advance(timedelta(seconds=1))
    assert wait(state, clock.now()) is None
    clock.advance(POLICY.forget_after)
    again = after_failure(state, clock.now(), POLICY)
    assert again.count == 1  # a fresh start: the earlier failures are forgotten
    assert wait(again, clock.now()) is None


def test_failures_spread_wider_than_forget_after_never_block() -> None:
    clock = ManualClock()
    state = Failures()
    for _ in range(20):
        state = after_failure(state, clock.now(), POLICY)
        clock.advance(POLICY.forget_after)
    assert state.count == 1
    assert wait(state, clock.now()) is None


def test_throttle_blocks_the_account_after_five_failures_and_success_clears_it() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock)
    keys = [account_key(" Ada@Example.com "), client_key("10.0.0.1")]
    for _ in range(ACCOUNT_POLICY.free_failures):
        assert throttle.retry_after(keys) is None
        throttle.failed(keys)
    assert throttle.retry_after(keys) is None
    throttle.failed(keys)
    assert throttle.retry_after(keys) == ACCOUNT_POLICY.first_block
    # the same account from another address is blocked too; another account is not
    assert throttle.retry_after([account_key("ada@example.com"), client_key("10.9.9.9")])
    assert throttle.retry_after([account_key("bob@example.com"), client_key("10.0.0.1")]) is None
    clock.advance(ACCOUNT_POLICY.first_block)
    throttle.succeeded([account_key("ada@example.com")])
    throttle.failed(keys)  # counting starts again after the successful login
    assert throttle.retry_after(keys) is None


def test_an_address_guessing_many_accounts_is_blocked_and_a_login_does_not_clear_it() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock)
    address = client_key("203.0.113.7")
    for i in range(CLIENT_POLICY.free_failures + 1):
        throttle.failed([account_key(f"user{i}@example.com"), address])
    waiting = throttle.retry_after([account_key("mine@example.com"), address])
    assert waiting == CLIENT_POLICY.first_block
    throttle.succeeded([account_key("mine@example.com")])
    assert throttle.retry_after([address]) == CLIENT_POLICY.first_block
    clock.advance(CLIENT_POLICY.forget_after)
    assert throttle.retry_after([address]) is None


def test_token_failures_block_the_address_and_a_valid_token_clears_them() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock)
    keys = [token_client_key("10.0.0.2")]
    for _ in range(11):
        throttle.failed(keys)
    assert throttle.retry_after(keys) == timedelta(seconds=30)
    assert throttle.retry_after([token_client_key("10.0.0.3")]) is None
    clock.advance(timedelta(seconds=30))
    throttle.succeeded(keys)
    throttle.failed(keys)
    assert throttle.retry_after(keys) is None


def test_the_table_of_keys_stays_bounded() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock)
    throttle.MAX_KEYS = 10
    for i in range(25):
        throttle.failed([client_key(f"10.0.0.{i}")])
    assert len(throttle._failures) <= 10
    throttle.failed([client_key("10.0.1.1")])
    assert client_key("10.0.1.1") in throttle._failures


def test_waits_in_words_and_in_retry_after_seconds() -> None:
    assert retry_after_seconds(timedelta(milliseconds=1)) == 1
    assert retry_after_seconds(timedelta(seconds=29, milliseconds=1)) == 30
    assert describe(timedelta(seconds=1)) == "1 second"
    assert describe(timedelta(seconds=30)) == "30 seconds"
    assert describe(timedelta(minutes=4)) == "4 minutes"
