"""Two-way mapping lines from the command line: `steps map --direction both --conflict RULE`
gives a field one rule in both steps of its object, and a profile with two rules for one field
is refused naming the step, the field and both rules."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.served_org import PEOPLESYNC, connect, enable_outbound, environment, served_org


def _run(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*PEOPLESYNC, *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == code, done.stderr
    return done


def _line(steps: list[dict[str, Any]], step: str, field: str) -> dict[str, Any]:
    found = next(s for s in steps if s["name"] == step)
    return dict(next(line for line in found["mapping"] if line["field"] == field))


def test_two_way_lines_and_one_conflict_rule_per_field(tmp_path: Path) -> None:
    with served_org(tmp_path / "org", "--seed-leads", "5") as info:
        env = environment(info, tmp_path / "data")
        connect(info, env)
        enable_outbound(env)
        mapped = _run(
            env,
            "steps",
            "map",
            "Lead",
            "--field",
            "Title",
            "--attribute",
            "title",
            "--direction",
            "both",
            "--conflict",
            "people_wins",
        )
        assert "step 'Person to Lead': Title now settles conflicts by people_wins" in (
            mapped.stderr
        )
        _run(
            env,
            *("steps", "map", "Person to Lead", "--field", "Title", "--attribute", "title"),
            *("--direction", "both"),
        )
        steps = json.loads(_run(env, "steps", "list", "--json").stdout)
        for step in ("Lead", "Person to Lead"):
            assert _line(steps, step, "Title") == {
                "field": "Title",
                "attribute": "title",
                "direction": "both",
                "conflict": "people_wins",
            }
        bad = _run(env, "steps", "map", "Lead", "--field", "City", "--attribute", "city",
                   "--conflict", "loudest_wins", code=2)  # fmt: skip
        assert "loudest_wins" in bad.stderr

        profile_file = tmp_path / "profile.yaml"
        _run(env, "config", "export", "--file", str(profile_file))
        document = yaml.safe_load(profile_file.read_text())
        lead = next(s for s in document["steps"] if s["name"] == "Lead")
        city = next(line for line in lead["mapping"] if line["field"] == "City")
        city.update(direction="both", conflict="salesforce_wins")
        profile_file.write_text(yaml.safe_dump(document, sort_keys=False))
        refused = _run(env, "config", "import", str(profile_file), code=1)
        assert "nothing was saved" in refused.stderr
        problem = " ".join(refused.stderr.split())
        assert "step 'Person to Lead', field mapping[7] (City)" in problem
        assert "step 'Lead', whose conflict rule is salesforce_wins" in problem
        assert "here it is most_recent" in problem
        after = json.loads(_run(env, "steps", "list", "--json").stdout)
        # The profile is unchanged: City keeps the default profile's two-way line and rule.
        assert _line(after, "Lead", "City")["conflict"] == "most_recent"
