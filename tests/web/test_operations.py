"""/health, /ready and /metrics: no login for the first two, a bearer token (or the public
switch) for the metrics, and what the metrics say about syncs, pushes, queues and workers."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from peoplesync.clock import ManualClock
from peoplesync.messaging import tables as mt
from peoplesync.observability.heartbeats import Heartbeats
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.settings import Settings
from peoplesync.sync.status.state import Counts, paused
from peoplesync.sync.status.store import StatusStore
from peoplesync.web.app import create_app
from tests.services import services_on
from tests.sqlite_threads import sqlite_threads_joined

from .conftest import BASE_URL, FAST_HASHER

TOKEN = "scrape-me-0123456789"


def http(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)  # type: ignore[arg-type]


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", **values)  # type: ignore[arg-type]


def app_on(
    store: SqlPeopleStore, tmp_path: Path, heartbeats: Heartbeats | None = None, **values: object
) -> object:
    """The app on ``store`` with settings ``values`` (data folder under ``tmp_path``)."""
    wired = services_on(store, tmp_path / "data", settings=settings(tmp_path, **values))
    return create_app(wired, password_hasher=FAST_HASHER, heartbeats=heartbeats)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_health_and_ready_need_no_login(store: SqlPeopleStore, tmp_path: Path) -> None:
    async with http(app_on(store, tmp_path)) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


async def test_ready_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'people.db'}")
    await migrate(engine)
    app = app_on(SqlPeopleStore(engine, ManualClock()), tmp_path)
    try:
        async with http(app) as client, sqlite_threads_joined():
            assert (await client.get("/ready")).status_code == 200
            await engine.dispose()
            shutil.rmtree(folder)  # the file and its folder: nothing left to open
            gone = await client.get("/ready")
            health = await client.get("/health")
    finally:
        await engine.dispose()
    assert gone.status_code == 503
    assert gone.json() == {
        "status": "not ready",
        "reason": "the database cannot be reached (OperationalError)",
    }
    assert health.status_code == 200  # the process itself is still up


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("sqlite+aiosqlite:///{tmp}/empty.db", "the database is not migrated"),
        pytest.param(
            "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
            "the database cannot be reached (OperationalError)",
            marks=pytest.mark.postgres,
            id="postgres-unreachable",
        ),
    ],
)
async def test_ready_is_503_on_a_database_not_migrated_or_unreachable(
    tmp_path: Path, url: str, reason: str
) -> None:
    engine = create_engine(url.format(tmp=tmp_path))
    try:
        app = app_on(SqlPeopleStore(engine, ManualClock()), tmp_path)
        async with http(app) as client:
            response = await client.get("/ready")
    finally:
        await engine.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "reason": reason}


async def test_metrics_are_off_without_a_token_or_the_public_switch(
    store: SqlPeopleStore, tmp_path: Path
) -> None:
    async with http(app_on(store, tmp_path)) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404
    assert "PEOPLESYNC_METRICS_TOKEN" in response.json()["error"]


async def test_metrics_need_the_bearer_token(store: SqlPeopleStore, tmp_path: Path) -> None:
    app = app_on(store, tmp_path, metrics_token=SecretStr(TOKEN))
    async with http(app) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        basic = await client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert TOKEN not in refused.text
    assert right.status_code == 200
    assert right.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert TOKEN not in right.text
    assert ("peoplesync_database_up", ()) in samples(right.text)


async def test_metrics_report_syncs_pushes_queues_and_workers(
    store: SqlPeopleStore, clock: ManualClock, tmp_path: Path
) -> None:
    statuses = StatusStore(store.engine, clock)
    await store.set_state("integration:acme", {"name": "acme"})
    await statuses.transition("acme", lambda status: paused(status, clock.now()))
    await statuses.mark_synced("acme", "Lead", clock.now() - timedelta(seconds=90))
    day = clock.now().date()
    await statuses.add_counts("acme", day, "Lead", Counts(created=3, updated=2, rejected=1))
    await statuses.add_counts("acme", day, "", Counts(api_calls=7))
    await statuses.add_counts("acme", day, "Person to Lead", Counts(updated=4, api_calls=2))
    await store.upsert_persons(
        [PersonInput(values={"last_name": f"P{i}"}) for i in range(5)], origin="ui"
    )
    pushed_to = await store.last_change_seq() - 3  # three changes not pushed yet
    await store.set_state("salesforce:acme:push", {"position": {"seq": pushed_to, "gaps": {}}})
    async with store.engine.begin() as conn:
        for n, state in enumerate(["queued", "queued", "sending", "accepted"]):
            await conn.execute(
                mt.outbound_messages.insert().values(
                    id=f"m{n}",
                    idempotency_key=f"k{n}",
                    account="sms",
                    channel="sms",
                    recipient="+15550000",
                    request={},
                    state=state,
                    status="x",
                    send_after=clock.now(),
                    created_at=clock.now() - timedelta(seconds=60 * (n + 1)),
                )
            )
    beats = Heartbeats(clock)
    beats.beat("acme", "push")
    clock.advance(timedelta(seconds=5))
    app = app_on(store, tmp_path, beats, metrics_public=True)
    async with http(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    found = samples(response.text)
    acme = (("integration", "acme"),)
    assert found[("peoplesync_database_up", ())] == 1.0
    assert found[("peoplesync_integration_state", (*acme, ("state", "paused")))] == 1.0
    assert found[("peoplesync_sync_lag_seconds", (*acme, ("step", "Lead")))] == 95.0
    lead = (*acme, ("outcome", "created"), ("step", "Lead"))
    assert found[("peoplesync_sync_records_total", lead)] == 3.0
    to_lead = (*acme, ("outcome", "updated"), ("step", "Person to Lead"))
    assert found[("peoplesync_sync_records_total", to_lead)] == 4.0
    assert found[("peoplesync_salesforce_api_calls_total", acme)] == 9.0
    assert found[("peoplesync_push_backlog", acme)] == 3.0
    queued = (("queue", "outbox"), ("state", "queued"))
    assert found[("peoplesync_job_queue_depth", queued)] == 2.0
    assert found[("peoplesync_job_queue_oldest_age_seconds", queued)] == 125.0
    assert found[("peoplesync_job_queue_depth", (("queue", "outbox"), ("state", "sending")))] == 1
    push = (*acme, ("loop", "push"))
    assert found[("peoplesync_worker_heartbeat_age_seconds", push)] == 5.0
    last_beat = (clock.now() - timedelta(seconds=5)).timestamp()
    assert found[("peoplesync_worker_last_heartbeat_timestamp_seconds", push)] == last_beat


async def test_metrics_read_procrastinate_jobs_when_its_tables_exist(
    store: SqlPeopleStore, clock: ManualClock, tmp_path: Path
) -> None:
    if store.engine.dialect.name != "postgresql":
        # procrastinate runs on PostgreSQL only: SQLite never has its tables.
        app = app_on(store, tmp_path, metrics_public=True)
        async with http(app) as client:
            text = (await client.get("/metrics")).text
        assert 'queue="procrastinate:' not in text
        return
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "CREATE TABLE procrastinate_jobs (id bigserial PRIMARY KEY, queue_name text, "
                "status text)"
            )
        )
        await conn.execute(
            sa.text(
                "CREATE TABLE procrastinate_events (id bigserial PRIMARY KEY, job_id bigint, "
                "type text, at timestamptz)"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO procrastinate_jobs (id, queue_name, status) VALUES "
                "(1, 'sync', 'todo'), (2, 'sync', 'todo'), (3, 'sync', 'doing'), "
                "(4, 'sync', 'succeeded')"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO procrastinate_events (job_id, type, at) VALUES (1, 'deferred', :at)"
            ),
            {"at": clock.now() - timedelta(seconds=30)},
        )
    app = app_on(store, tmp_path, metrics_public=True)
    async with http(app) as client:
        found = samples((await client.get("/metrics")).text)
    todo = (("queue", "procrastinate:sync"), ("state", "todo"))
    assert found[("peoplesync_job_queue_depth", todo)] == 2.0
    assert (
        found[("peoplesync_job_queue_depth", (("queue", "procrastinate:sync"), ("state", "doing")))]
        == 1.0
    )
    assert found[("peoplesync_job_queue_oldest_age_seconds", todo)] == 30.0


async def test_metrics_say_when_the_database_is_down(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'people.db'}")
    await migrate(engine)
    await engine.dispose()
    shutil.rmtree(folder)
    app = app_on(SqlPeopleStore(engine, ManualClock()), tmp_path, metrics_public=True)
    try:
        async with http(app) as client, sqlite_threads_joined():
            response = await client.get("/metrics")
    finally:
        await engine.dispose()
    assert response.status_code == 200
    assert samples(response.text)[("peoplesync_database_up", ())] == 0.0
