"""The push mark on an Account link: the Company -> Account push marks what it wrote, the
inbound Account step skips those fields in an Account read before the write, and the next push
does not take the mark for a field."""

from __future__ import annotations

from datetime import UTC, datetime

from peoplesync.people.model import Company
from peoplesync.sync.outbound.account_plan import ACCOUNT_OUTBOUND, account_update
from peoplesync.sync.outbound.push_mark import MARK, kept_state, marked, stale_fields, synced_values

SENT = datetime(2026, 11, 25, 12, 0, 0, 500000, tzinfo=UTC)
SYNCED = {"Name": "Hollerith", "Industry": None, "AnnualRevenue": None, "Website": None}


def company(industry: str, revenue: str) -> Company:
    return Company("c1", 2, "Hollerith", None, industry, None, revenue, None, None, SENT, SENT)


def test_a_pushed_account_state_is_marked_and_not_pushed_again() -> None:
    edited = company(industry="Tabulating", revenue="2500000")
    diff = account_update(edited, ACCOUNT_OUTBOUND, SYNCED)
    assert diff == {"Industry": "Tabulating", "AnnualRevenue": 2500000}
    state = marked(SYNCED, diff, SENT)
    assert set(state[MARK]) == {"Industry", "AnnualRevenue"}
    assert account_update(edited, ACCOUNT_OUTBOUND, state) == {}  # the mark is no field


def test_an_account_read_before_the_push_keeps_the_pushed_fields() -> None:
    state = marked(SYNCED, {"Industry": "Tabulating", "AnnualRevenue": 2500000}, SENT)
    old = {**SYNCED, "Name": "Hollerith Ltd"}  # renamed in Salesforce before the push
    read = {**old, "SystemModstamp": "2026-11-25T12:00:00.000+0000"}
    stale = stale_fields(read, old, state)
    assert stale == {"Industry", "AnnualRevenue"}  # the rename is applied, not these
    kept = kept_state(old, state, stale)
    assert synced_values(kept) == {**old, "Industry": "Tabulating", "AnnualRevenue": 2500000}
    assert set(kept[MARK]) == {"Industry", "AnnualRevenue"}
    # The push's echo (a later modstamp) is applied as usual and clears the mark.
    echo = {**old, "Industry": "Tabulating", "AnnualRevenue": 2500000}
    later = {**echo, "SystemModstamp": "2026-11-25T12:00:01.000+0000"}
    assert stale_fields(later, echo, kept) == set()
    assert kept_state(echo, kept, set()) == echo
    # A real Salesforce edit to a new value after the push is no stale read either.
    edit = {**old, "Industry": "Computing"}
    assert stale_fields(
        {**edit, "SystemModstamp": "2026-11-25T12:00:00.000+0000"}, edit, state
    ) == {"AnnualRevenue"}
