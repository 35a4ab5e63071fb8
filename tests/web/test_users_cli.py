"""`peoplesync users add|list|token` and the first admin created by `peoplesync serve`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from peoplesync.cli.main import app
from peoplesync.clock import ManualClock
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.web.accounts import Accounts, Role, ensure_first_admin
from tests.web.conftest import FAST_HASHER


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PEOPLESYNC_DATA_DIR": str(tmp_path / "data"), "PEOPLESYNC_DATABASE_URL": ""}


def test_add_list_and_token(env: dict[str, str]) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["users", "add", "Boss@Example.com", "--role", "admin"],
        env={**env, "PEOPLESYNC_USER_PASSWORD": "a long enough password"},
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["email"] == "boss@example.com"
    prompted = runner.invoke(
        app, ["users", "add", "look@example.com"], env=env, input="another password\n" * 2
    )
    assert prompted.exit_code == 0, prompted.output
    listed = [
        json.loads(line)
        for line in runner.invoke(app, ["users", "list"], env=env).stdout.splitlines()
    ]
    assert [(u["email"], u["role"]) for u in listed] == [
        ("boss@example.com", "admin"),
        ("look@example.com", "viewer"),
    ]
    as_array = runner.invoke(app, ["users", "list", "--json"], env=env)  # as every list command
    assert (as_array.exit_code, json.loads(as_array.stdout)) == (0, listed)
    token = runner.invoke(app, ["users", "token", "boss@example.com"], env=env)
    assert token.exit_code == 0
    assert token.stdout.startswith("pst_")

    again = runner.invoke(
        app, ["users", "add", "boss@example.com"], env={**env, "PEOPLESYNC_USER_PASSWORD": "x" * 12}
    )
    assert again.exit_code == 1
    short = runner.invoke(
        app, ["users", "add", "new@example.com"], env={**env, "PEOPLESYNC_USER_PASSWORD": "short"}
    )
    assert short.exit_code == 1
    assert "at least 10 characters" in short.output
    unknown = runner.invoke(app, ["users", "token", "nobody@example.com"], env=env)
    assert unknown.exit_code == 1


async def test_first_admin_gets_a_one_time_password_once(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    accounts = Accounts(store.engine, clock, hasher=FAST_HASHER)
    password = await ensure_first_admin(accounts, "admin@example.com")
    assert password is not None
    user = await accounts.authenticate("admin@example.com", password)
    assert user is not None
    assert (user.role, user.must_change_password) == (Role.ADMIN, True)
    assert await ensure_first_admin(accounts, "admin@example.com") is None


async def test_passwords_are_stored_as_argon2id(store: SqlPeopleStore, clock: ManualClock) -> None:
    accounts = Accounts(store.engine, clock)  # the production parameters
    await accounts.add_user("a@example.com", "a long enough password", Role.VIEWER)
    async with store.engine.connect() as conn:
        stored = await conn.scalar(text("SELECT password_hash FROM web_users"))
    assert str(stored).startswith("$argon2id$")
    assert "a long enough password" not in str(stored)
    assert await accounts.authenticate("a@example.com", "a long enough password") is not None
    assert await accounts.authenticate("a@example.com", "wrong password!") is None


def test_add_checks_the_email_before_asking_for_a_password(env: dict[str, str]) -> None:
    """A taken or invalid email is refused at once: no password prompt first."""
    runner = CliRunner()
    first = runner.invoke(
        app,
        ["users", "add", "boss@example.com"],
        env={**env, "PEOPLESYNC_USER_PASSWORD": "a long enough password"},
    )
    assert first.exit_code == 0, first.output
    for email, said in (("BOSS@example.com", "exists"), ("not-an-email", "email")):
        refused = runner.invoke(app, ["users", "add", email], env=env, input="")
        assert refused.exit_code == 1, refused.output
        assert "Password" not in refused.output
        assert said in refused.output
        assert "merge the two persons" not in refused.output  # the persons' hint, not a user's
