"""What the queue workers' e2e test writes when People and the orgs disagree at the end: the
person's change log, its links (states and push marks), the sync state, the job log, each
org's change events of the person's records and their values now. One JSON file, so a rare
failure can be read after the run."""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from tests.e2e.test_sync_crash import API
from tests.served_org import call, login


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _rows(db: psycopg.Connection[Any], sql: str, *args: Any) -> list[dict[str, Any]]:
    cursor = db.execute(sql, args)
    names = [column.name for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _org_events(org_dir: Path, record_ids: set[str]) -> list[dict[str, Any]]:
    """The org's change events (CDC) of ``record_ids``, oldest first."""
    path = org_dir / "org.sqlite3"
    if not path.exists() or not record_ids:
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT replay_id, payload FROM cdc_events ORDER BY replay_id").fetchall()
    found = []
    for replay_id, raw in rows:
        body = json.loads(raw)
        header = body.get("ChangeEventHeader", {})
        if record_ids & set(header.get("recordIds", [])):
            found.append({"replay_id": replay_id, **body})
    return found


def _org_records(info: dict[str, Any], record_ids: set[str]) -> list[dict[str, Any]]:
    if not record_ids:
        return []
    ids = ",".join(f"'{i}'" for i in sorted(record_ids))
    soql = (
        "SELECT Id, Email, City, LastModifiedDate, SystemModstamp, CreatedDate FROM Lead "
        f"WHERE Id IN ({ids})"
    )
    body = call(info, f"{API}/query?q={urllib.parse.quote(soql)}", login(info))
    return list(body["records"])


def _all_lead_ids(info: dict[str, Any]) -> set[str]:
    token = login(info)
    body = call(info, f"{API}/query?q={urllib.parse.quote('SELECT Id FROM Lead')}", token)
    records = list(body["records"])
    while body.get("nextRecordsUrl"):
        body = call(info, body["nextRecordsUrl"], token)
        records += body["records"]
    return {str(r["Id"]) for r in records}


def write_evidence(
    path: Path,
    db_url: str,
    orgs: dict[str, tuple[dict[str, Any], Path]],
    found: list[str],
    logs: list[Path],
) -> Path:
    """Write what a failure needs to be understood to ``path``; returns it. ``orgs``:
    integration name -> (org info, org data folder). The persons looked at: those of the
    Leads whose City differs, those without a Lead in an org or with more than one, and
    those linked to a Lead an org does not have; the Leads linked to nobody too."""
    lead_ids = {w.split(":")[0].removeprefix("city of ") for w in found if w.startswith("city of")}
    evidence: dict[str, Any] = {"found": found, "worker_logs": [str(p) for p in logs]}
    in_orgs = {name: _all_lead_ids(info) for name, (info, _) in orgs.items()}
    with psycopg.connect(_libpq(db_url)) as db:
        links = _rows(db, "SELECT system, external_id, entity_id FROM external_links")
        persons = {str(r["id"]) for r in _rows(db, "SELECT id FROM persons")}
        person_ids = {str(r["entity_id"]) for r in links if r["external_id"] in lead_ids}
        for name, ids in in_orgs.items():
            mine = [r for r in links if r["system"] == f"salesforce:{name}"]
            counted: dict[str, int] = {}
            for r in mine:
                counted[str(r["entity_id"])] = counted.get(str(r["entity_id"]), 0) + 1
                if r["external_id"] not in ids:
                    person_ids.add(str(r["entity_id"]))
            person_ids |= {p for p, n in counted.items() if n > 1}
            person_ids |= persons - set(counted) if name == "a" else set()
            linked = {str(r["external_id"]) for r in mine}
            evidence[f"org_{name}_unlinked"] = sorted(ids - linked)
            evidence[f"org_{name}_linked_missing"] = sorted(linked - ids)
        wanted = sorted(person_ids)
        evidence["persons"] = _rows(db, "SELECT * FROM persons WHERE id::text = ANY(%s)", wanted)
        evidence["emails"] = _rows(
            db, "SELECT * FROM person_emails WHERE person_id::text = ANY(%s)", wanted
        )
        evidence["change_log"] = _rows(
            db, "SELECT * FROM change_log WHERE entity_id::text = ANY(%s) ORDER BY seq", wanted
        )
        evidence["links"] = _rows(
            db, "SELECT * FROM external_links WHERE entity_id::text = ANY(%s)", wanted
        )
        # Not the connections (sealed credentials) nor the profiles: the sync's own state.
        evidence["sync_state"] = _rows(
            db,
            "SELECT * FROM sync_state WHERE key NOT LIKE 'integration:%%' "
            "AND key NOT LIKE 'profile:%%' ORDER BY key",
        )
        evidence["job_runs"] = _rows(db, "SELECT * FROM worker_job_runs ORDER BY started_at")
    by_org: dict[str, set[str]] = {name: set() for name in orgs}
    for link in evidence["links"]:
        name = str(link["system"]).removeprefix("salesforce:")
        if name in by_org:
            by_org[name].add(str(link["external_id"]))
    for name, (info, folder) in orgs.items():
        ids = by_org[name] | set(evidence[f"org_{name}_unlinked"])
        evidence[f"org_{name}_records"] = _org_records(info, ids)
        evidence[f"org_{name}_events"] = _org_events(folder, ids)
    path.write_text(json.dumps(evidence, indent=1, default=str))
    return path
