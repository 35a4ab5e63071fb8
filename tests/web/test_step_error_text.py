"""A refused step change in words, as the Steps pages show it: each problem's hint once, and
no command-line flags in a message the web app and the REST API show too."""

from __future__ import annotations

import pytest

from peoplesync.errors import ConfigurationError
from peoplesync.sync.profile.model import default_profile
from peoplesync.sync.profile.step import ProfileError, StepProblem
from peoplesync.sync.profile.step_edits import added_step
from peoplesync.web.step_forms import error_text


def test_each_problems_hint_is_shown_once() -> None:
    refused = ProfileError(
        [
            StepProblem("Nope", "sobject", "Salesforce cannot describe Nope", hint="check it"),
            StepProblem("Lead", "filter", "no such column"),
        ]
    )
    shown = error_text(refused)
    assert shown == (
        "step 'Nope', field sobject: Salesforce cannot describe Nope (how to fix: check it); "
        "step 'Lead', field filter: no such column"
    )


def test_adding_nothing_says_what_to_give_without_cli_flags() -> None:
    with pytest.raises(ConfigurationError) as refused:
        added_step(default_profile())
    assert "--" not in refused.value.hint
    assert "object" in refused.value.hint and "clone" in refused.value.hint
