"""Throttled guessing through the web app: failed logins per account and per address get 429
with Retry-After and a message on the login page; failed API tokens get a 429 error body."""

from __future__ import annotations

from datetime import timedelta

import httpx

from peoplesync.clock import ManualClock
from peoplesync.web.login_throttle import ACCOUNT_POLICY, CLIENT_POLICY, TOKEN_POLICY
from tests.web.conftest import ADMIN_EMAIL, PASSWORD, VIEWER_EMAIL, ClientFactory, Users
from tests.web.test_api import error_of
from tests.web.test_pages import log_in


async def test_failed_logins_block_the_account_for_a_while_and_success_resets(
    client: ClientFactory, users: Users, clock: ManualClock
) -> None:
    async with client() as http:
        for _ in range(ACCOUNT_POLICY.free_failures):
            assert (await log_in(http, ADMIN_EMAIL, "wrong password")).status_code == 401
        blocked = await log_in(http, ADMIN_EMAIL, "wrong password")
        assert blocked.status_code == 429
        assert blocked.headers["Retry-After"] == "30"
        assert "Wrong email or password. Too many failed logins" in blocked.text
        assert "try again in 30 seconds" in blocked.text
        # while blocked, even the right password is refused (and not checked)
        right = await log_in(http, ADMIN_EMAIL)
        assert right.status_code == 429
        assert "peoplesync_session" not in right.headers.get("set-cookie", "")
        assert 'role="alert"' in right.text and "try again in 30 seconds" in right.text
        # another account from the same address may still log in
        assert (await log_in(http, VIEWER_EMAIL)).status_code == 303

        clock.advance(timedelta(seconds=30))
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        # the successful login cleared the account's failures: five more are free again
        for _ in range(ACCOUNT_POLICY.free_failures):
            assert (await log_in(http, ADMIN_EMAIL, "wrong password")).status_code == 401


async def test_one_address_guessing_many_accounts_is_blocked(
    client: ClientFactory, users: Users, clock: ManualClock
) -> None:
    async with client() as http:
        for i in range(CLIENT_POLICY.free_failures):
            response = await log_in(http, f"guess{i}@example.com", "wrong password")
            assert response.status_code == 401
        blocked = await log_in(http, "guess-last@example.com", "wrong password")
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) == 30
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 429
        clock.advance(timedelta(seconds=31))
        assert (await log_in(http, ADMIN_EMAIL, PASSWORD)).status_code == 303


async def test_failed_api_tokens_are_throttled_with_the_error_body(
    client: ClientFactory, users: Users, clock: ManualClock
) -> None:
    async with client("pst_guess") as guesser, client(users.admin_token) as admin:
        for _ in range(TOKEN_POLICY.free_failures):
            assert (await guesser.get("/api/v1/me")).status_code == 401
        blocked = await guesser.get("/api/v1/me")
        assert blocked.status_code == 429
        assert blocked.headers["Retry-After"] == "30"
        error = error_of(blocked)
        assert error["code"] == "TOO_MANY_REQUESTS"
        assert error["message"] == (
            "the API token is not valid; too many failed API token attempts from this "
            "address; try again in 30 seconds"
        )
        clock.advance(timedelta(seconds=10))
        again = await guesser.get("/api/v1/me")
        assert again.status_code == 429
        assert again.headers["Retry-After"] == "20"
        assert error_of(again)["message"].startswith("too many failed API token attempts")
        # the address is blocked for tokens, whichever token it sends
        assert (await admin.get("/api/v1/me")).status_code == 429
        clock.advance(timedelta(seconds=20))
        assert (await admin.get("/api/v1/me")).status_code == 200
        # the valid token cleared the address's failures
        assert (await guesser.get("/api/v1/me")).status_code == 401


async def test_browser_sessions_are_not_throttled_by_token_failures(
    client: ClientFactory, users: Users
) -> None:
    async with client("pst_guess") as guesser, client() as browser:
        for _ in range(TOKEN_POLICY.free_failures + 1):
            await guesser.get("/api/v1/me")
        assert (await log_in(browser, ADMIN_EMAIL)).status_code == 303
        me = await browser.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert isinstance(me, httpx.Response)
