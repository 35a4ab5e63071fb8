"""The people and attributes CLI on a SQLite data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from peoplesync.cli.main import app


def said(result: Result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def squeezed(text: str) -> str:
    """``text`` without any whitespace (rich may wrap a long path anywhere)."""
    return "".join(text.split())


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    return CliRunner()


def test_import_export_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    added = runner.invoke(app, ["attributes", "add", "score", "--type", "number"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["attributes", "list", "--json"])
    assert json.loads(listed.stdout) == [
        {"name": "score", "type": "number", "mandatory": False, "description": ""}
    ]
    source = tmp_path / "people.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"email": "A@Example.com", "first_name": "Ann", "score": 3}),
                json.dumps({"email": "bad-address", "first_name": "Bob"}),
                "{not json",
                json.dumps({"emails": ["c@example.com"], "phone": "+44 20 7946 0958"}),
            ]
        )
    )
    imported = runner.invoke(app, ["people", "import", str(source), "--json"])
    assert imported.exit_code == 2  # some lines were rejected
    summary = json.loads(imported.stdout)
    assert summary["created"] == 2
    assert {(r["record"], r["field"]) for r in summary["rejected"]} == {
        ("line 2", "emails[0]"),
        ("line 3", None),
    }
    count = runner.invoke(app, ["people", "count", "--json"])
    assert json.loads(count.stdout) == {"persons": 2}
    out = tmp_path / "out.jsonl"
    exported = runner.invoke(app, ["people", "export", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    rows = sorted(
        (json.loads(line) for line in out.read_text().splitlines()), key=lambda r: r["emails"]
    )
    assert rows[0]["emails"] == ["A@example.com"]
    assert rows[0]["score"] == 3
    assert rows[1]["phones"] == ["+442079460958"]


def test_bad_attribute_type_change_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["attributes", "add", "tier", "--type", "number"]).exit_code == 0
    source = tmp_path / "p.jsonl"
    source.write_text(json.dumps({"email": "t@example.com", "tier": 2}))
    assert runner.invoke(app, ["people", "import", str(source)]).exit_code == 0
    changed = runner.invoke(app, ["attributes", "edit", "tier", "--type", "text"])
    assert changed.exit_code == 1
    assert "cannot change the type" in changed.output


def test_add_never_changes_an_existing_attribute(runner: CliRunner) -> None:
    assert runner.invoke(app, ["attributes", "add", "tier", "--type", "number"]).exit_code == 0
    again = runner.invoke(app, ["attributes", "add", "tier", "--type", "text", "--mandatory"])
    assert again.exit_code == 1
    assert "attribute 'tier' exists (type number, optional): edit it instead" in said(again)
    assert "peoplesync attributes edit tier" in said(again)
    listed = json.loads(runner.invoke(app, ["attributes", "list", "--json"]).stdout)
    assert listed == [{"name": "tier", "type": "number", "mandatory": False, "description": ""}]
    edited = runner.invoke(app, ["attributes", "edit", "tier", "--type", "text"])
    assert edited.exit_code == 0, edited.output
    assert "attribute tier (type text, optional) saved" in said(edited)


def test_mandatory_attribute_needs_confirm_while_persons_lack_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    source = tmp_path / "p.jsonl"
    source.write_text(
        "\n".join(json.dumps({"email": f"p{i}@example.com", "first_name": "P"}) for i in range(2))
    )
    assert runner.invoke(app, ["people", "import", str(source)]).exit_code == 0
    refused = runner.invoke(app, ["attributes", "add", "tier", "--mandatory"])
    assert refused.exit_code == 1
    assert "2 existing person(s) have no tier" in said(refused)
    assert "--confirm" in said(refused)
    assert json.loads(runner.invoke(app, ["attributes", "list", "--json"]).stdout) == []
    added = runner.invoke(app, ["attributes", "add", "tier", "--mandatory", "--confirm"])
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["attributes", "add", "size"]).exit_code == 0
    made = runner.invoke(app, ["attributes", "edit", "size", "--mandatory"])
    assert made.exit_code == 1 and "2 existing person(s) have no size" in said(made)
    confirmed = runner.invoke(app, ["attributes", "edit", "size", "--mandatory", "--confirm"])
    assert confirmed.exit_code == 0, confirmed.output
    listed = json.loads(runner.invoke(app, ["attributes", "list", "--json"]).stdout)
    assert sorted((a["name"], a["mandatory"]) for a in listed) == [("size", True), ("tier", True)]


def test_import_of_a_missing_file_is_an_error_naming_it(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jsonl"
    result = runner.invoke(app, ["people", "import", str(missing)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert squeezed(f"cannot read {missing}: No such file or directory") in squeezed(result.output)


def test_export_to_a_missing_folder_is_an_error_naming_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-folder" / "out.jsonl"
    result = runner.invoke(app, ["people", "export", "-o", str(target)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert squeezed(f"cannot write {target}: No such file or directory") in squeezed(result.output)


def test_import_reports_a_line_that_is_not_utf8_and_saves_the_rest(
    runner: CliRunner, tmp_path: Path
) -> None:
    source = tmp_path / "people.jsonl"
    source.write_bytes(
        b'{"email": "ann@example.com"}\n{"first_name": "B\xe9la"}\n{"email": "cy@example.com"}\n'
    )
    result = runner.invoke(app, ["people", "import", str(source), "--json"])
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    assert summary["created"] == 2
    assert [(r["record"], r["error"]) for r in summary["rejected"]] == [
        ("line 2", "record line 2: not UTF-8 text")
    ]
