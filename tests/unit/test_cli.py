import json

from typer.testing import CliRunner

from peoplesync import __version__
from peoplesync.cli.main import app


def test_version_json() -> None:
    result = CliRunner().invoke(app, ["version", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"version": __version__}
