"""Slowing down password and token guessing: failed logins per account and per client address,
failed API tokens per client address.

The decisions are pure functions of a key's ``Failures`` and the time; ``LoginThrottle`` keeps
the failures of one process in memory (a restart forgets them, which only helps a guesser
once per restart). A key may fail ``free_failures`` times; every further failure blocks it
for a period that doubles each time (``first_block``, up to ``longest_block``). Failures are
forgotten ``forget_after`` the last one once no block is running.

A successful login clears the account's failures, not the address's: otherwise someone with
an account of their own could log in to it between guesses at other accounts and never be
slowed down. The address's failures are forgotten with time instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from peoplesync.clock import Clock


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free and how long the blocks after them last."""

    free_failures: int
    first_block: timedelta = timedelta(seconds=30)
    longest_block: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(minutes=15)


ACCOUNT_POLICY = ThrottlePolicy(free_failures=5)
# One address may be a whole office behind NAT: more room before it is slowed down.
CLIENT_POLICY = ThrottlePolicy(free_failures=20)
TOKEN_POLICY = ThrottlePolicy(free_failures=10)


@dataclass(frozen=True)
class Failures:
    """What one key has failed lately."""

    count: int = 0
    last: datetime | None = None
    blocked_until: datetime | None = None


def current(failures: Failures, now: datetime, policy: ThrottlePolicy) -> Failures:
    """``failures`` with what is old enough forgotten."""
    if failures.blocked_until is not None and now < failures.blocked_until:
        return failures
    if failures.last is None or now - failures.last >= policy.forget_after:
        return Failures()
    return failures


def wait(failures: Failures, now: datetime) -> timedelta | None:
    """How long the key must wait before it may try again (None: it may now)."""
    if failures.blocked_until is None or now >= failures.blocked_until:
        return None
    return failures.blocked_until - now


def after_failure(failures: Failures, now: datetime, policy: ThrottlePolicy) -> Failures:
    """The key's failures after one more."""
    known = current(failures, now, policy)
    count = known.count + 1
    over = count - policy.free_failures
    if over <= 0:
        return replace(known, count=count, last=now)
    block = min(policy.first_block * 2 ** min(over - 1, 30), policy.longest_block)
    return Failures(count, now, now + block)


def retry_after_seconds(delay: timedelta) -> int:
    """A Retry-After value: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(delay.total_seconds()))


def describe(delay: timedelta) -> str:
    """A wait for people: "30 seconds", "2 minutes"."""
    seconds = retry_after_seconds(delay)
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def account_key(email: str) -> str:
    """The key of a login email (compared as the accounts store it)."""
    return f"account:{email.strip().lower()}"


def client_key(address: str | None) -> str:
    """The key of a client address trying passwords."""
    return f"client:{address or 'unknown'}"


def token_client_key(address: str | None) -> str:
    """The key of a client address trying API tokens."""
    return f"token:{address or 'unknown'}"


def _policy(key: str) -> ThrottlePolicy:
    if key.startswith("account:"):
        return ACCOUNT_POLICY
    if key.startswith("token:"):
        return TOKEN_POLICY
    return CLIENT_POLICY


class LoginThrottle:
    """The failures of this process by key (see the module's description)."""

    MAX_KEYS = 100_000  # beyond this, forgotten keys are dropped before a new one is added

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._failures: dict[str, Failures] = {}

    def retry_after(self, keys: Iterable[str]) -> timedelta | None:
        """The longest wait any of ``keys`` is under, or None when all may try now."""
        now = self.clock.now()
        waits = [wait(self._failures.get(key, Failures()), now) for key in keys]
        return max((w for w in waits if w is not None), default=None)

    def failed(self, keys: Iterable[str]) -> None:
        """Count a failure against every one of ``keys``."""
        now = self.clock.now()
        for key in keys:
            if key not in self._failures and len(self._failures) >= self.MAX_KEYS:
                self._forget(now)
            self._failures[key] = after_failure(
                self._failures.get(key, Failures()), now, _policy(key)
            )

    def succeeded(self, keys: Iterable[str]) -> None:
        """Clear the failures of ``keys`` (a login that worked)."""
        for key in keys:
            self._failures.pop(key, None)

    def _forget(self, now: datetime) -> None:
        for key, failures in list(self._failures.items()):
            if current(failures, now, _policy(key)).count == 0:
                del self._failures[key]
        while len(self._failures) >= self.MAX_KEYS:  # all are live: drop the oldest
            del self._failures[next(iter(self._failures))]


__all__ = [
    "ACCOUNT_POLICY",
    "CLIENT_POLICY",
    "TOKEN_POLICY",
    "Failures",
    "LoginThrottle",
    "ThrottlePolicy",
    "account_key",
    "after_failure",
    "client_key",
    "current",
    "describe",
    "retry_after_seconds",
    "token_client_key",
    "wait",
]
