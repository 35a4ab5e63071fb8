"""An execute call with its custom data extension's row applied, for the Message route.

Only activities that chose a custom data extension pay for the read. Marketing Cloud not
answering, or refusing, becomes ``Error: Custom data extension unavailable`` on a 200 (the
contact goes on and the journey can split on it), never an ejected contact.
"""

from __future__ import annotations

import logging

from peoplesync.errors import PeopleSyncError
from peoplesync.marketing_cloud.custom_row_reader import CustomRowReader
from peoplesync.marketing_cloud.custom_rows import RowQuery, apply_row, row_query
from peoplesync.marketing_cloud.execute import ExecuteCall
from peoplesync.marketing_cloud.units import UnitKeys
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.verdict import Verdict

log = logging.getLogger(__name__)


async def with_custom_row(
    reader: CustomRowReader | None, unit: UnitKeys, call: ExecuteCall
) -> ExecuteCall | Verdict:
    query = row_query(call)
    if query is None or isinstance(query, Verdict):
        return call if query is None else query
    if reader is None:
        return _unavailable(query, "this server reads no data extensions")
    try:
        row = await reader.row(unit, query)
    except PeopleSyncError as error:
        log.warning("custom data extension %s of %s: %s", query.extension, unit.info.name, error)
        return _unavailable(query, error.message)
    return apply_row(call, row)


def _unavailable(query: RowQuery, why: str) -> Verdict:
    return Verdict(
        MessageStatus.CUSTOM_EXTENSION_UNAVAILABLE,
        "customDataExtension",
        f"{query.extension}: {why}",
    )
