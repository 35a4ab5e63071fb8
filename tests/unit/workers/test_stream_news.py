"""What the serve workers and the demo say as a change stream's running report grows."""

from __future__ import annotations

from peoplesync.sync.inbound.report import InboundReport
from peoplesync.workers.change_streams import StreamNews


def test_each_batch_is_told_as_what_it_added_per_step() -> None:
    news, leads, contacts = StreamNews(), InboundReport(), InboundReport()
    leads.created = 2
    assert news.heard("Lead", leads) == (
        "Lead changes arrived from Salesforce: 2 created, 0 updated, 0 removed in People"
    )
    leads.updated, leads.deleted, leads.unlinked = 3, 1, 1
    assert news.heard("Lead", leads) == (
        "Lead changes arrived from Salesforce: 0 created, 3 updated, 2 removed in People"
    )
    contacts.updated = 1  # another step counts from its own start
    assert news.heard("Contact", contacts) == (
        "Contact changes arrived from Salesforce: 0 created, 1 updated, 0 removed in People"
    )


def test_a_batch_that_changed_nothing_is_not_told() -> None:
    news, report = StreamNews(), InboundReport()
    assert news.heard("Lead", report) is None
    report.created = 1
    assert news.heard("Lead", report) is not None
    assert news.heard("Lead", report) is None  # the same running report again: nothing new
