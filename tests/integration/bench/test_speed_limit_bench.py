"""The speed-limit benchmark's options: a run asked for with 0 messages is left out (``--wall
0`` used to crash before printing), and a count that gives no interval to measure is refused."""

from __future__ import annotations

import json

import pytest
from bench import speed_limit


def test_wall_0_runs_the_simulated_run_alone(capsys: pytest.CaptureFixture[str]) -> None:
    speed_limit.main(["--simulated", "4", "--wall", "0"])
    figures = json.loads(capsys.readouterr().out)
    assert figures["simulated_500_per_hour"]["messages"] == 4
    assert figures["simulated_500_per_hour"]["error_max_pct"] >= 0
    assert "wall_20_per_second" not in figures


@pytest.mark.parametrize("option", ["--simulated", "--wall"])
def test_one_message_is_refused_by_name(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        speed_limit.main([option, "1"])
    assert exited.value.code == 2
    assert option in capsys.readouterr().err


def test_simulated_0_runs_the_wall_clock_run_alone(capsys: pytest.CaptureFixture[str]) -> None:
    speed_limit.main(["--simulated", "0", "--wall", "3"])
    figures = json.loads(capsys.readouterr().out)
    assert figures["wall_20_per_second"]["messages"] == 3
    assert "simulated_500_per_hour" not in figures
