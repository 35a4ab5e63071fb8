"""The journey bench's reading of report hops: which contacts had their report in time."""

from __future__ import annotations

from bench.journey_hops import hop_summary, stage_rates


def _line(waiting: float, stored: float | None, split: float | None) -> dict[str, float | None]:
    return {
        "queued": waiting - 0.01,
        "waiting": waiting,
        "sent": waiting + 0.1,
        "due": waiting + 5.1,
        "generated": None if stored is None else stored - 0.02,
        "stored": stored,
        "answered": None if stored is None else stored + 0.001,
        "split": split,
    }


def test_a_report_counts_in_time_only_when_stored_before_the_split() -> None:
    lines = [
        _line(0.0, 5.2, 30.0),  # in time
        _line(1.0, 31.5, 31.0),  # stored after its split: NOT_AVAILABLE there
        _line(2.0, None, 32.0),  # never stored
        _line(3.0, 8.0, None),  # still waiting when the run was read
    ]
    summary = hop_summary(lines)
    assert (summary["contacts_at_split"], summary["report_in_time"]) == (3, 1)
    assert summary["report_never_stored"] == 1
    assert summary["hops"]["waiting_to_stored"]["n"] == 3
    assert summary["hops"]["waiting_to_stored"]["max_s"] == 30.5
    assert summary["hops"]["sent_to_due"]["p50_s"] == 5.0


def test_stage_rates_are_events_a_second_over_each_stage_span() -> None:
    lines = [_line(float(n), float(n) + 5, float(n) + 30) for n in range(11)]
    rates = stage_rates(lines)
    assert rates["queued"] == 1.0 and rates["stored"] == 1.0
