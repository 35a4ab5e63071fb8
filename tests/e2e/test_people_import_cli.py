"""`peoplesync people import` as a process: every line is counted once (created, updated,
unchanged, merged into an earlier line's person, rejected), so the counts add up."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.served_org import PEOPLESYNC

LINES = [
    {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
    {"email": "alan@example.org", "first_name": "Alan"},
    {"email": "ADA@example.com", "last_name": "King"},
    {"email": "not-an-email", "first_name": "Bad"},
    {"email": "grace@example.com", "birth_date": "2099-01-01"},
]


def _import(data_dir: Path, source: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PEOPLESYNC_DATA_DIR": str(data_dir)}
    env.pop("PEOPLESYNC_DATABASE_URL", None)
    return subprocess.run(
        [*PEOPLESYNC, "people", "import", str(source), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_import_counts_add_up_and_name_the_merged_and_rejected_lines(tmp_path: Path) -> None:
    source = tmp_path / "people.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in LINES) + "\n")
    done = _import(tmp_path / "data", source)
    assert done.returncode == 2, done.stderr  # some lines were rejected
    summary = json.loads(done.stdout)
    counted = (
        summary["created"]
        + summary["updated"]
        + summary["unchanged"]
        + len(summary["merged"])
        + len(summary["rejected"])
    )
    assert summary["lines"] == counted == len(LINES)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (2, 0, 0)
    assert summary["merged"] == [
        {
            "record": "line 3",
            "duplicate_of": "line 1",
            "field": "emails",
            "message": "same email as line 1: merged into the same person (values given later win)",
        }
    ]
    assert {(r["record"], r["field"]) for r in summary["rejected"]} == {
        ("line 4", "emails[0]"),
        ("line 5", "birth_date"),
    }
    future = next(r for r in summary["rejected"] if r["record"] == "line 5")
    assert "2099-01-01 is in the future" in future["error"]
