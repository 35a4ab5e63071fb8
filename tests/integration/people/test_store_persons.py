"""The SQL People store on SQLite and PostgreSQL: persons, attributes and the change log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from peoplesync.clock import ManualClock
from peoplesync.errors import (
    AmbiguousMatchError,
    AttributeTypeError,
    BatchValidationError,
    DuplicateEmailError,
    InvalidEmailError,
    InvalidPhoneError,
    MissingMandatoryAttributeError,
    NotFoundError,
    UnknownAttributeError,
    ValidationError,
)
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore


def ada(**values: object) -> PersonInput:
    return PersonInput(
        values={"first_name": "Ada", "last_name": "Lovelace", **values},
        emails=["Ada.Lovelace@Example.COM", "ada@work.example.org"],
        phones=["(415) 555-0132", "+44 20 7946 0958"],
    )


async def test_create_and_read_back_normalised(store: SqlPeopleStore) -> None:
    result = await store.upsert_persons(
        [ada(birth_date="1815-12-10", gender="Female")], origin="test"
    )
    assert len(result.created) == 1 and not result.updated
    person = (await store.get_persons(result.created))[result.created[0]]
    assert person.emails == ("Ada.Lovelace@example.com", "ada@work.example.org")
    assert person.email == "Ada.Lovelace@example.com"
    assert person.phones == ("+14155550132", "+442079460958")
    assert person.get("first_name") == "Ada"
    assert person.get("birth_date") == date(1815, 12, 10)
    assert person.get("gender") == "female"
    assert person.version == 1
    changes = await store.changes_since(0)
    assert [(c.operation, c.entity_id, c.origin) for c in changes] == [
        ("create", person.id, "test")
    ]
    assert changes[0].changes["first_name"] == [None, "Ada"]
    assert changes[0].changes["emails"][1] == ["Ada.Lovelace@example.com", "ada@work.example.org"]


async def test_match_by_email_is_case_insensitive_and_logs_only_differences(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    first = await store.upsert_persons([ada()], origin="test")
    clock.advance(timedelta(minutes=5))
    again = await store.upsert_persons(
        [
            PersonInput(
                values={"city": "London", "first_name": "Ada"},
                emails=["  ADA.LOVELACE@example.com "],
            )
        ],
        origin="salesforce",
    )
    assert again.updated == first.created
    person = (await store.get_persons(first.created))[first.created[0]]
    assert person.get("city") == "London"
    assert person.emails == ("ADA.LOVELACE@example.com",)  # the list given replaces the old one
    assert person.version == 2
    assert person.updated_at == clock.now()
    last = (await store.changes_since(0))[-1]
    assert last.operation == "update" and last.origin == "salesforce"
    assert set(last.changes) == {"city", "emails"}
    same = await store.upsert_persons(
        [PersonInput(values={"city": "London"}, id=person.id)], origin="x"
    )
    assert same.unchanged == [person.id]
    assert len(await store.changes_since(0)) == 2


async def test_one_batch_collapses_several_inputs_for_one_person(store: SqlPeopleStore) -> None:
    result = await store.upsert_persons(
        [
            PersonInput(values={"first_name": "Lead"}, emails=["same@example.com"], key="00Q1"),
            PersonInput(values={"title": "CTO"}, emails=["Same@Example.com"], key="0031"),
        ],
        origin="test",
    )
    assert len(result.created) == 1
    assert result.ids == [result.created[0], result.created[0]]
    person = (await store.get_persons(result.created))[result.created[0]]
    assert (person.get("first_name"), person.get("title")) == ("Lead", "CTO")
    changes = await store.changes_since(0)
    assert len(changes) == 1 and changes[0].operation == "create"


async def test_batches_larger_than_batch_size(store: SqlPeopleStore) -> None:
    inputs = [
        PersonInput(values={"last_name": f"P{i}"}, emails=[f"p{i}@example.com"]) for i in range(175)
    ]
    result = await store.upsert_persons(inputs, origin="bulk")
    assert len(result.created) == 175 and len(set(result.ids)) == 175
    assert await store.count_persons() == 175
    found = await store.find_by_emails(["P7@EXAMPLE.com", "nobody@example.com"])
    assert found == {"p7@example.com": result.ids[7]}
    page = await store.changes_since(0, limit=100)
    rest = await store.changes_since(page[-1].seq, limit=100)
    assert len(page) == 100 and len(rest) == 75
    assert [c.seq for c in page + rest] == sorted(c.seq for c in page + rest)
    assert await store.last_change_seq() == rest[-1].seq


async def test_custom_attributes_are_typed(store: SqlPeopleStore) -> None:
    for name, kind in [
        ("score", AttributeType.NUMBER),
        ("balance", AttributeType.DECIMAL),
        ("vip", AttributeType.BOOLEAN),
        ("renewal", AttributeType.DATE),
        ("last_seen", AttributeType.DATETIME),
        ("tags", AttributeType.LIST),
        ("segment", AttributeType.TEXT),
    ]:
        await store.define_attribute(AttributeDefinition(name, kind), origin="test")
    values = {
        "score": "42",
        "balance": "10.50",
        "vip": "yes",
        "renewal": "2027-01-31",
        "last_seen": "2026-11-24T10:00:00+02:00",
        "tags": ["a", "b"],
        "segment": "gold",
    }
    result = await store.upsert_persons(
        [PersonInput(values=values, emails=["t@example.com"])], origin="t"
    )
    person = (await store.get_persons(result.created))[result.created[0]]
    assert person.attributes == {
        "score": 42,
        "balance": Decimal("10.50"),
        "vip": True,
        "renewal": date(2027, 1, 31),
        "last_seen": datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        "tags": ["a", "b"],
        "segment": "gold",
    }
    cleared = await store.upsert_persons(
        [PersonInput(values={"segment": None}, id=person.id)], origin="t"
    )
    assert cleared.updated == [person.id]
    assert "segment" not in (await store.get_persons([person.id]))[person.id].attributes


@pytest.mark.parametrize(
    ("item", "error", "field"),
    [
        (PersonInput(emails=["not-an-email"]), InvalidEmailError, "emails[0]"),
        (PersonInput(emails=["a@example.com", "b@@example.com"]), InvalidEmailError, "emails[1]"),
        (PersonInput(phones=["12"]), InvalidPhoneError, "phones[0]"),
        (PersonInput(values={"shoe_size": 42}), UnknownAttributeError, "shoe_size"),
        (PersonInput(values={"score": "many"}), AttributeTypeError, "score"),
        (PersonInput(values={"score": True}), AttributeTypeError, "score"),
        (PersonInput(values={"birth_date": "31/12/1990"}), AttributeTypeError, "birth_date"),
        (PersonInput(values={"birth_date": "2099-01-01"}), ValidationError, "birth_date"),
        (PersonInput(values={"birth_date": "1799-12-31"}), ValidationError, "birth_date"),
        (PersonInput(values={"first_name": "x" * 256}), ValidationError, "first_name"),
        (PersonInput(values={"gender": "robot"}), ValidationError, "gender"),
        (PersonInput(values={"email": "a@example.com"}), UnknownAttributeError, "email"),
    ],
)
async def test_bad_input_names_record_and_field_and_writes_nothing(
    store: SqlPeopleStore, item: PersonInput, error: type[Exception], field: str
) -> None:
    await store.define_attribute(AttributeDefinition("score", AttributeType.NUMBER), origin="t")
    good = PersonInput(values={"last_name": "Good"}, emails=["good@example.com"])
    bad = PersonInput(values=item.values, emails=item.emails, phones=item.phones, key="row 2")
    with pytest.raises(BatchValidationError) as caught:
        await store.upsert_persons([good, bad], origin="import")
    (only,) = caught.value.errors
    assert isinstance(only, error)
    assert only.record == "row 2" and only.field == field
    assert "row 2" in str(caught.value) and field in str(caught.value)
    assert await store.count_persons() == 0
    assert await store.changes_since(0) == [] or all(
        c.entity_type == "attribute" for c in await store.changes_since(0)
    )
    partial = await store.upsert_persons([good, bad], origin="import", reject_invalid=True)
    assert len(partial.created) == 1 and partial.ids[1] is None
    assert isinstance(partial.rejected[0], error)
    assert await store.count_persons() == 1


async def test_mandatory_attributes(store: SqlPeopleStore) -> None:
    existing = await store.upsert_persons([PersonInput(emails=["old@example.com"])], origin="t")
    await store.define_attribute(
        AttributeDefinition("company_size", AttributeType.NUMBER, mandatory=True), origin="t"
    )
    with pytest.raises(BatchValidationError) as caught:
        await store.upsert_persons([PersonInput(emails=["new@example.com"], key="r1")], origin="t")
    assert isinstance(caught.value.errors[0], MissingMandatoryAttributeError)
    assert caught.value.errors[0].field == "company_size"
    # A person from before the attribute became mandatory can still be edited...
    edit = await store.upsert_persons(
        [PersonInput(values={"city": "Oslo"}, id=existing.created[0])], origin="t"
    )
    assert edit.updated == existing.created
    # ...but nobody can clear a mandatory attribute.
    with pytest.raises(BatchValidationError):
        await store.upsert_persons(
            [PersonInput(values={"company_size": None}, id=existing.created[0])], origin="t"
        )


async def test_duplicates_and_ambiguity_are_rejected(store: SqlPeopleStore) -> None:
    made = await store.upsert_persons(
        [PersonInput(emails=["a@example.com"]), PersonInput(emails=["b@example.com"])], origin="t"
    )
    a, b = made.ids
    assert a and b
    result = await store.upsert_persons(
        [
            PersonInput(id=a, emails=["b@example.com"], key="steal"),
            PersonInput(emails=["a@example.com", "b@example.com"], key="both"),
            PersonInput(id="0" * 32, key="ghost"),
        ],
        origin="t",
        reject_invalid=True,
    )
    kinds = {e.record: type(e) for e in result.rejected}
    assert kinds == {
        "steal": DuplicateEmailError,
        "both": AmbiguousMatchError,
        "ghost": NotFoundError,
    }
    assert (await store.find_by_emails(["a@example.com"])) == {"a@example.com": a}


async def test_email_moves_between_persons_in_one_batch(store: SqlPeopleStore) -> None:
    made = await store.upsert_persons(
        [PersonInput(emails=["x@example.com"]), PersonInput(emails=["y@example.com"])], origin="t"
    )
    a, b = made.ids
    assert a and b
    await store.upsert_persons(
        [PersonInput(id=a, emails=["x2@example.com"]), PersonInput(id=b, emails=["x@example.com"])],
        origin="t",
    )
    assert await store.find_by_emails(["x@example.com", "x2@example.com"]) == {
        "x@example.com": b,
        "x2@example.com": a,
    }


async def test_attribute_type_cannot_change_once_used(store: SqlPeopleStore) -> None:
    await store.define_attribute(AttributeDefinition("plan", AttributeType.TEXT), origin="t")
    await store.define_attribute(AttributeDefinition("plan", AttributeType.NUMBER), origin="t")
    await store.upsert_persons([PersonInput(values={"plan": 3})], origin="t")
    with pytest.raises(ValidationError, match="cannot change the type"):
        await store.define_attribute(AttributeDefinition("plan", AttributeType.TEXT), origin="t")
    with pytest.raises(ValidationError, match="standard attribute"):
        await store.define_attribute(AttributeDefinition("city", AttributeType.TEXT), origin="t")
    assert (await store.attributes())["plan"].type is AttributeType.NUMBER


async def test_concurrent_writers_never_duplicate_an_email(store: SqlPeopleStore) -> None:
    import asyncio

    async def write(name: str) -> None:
        await store.upsert_persons(
            [PersonInput(values={"last_name": name}, emails=["race@example.com"])], origin=name
        )

    await asyncio.gather(*(write(f"w{i}") for i in range(4)))
    assert await store.count_persons() == 1
