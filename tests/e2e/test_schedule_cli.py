"""`peoplesync steps schedule`: set, show in `steps list` and `config export`, refuse bad input."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from peoplesync.cli.main import app
from peoplesync.settings import Settings
from peoplesync.wiring import people_store


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    return CliRunner()


def _schedules(cli: CliRunner) -> dict[str, object]:
    listed = cli.invoke(app, ["steps", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    return {row["name"]: row.get("schedule") for row in json.loads(listed.stdout)}


def test_schedule_options_save_each_kind(cli: CliRunner, tmp_path: Path) -> None:
    for step, options in (
        ("Lead", ["--every", "15m"]),
        ("Contact", ["--daily", "6:30", "--timezone", "Europe/Paris"]),
        ("Account", ["--manual"]),
    ):
        done = cli.invoke(app, ["steps", "schedule", step, *options])
        assert done.exit_code == 0, done.output
    done = cli.invoke(app, ["steps", "schedule", "Person to Lead", "--hourly", "6", "--json"])
    assert json.loads(done.stdout) == {
        "step": "Person to Lead",
        "schedule": "every 6 hours",
        "changed": ["Person to Lead", "Person to Contact"],
    }
    assert _schedules(cli) == {
        "Account": {"kind": "manual"},
        "Lead": {"kind": "minutes", "every": 15},
        "Contact": {"kind": "daily", "at": "06:30", "timezone": "Europe/Paris"},
        "Person to Lead": {"kind": "hours", "every": 6},
        "Person to Contact": {"kind": "hours", "every": 6},
    }
    exported = tmp_path / "profile.yaml"
    assert cli.invoke(app, ["config", "export", "--file", str(exported)]).exit_code == 0
    steps = yaml.safe_load(exported.read_text())["steps"]
    assert steps[0]["schedule"] == {"kind": "manual"}
    done = cli.invoke(app, ["steps", "schedule", "Account", "--default"])
    assert done.exit_code == 0, done.output
    assert _schedules(cli)["Account"] is None


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--every", "0m"], "field schedule.every"),
        (["--every", "soon"], "--every 'soon' is not minutes or hours"),
        (["--daily", "25:00"], "field schedule.at"),
        (["--daily", "06:30", "--timezone", "Mars/Base"], "field schedule.timezone"),
        (["--manual", "--realtime"], "give exactly one schedule option"),
        ([], "give exactly one schedule option"),
    ],
)
def test_bad_schedule_options_save_nothing(cli: CliRunner, options: list[str], said: str) -> None:
    done = cli.invoke(app, ["steps", "schedule", "Lead", *options])
    assert done.exit_code == 1
    assert said in " ".join(done.output.split())
    assert _schedules(cli)["Lead"] is None


def test_status_shows_schedules_and_next_runs(cli: CliRunner) -> None:
    async def connect() -> None:
        async with people_store(Settings()) as store:
            await store.set_state("integration:default", {"login_url": "https://org.test"})

    asyncio.run(connect())
    assert cli.invoke(app, ["steps", "schedule", "Contact", "--manual"]).exit_code == 0
    assert cli.invoke(app, ["steps", "schedule", "Account", "--daily", "05:00"]).exit_code == 0
    shown = cli.invoke(app, ["status", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = {row["step"]: row for row in json.loads(shown.stdout)["schedules"]}
    assert rows["Contact"]["next_run"] is None
    assert rows["Account"]["describe"] == "daily at 05:00 UTC"
    assert rows["Account"]["next_run"].endswith("05:00:00+00:00")
    assert rows["Lead"]["default"] is True
    text = cli.invoke(app, ["status"])
    assert "schedule of Contact: manual only; next run on request" in text.stdout
