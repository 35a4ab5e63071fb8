"""Every table of the database under one metadata: the one Alembic's environment targets
(each table module adds its tables to ``people.tables.metadata`` when imported)."""

from __future__ import annotations

from peoplesync.marketing_cloud import tables as marketing_cloud_tables
from peoplesync.messaging import tables as messaging_tables
from peoplesync.messaging.links import tables as link_tables
from peoplesync.people import job_tables
from peoplesync.people import tables as people_tables
from peoplesync.web import account_tables

metadata = people_tables.metadata
TABLE_MODULES = (
    people_tables,
    messaging_tables,
    link_tables,
    marketing_cloud_tables,
    account_tables,
    job_tables,
)

__all__ = ["TABLE_MODULES", "metadata"]
