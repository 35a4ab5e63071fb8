import json
import logging
import re
import shlex
from collections.abc import Iterator

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from peoplesync import __version__
from peoplesync.cli.main import app
from peoplesync.observability.log_format import log_context
from peoplesync.sync.organization import OrgAlreadyConnectedError


def test_version_json() -> None:
    result = CliRunner().invoke(app, ["version", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"version": __version__}


def test_the_org_already_connected_hint_gives_a_delete_command_the_cli_takes() -> None:
    hint = OrgAlreadyConnectedError("00Dxx0000001gPLEAY", "eu-org").hint
    found = re.search(r"peoplesync (salesforce delete[^)]*)", hint)
    assert found, hint
    group, name, *args = shlex.split(found.group(1))
    command = get_command(app).commands[group].commands[name]  # type: ignore[attr-defined]
    context = command.make_context(name, [*args, "--yes"])  # a usage error raises here
    assert context.params["name"] == "eu-org"


def test_command_lists_wrap_each_summary_as_one_paragraph() -> None:
    # `steps enable`'s docstring breaks its first paragraph after "start"
    listed = CliRunner().invoke(app, ["steps", "--help"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0
    enable = next(line for line in listed.output.splitlines() if "│ enable" in line)
    assert "integration start writing to Salesforce" in enable, listed.output


@pytest.fixture
def root_logging() -> Iterator[None]:
    """The root logger as it was (``--log-format json`` replaces its handlers)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_worker_logs_one_json_object_a_line(
    monkeypatch: pytest.MonkeyPatch, root_logging: None
) -> None:
    async def run_worker(settings: object, concurrency: int) -> None:
        with log_context(integration="a", job="7"):
            logging.getLogger("peoplesync.test").warning("Starting job %s", "peoplesync.push")

    monkeypatch.setattr("peoplesync.cli.worker.run_worker", run_worker)
    result = CliRunner().invoke(app, ["worker", "--log-format", "json"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "Starting job peoplesync.push"
    assert (entry["integration"], entry["job"], entry["level"]) == ("a", "7", "warning")


def test_worker_refuses_an_unknown_log_format() -> None:
    result = CliRunner().invoke(app, ["worker", "--log-format", "xml"])
    assert result.exit_code == 2
    assert "--log-format is text or json" in result.stderr
