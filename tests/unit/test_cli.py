import json
import re
import shlex

from typer.main import get_command
from typer.testing import CliRunner

from peoplesync import __version__
from peoplesync.cli.main import app
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
