"""The queue's database: PostgreSQL only, reached through libpq's URL form."""

from __future__ import annotations

from pathlib import Path

import pytest

from peoplesync.errors import ConfigurationError
from peoplesync.settings import Settings
from peoplesync.workers.queue.app import queue_conninfo


def test_the_queue_uses_the_people_database_in_libpq_form() -> None:
    settings = Settings(
        data_dir=Path("unused"),
        database_url="postgresql+psycopg://app:s3cret@db.internal:5433/people?options=-csearch_path%3Dx",
    )
    assert queue_conninfo(settings) == (
        "postgresql://app:s3cret@db.internal:5433/people?options=-csearch_path%3Dx"
    )


def test_sqlite_is_refused_with_what_to_do_instead(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        queue_conninfo(Settings(data_dir=tmp_path))
    assert "needs PostgreSQL" in str(refused.value)
    assert "PEOPLESYNC_DATABASE_URL" in str(refused.value.hint)
