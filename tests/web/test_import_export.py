"""Import (CSV and XLSX, dry run, column mapping, bad rows reported while the rest is saved)
and export (CSV and XLSX of everyone, a segment or a filter), through the API and the pages,
on both databases."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.person_import import FileKind, run_import
from peoplesync.people.person_search import list_persons
from peoplesync.people.sql_store import SqlPeopleStore
from tests.web.conftest import seed_people
from tests.web.test_api import error_of
from tests.web.test_pages import admin_browser, csrf_of, viewer_browser

__all__ = ["admin_browser", "viewer_browser"]  # fixtures used below

ROWS: list[list[Any]] = [
    ["First Name", "Last Name", "E-mail", "City", "Tier", "Joined", "Shoe"],
    ["Ada", "Lovelace", "ada@example.com", "London", 3, "2020-01-31", "38"],
    ["Bad", "Email", "not-an-email", "Paris", 1, "2020-02-01", ""],
    ["Alan", "Turing", "alan@example.org", "Manchester", "many", "2021-06-01", ""],
    ["", "", "", "", None, None, None],
    ["Grace", "Hopper", "grace@example.com", "Arlington", 5, datetime(2019, 12, 31), ""],
]


def csv_bytes(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    cells = (
        ["" if c is None else c.date().isoformat() if isinstance(c, datetime) else c for c in row]
        for row in rows
    )
    csv.writer(out).writerows(cells)
    return out.getvalue().encode()


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def _define(store: SqlPeopleStore) -> None:
    await store.define_attribute(AttributeDefinition("Tier", AttributeType.NUMBER), origin="t")
    await store.define_attribute(AttributeDefinition("joined", AttributeType.DATE), origin="t")


async def _names(store: SqlPeopleStore) -> list[str]:
    page = await list_persons(store, store.engine, limit=200)
    return sorted(str(p.get("first_name")) for p in page.persons)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_import_reports_bad_rows_and_saves_the_rest(
    admin: httpx.AsyncClient, store: SqlPeopleStore, kind: str
) -> None:
    await _define(store)
    content = csv_bytes(ROWS) if kind == "csv" else xlsx_bytes(ROWS)
    files = {"file": (f"people.{kind}", content)}
    checked = await admin.post("/api/v1/imports", params={"dry_run": "true"}, files=files)
    assert checked.status_code == 200, checked.text
    report = checked.json()
    assert report["dry_run"] is True
    assert report["mapping"] == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "E-mail": "emails",
        "City": "city",
        "Tier": "Tier",
        "Joined": "joined",
    }
    assert report["skipped_columns"] == ["Shoe"]
    assert (report["rows"], report["created"], report["rejected"]) == (4, 2, 2)
    problems = {(p["row"], p["field"]) for p in report["problems"]}
    assert problems == {(3, "emails[0]"), (4, "Tier")}
    assert await _names(store) == []  # the dry run saved nothing

    imported = await admin.post("/api/v1/imports", files=files)
    report = imported.json()
    assert (report["dry_run"], report["created"], report["rejected"]) == (False, 2, 2)
    assert await _names(store) == ["Ada", "Grace"]
    grace = (await admin.get("/api/v1/persons", params={"q": "grace"})).json()["items"][0]
    assert grace["custom"] == {"Tier": 5, "joined": "2019-12-31"}
    assert grace["emails"] == ["grace@example.com"]

    again = (await admin.post("/api/v1/imports", files=files)).json()
    assert (again["created"], again["unchanged"]) == (0, 2)  # matched by email


async def test_import_with_a_chosen_mapping_and_bad_input(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    files = {"file": ("people.csv", csv_bytes([["who", "mail"], ["Ada", "ada@example.com"]]))}
    mapping = json.dumps({"who": "first_name", "mail": "emails"})
    done = await admin.post("/api/v1/imports", files=files, data={"mapping": mapping})
    assert done.json()["created"] == 1
    assert await _names(store) == ["Ada"]

    cases: list[tuple[dict[str, Any], dict[str, str], str, int]] = [
        (files, {"mapping": "{not json"}, "mapping", 422),
        (files, {"mapping": json.dumps({"who": "shoe"})}, "mapping.who", 422),
        (files, {"mapping": json.dumps({"nope": "city"})}, "mapping.nope", 422),
        (
            files,
            {"mapping": json.dumps({"who": "city", "mail": "city"})},
            "mapping.mail",
            422,
        ),
        ({"file": ("people.txt", b"a,b\n")}, {}, "file", 422),
        ({"file": ("people.csv", b"")}, {}, "file", 422),
        ({"file": ("people.xlsx", b"not a zip")}, {}, "file", 422),
        ({"file": ("people.csv", b"\xff\xfe\x00bad")}, {}, "file", 422),
    ]
    for upload, data, field, status in cases:
        response = await admin.post("/api/v1/imports", files=upload, data=data)
        assert response.status_code == status, (field, response.text)
        assert error_of(response)["field"] == field
    missing = await admin.post("/api/v1/imports", data={})
    assert missing.status_code == 422
    assert error_of(missing)["field"] == "file"
    assert (await viewer.post("/api/v1/imports", files=files)).status_code == 403


async def test_export_csv_and_xlsx_of_everyone_a_segment_and_a_filter(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)
    everyone = await viewer.get("/api/v1/exports")
    assert everyone.status_code == 200
    assert everyone.headers["content-type"].startswith("text/csv")
    assert 'filename="people.csv"' in everyone.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(everyone.content.decode("utf-8-sig"))))
    assert sorted(r["first_name"] for r in rows) == ["Ada", "Alan", "Grace"]
    ada = next(r for r in rows if r["first_name"] == "Ada")
    assert (ada["emails"], ada["phones"], ada["city"]) == (
        "ada@example.com",
        "+442071234567",
        "London",
    )

    segment = await admin.post(
        "/api/v1/segments",
        json={"name": "North & South", "filters": [{"field": "city", "op": "not_empty"}]},
    )
    xlsx = await viewer.get(
        "/api/v1/exports", params={"format": "xlsx", "segment": segment.json()["id"]}
    )
    assert xlsx.status_code == 200
    assert 'filename="North-South.xlsx"' in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    first_name = table[0].index("first_name")
    assert sorted(r[first_name] for r in table[1:]) == ["Ada", "Alan"]

    filtered = await viewer.get("/api/v1/exports", params={"filter": "city:equals:manchester"})
    assert [r["first_name"] for r in csv.DictReader(io.StringIO(filtered.text))] == ["Alan"]

    # What was exported imports back onto the same persons (matched by id).
    back = await admin.post("/api/v1/imports", files={"file": ("people.xlsx", xlsx.content)})
    assert (back.json()["unchanged"], back.json()["rejected"]) == (2, 0), back.text
    for params, field in [
        ({"format": "pdf"}, "format"),
        ({"filter": "x:equals:1"}, "filters[0].field"),
    ]:
        bad = await viewer.get("/api/v1/exports", params=params)
        assert bad.status_code == 422
        assert error_of(bad)["field"] == field


async def test_import_and_export_pages(
    admin_browser: httpx.AsyncClient, viewer_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await _define(store)
    form = await admin_browser.get("/imports")
    assert form.status_code == 200
    token = csrf_of(form.text)
    uploaded = await admin_browser.post(
        "/imports",
        data={"csrf_token": token},
        files={"file": ("people.xlsx", xlsx_bytes(ROWS))},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert 'data-row="3"' in uploaded.text
    assert "emails[0]" in uploaded.text
    assert 'data-row="4"' in uploaded.text
    assert await _names(store) == []
    action = next(part.split('"')[0] for part in uploaded.text.split('action="/imports/')[1:])
    # Map "Tier" to nothing: row 4's bad tier no longer matters.
    mapping = {"column_0": "first_name", "column_1": "last_name", "column_2": "emails"}
    checked = await admin_browser.post(
        f"/imports/{action}", data={"csrf_token": token, "action": "check", **mapping}
    )
    assert "data-rejected>1<" in checked.text
    assert await _names(store) == []
    done = await admin_browser.post(
        f"/imports/{action}", data={"csrf_token": token, "action": "import", **mapping}
    )
    assert done.status_code == 200
    assert "data-created>3<" in done.text
    assert await _names(store) == ["Ada", "Alan", "Grace"]
    gone = await admin_browser.post(
        f"/imports/{action}", data={"csrf_token": token, "action": "import", **mapping}
    )
    assert gone.status_code == 404

    bad = await admin_browser.post(
        "/imports", data={"csrf_token": token}, files={"file": ("people.pdf", b"%PDF")}
    )
    assert bad.status_code == 422
    assert 'data-error-for="file"' in bad.text
    refused = await viewer_browser.post(
        "/imports",
        data={"csrf_token": csrf_of((await viewer_browser.get("/people")).text)},
        files={"file": ("people.csv", csv_bytes(ROWS))},
    )
    assert refused.status_code == 403

    page = await viewer_browser.get("/exports", params={"field": "city", "op": "empty"})
    assert page.status_code == 200
    assert 'name="op" value="empty"' in page.text
    download = await viewer_browser.get(
        "/exports/download", params={"format": "csv", "field": "city", "op": "empty"}
    )
    assert download.status_code == 200
    assert sorted(
        r["first_name"] for r in csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")))
    ) == ["Ada", "Alan", "Grace"]
    wrong = await viewer_browser.get("/exports/download", params={"format": "doc"})
    assert wrong.status_code == 422


DUPLICATED: list[list[Any]] = [
    ["first_name", "last_name", "email", "city"],
    ["Ada", "Lovelace", "ada@example.com", "London"],
    ["Alan", "Turing", "alan@example.org", ""],
    ["Ada", "King", "ADA@example.com", "Ockham"],
    ["Bad", "Row", "not-an-email", ""],
    ["Ada", "", "ada@example.com", ""],
]


async def test_import_rows_for_the_same_email_are_reported_and_counts_add_up(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    files = {"file": ("people.csv", csv_bytes(DUPLICATED))}
    for dry_run in (True, False):
        response = await admin.post(
            "/api/v1/imports", params={"dry_run": str(dry_run).lower()}, files=files
        )
        report = response.json()
        counts = [report[k] for k in ("created", "updated", "unchanged", "merged", "rejected")]
        assert (report["rows"], counts) == (5, [2, 0, 0, 2, 1]), (dry_run, report)
        assert report["rows"] == sum(counts)
        assert report["duplicates"] == [
            {
                "row": 4,
                "duplicate_of": 2,
                "field": "emails",
                "message": "same email as row 2: merged into the same person "
                "(values given later win)",
            },
            {
                "row": 6,
                "duplicate_of": 2,
                "field": "emails",
                "message": "same email as row 2: merged into the same person "
                "(values given later win)",
            },
        ]
        assert [(p["row"], p["field"]) for p in report["problems"]] == [(5, "emails[0]")]
    assert await _names(store) == ["Ada", "Alan"]
    ada = (await admin.get("/api/v1/persons", params={"q": "ada"})).json()["items"][0]
    assert (ada["standard"]["last_name"], ada["standard"]["city"]) == ("King", "Ockham")

    again = (await admin.post("/api/v1/imports", files=files)).json()
    counts = [again[k] for k in ("created", "updated", "unchanged", "merged", "rejected")]
    assert counts == [0, 0, 2, 2, 1] and again["rows"] == sum(counts)


async def test_import_page_shows_merged_rows(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    token = csrf_of((await admin_browser.get("/imports")).text)
    uploaded = await admin_browser.post(
        "/imports",
        data={"csrf_token": token},
        files={"file": ("people.csv", csv_bytes(DUPLICATED))},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert "data-merged>2<" in uploaded.text and "data-created>2<" in uploaded.text
    assert 'data-duplicate-row="4"' in uploaded.text
    assert 'data-duplicate-row="6"' in uploaded.text
    assert "same email as row 2: merged into the same person" in uploaded.text


async def test_rows_repeating_an_earlier_batch_are_merged_rows_too(
    store: SqlPeopleStore, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(DUPLICATED))
    for dry_run in (True, False):
        # Batches of two rows: each repeat of row 2 comes in a later batch.
        report = await run_import(
            store, path, FileKind.CSV, mapping=None, origin="t", dry_run=dry_run, batch=2
        )
        counts = [report.created, report.updated, report.unchanged, report.merged, report.rejected]
        assert (report.rows, counts) == (5, [2, 0, 0, 2, 1]), dry_run
        assert [(d.row, d.duplicate_of, d.field) for d in report.duplicates] == [
            (4, 2, "emails"),
            (6, 2, "emails"),
        ]
    assert await _names(store) == ["Ada", "Alan"]


async def test_a_csv_separated_by_semicolons_is_read_by_its_columns(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    # what Excel saves as "CSV" where the decimal separator is a comma (most of Europe)
    content = (
        b"First Name;E-mail;City\r\n"
        b'Ana;ana@example.com;"Split; Dalmatia"\r\n'
        b"Ivo;ivo@example.com;Zagreb, Grad\r\n"
    )
    files = {"file": ("people.csv", content)}
    report = (await admin.post("/api/v1/imports", files=files)).json()
    assert report["mapping"] == {"First Name": "first_name", "E-mail": "emails", "City": "city"}
    assert (report["rows"], report["created"], report["rejected"]) == (2, 2, 0)
    ana = (await admin.get("/api/v1/persons", params={"q": "ana@"})).json()["items"][0]
    assert ana["standard"]["city"] == "Split; Dalmatia"
    ivo = (await admin.get("/api/v1/persons", params={"q": "ivo@"})).json()["items"][0]
    assert ivo["standard"]["city"] == "Zagreb, Grad"  # a comma inside a cell stays in the cell


@pytest.mark.parametrize("separator", ["\t", "|"])
async def test_a_csv_separated_by_tabs_or_pipes_is_read_by_its_columns(
    admin: httpx.AsyncClient, store: SqlPeopleStore, separator: str
) -> None:
    rows = [["First Name", "E-mail", "City"], ["Ana", "ana@example.com", "Split"]]
    content = "\r\n".join(separator.join(row) for row in rows).encode()
    report = (await admin.post("/api/v1/imports", files={"file": ("p.csv", content)})).json()
    assert report["mapping"] == {"First Name": "first_name", "E-mail": "emails", "City": "city"}
    assert (report["rows"], report["created"]) == (1, 1)


async def test_a_csv_whose_columns_match_nothing_is_refused_saying_what_was_expected(
    admin: httpx.AsyncClient, admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    """An unknown separator (here ':') reads as one column: refused, not 0 rows in silence."""
    content = b"First Name:E-mail\r\nAna:ana@example.com\r\n"
    refused = await admin.post("/api/v1/imports", files={"file": ("p.csv", content)})
    assert refused.status_code == 422, refused.text
    error = error_of(refused)
    assert error["field"] == "file"
    assert "expected columns named like email, phone" in error["message"]
    assert "found 1 column(s): 'First Name:E-mail'" in error["message"]
    assert "tabs or |" in error["hint"]
    nothing = await admin.post(
        "/api/v1/imports",
        files={"file": ("p.csv", b"who,mail\r\nAna,ana@example.com\r\n")},
        data={"mapping": "{}"},
    )
    assert (nothing.status_code, error_of(nothing)["field"]) == (422, "mapping")
    token = csrf_of((await admin_browser.get("/imports")).text)
    page = await admin_browser.post(
        "/imports", data={"csrf_token": token}, files={"file": ("p.csv", content)}
    )
    assert "no column matches a person attribute" in page.text
    assert await _names(store) == []
