"""A person as the web shows it (attributes, contact points, company, Salesforce links,
timeline), and a person as the web gives it to the store."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from peoplesync.errors import (
    BatchValidationError,
    DuplicateEmailError,
    NotFoundError,
    ValidationError,
)
from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeDefinition, AttributeType
from peoplesync.people.model import Company, ExternalLink, Person, PersonInput, TimelineEvent
from peoplesync.people.store import PeopleStore
from peoplesync.web.accounts import User

SALESFORCE_SYSTEM = "salesforce:"
_LIST_SPLIT = re.compile(r"[\n,;]+")


@dataclass(frozen=True)
class RecordLink:
    """A link to a record in another system, with the address that opens it (if known)."""

    system: str
    object: str
    external_id: str
    url: str | None
    synced_at: datetime | None


@dataclass(frozen=True)
class PersonDetails:
    """Everything the person page shows."""

    person: Person
    company: Company | None
    links: list[RecordLink]
    timeline: list[TimelineEvent]


def origin(user: User) -> str:
    """Who made a change, as the change log records it."""
    return f"web:{user.email}"


def json_value(value: object) -> Any:
    """A stored value in JSON form (decimals as strings, so no precision is lost)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


async def _instance_urls(store: PeopleStore, links: list[ExternalLink]) -> dict[str, str]:
    """The base address of each Salesforce integration the links point into."""
    urls: dict[str, str] = {}
    for link in links:
        if link.system.startswith(SALESFORCE_SYSTEM) and link.system not in urls:
            name = link.system.removeprefix(SALESFORCE_SYSTEM)
            stored = await store.get_state(f"integration:{name}") or {}
            base = stored.get("instance_url") or stored.get("login_url")
            if isinstance(base, str) and base:
                urls[link.system] = base.rstrip("/")
    return urls


async def person_details(store: PeopleStore, person_id: str, *, events: int = 50) -> PersonDetails:
    """The person page's data; NotFoundError when there is no such person."""
    found = await store.get_persons([person_id])
    person = found.get(person_id)
    if person is None:
        raise NotFoundError("no person has this id", record=person_id, field="id")
    company = None
    if person.company_id:
        company = (await store.get_companies([person.company_id])).get(person.company_id)
    links = (await store.links_of("person", [person_id])).get(person_id, [])
    bases = await _instance_urls(store, links)
    shown = [
        RecordLink(
            link.system,
            link.object,
            link.external_id,
            f"{bases[link.system]}/{link.external_id}" if link.system in bases else None,
            link.synced_at,
        )
        for link in links
    ]
    timeline = await store.timeline(person_id, limit=events)
    return PersonDetails(person, company, shown, timeline)


def person_json(person: Person) -> dict[str, Any]:
    """A person in the REST API."""
    return {
        "id": person.id,
        "version": person.version,
        "emails": list(person.emails),
        "phones": list(person.phones),
        "company_id": person.company_id,
        "standard": {name: json_value(value) for name, value in person.standard.items()},
        "custom": {name: json_value(value) for name, value in person.attributes.items()},
        "created_at": person.created_at.isoformat(),
        "updated_at": person.updated_at.isoformat(),
    }


def details_json(details: PersonDetails) -> dict[str, Any]:
    """A person with company, links and timeline in the REST API."""
    company = details.company
    return {
        **person_json(details.person),
        "company": None
        if company is None
        else {"id": company.id, "name": company.name, "website_domain": company.website_domain},
        "links": [
            {
                "system": link.system,
                "object": link.object,
                "id": link.external_id,
                "url": link.url,
                "synced_at": link.synced_at.isoformat() if link.synced_at else None,
            }
            for link in details.links
        ],
        "timeline": [
            {
                "id": event.id,
                "kind": event.kind,
                "source": event.source,
                "occurred_at": event.occurred_at.isoformat(),
                "data": dict(event.data),
            }
            for event in details.timeline
        ],
    }


def _lines(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(text) if part.strip()]


def form_input(
    form: Mapping[str, str],
    definitions: Mapping[str, AttributeDefinition],
    *,
    person_id: str | None = None,
) -> PersonInput:
    """A person from the add/edit form: empty fields clear a value on edit and are left out
    on add; emails and phones are one per line, the first is primary."""
    values: dict[str, object] = {}
    for name in [*STANDARD_ATTRIBUTES, *definitions]:
        if name not in form:
            continue
        text = form[name].strip()
        if not text:
            if person_id is not None:
                values[name] = None
            continue
        definition = definitions.get(name)
        if definition is not None and definition.type is AttributeType.LIST:
            values[name] = _lines(text)
        else:
            values[name] = text
    emails = _lines(form["emails"]) if "emails" in form else None
    phones = _lines(form["phones"]) if "phones" in form else None
    return PersonInput(
        values=values, emails=emails, phones=phones, id=person_id, key=person_id or "new person"
    )


def form_values(
    person: Person | None, definitions: Mapping[str, AttributeDefinition]
) -> dict[str, str]:
    """The add/edit form's initial text per field."""
    if person is None:
        return {}
    shown: dict[str, str] = {"emails": "\n".join(person.emails), "phones": "\n".join(person.phones)}
    for name in [*STANDARD_ATTRIBUTES, *definitions]:
        value = json_value(person.get(name))
        if value is None:
            continue
        shown[name] = "\n".join(value) if isinstance(value, list) else str(value)
    return shown


IDENTIFYING = ("first_name", "last_name")


def check_identifiable(item: PersonInput) -> None:
    """Refuse a new person with no email, phone or name, and an edit that removes all of
    them (ValidationError naming the emails field)."""
    if item.emails or item.phones or any(item.values.get(n) for n in IDENTIFYING):
        return
    if item.id is not None and not (
        item.emails is not None
        and item.phones is not None
        and all(n in item.values for n in IDENTIFYING)
    ):
        return  # the edit keeps some of the stored ones
    raise ValidationError(
        "a person needs at least an email, a phone or a name, and none was given",
        record=item.key,
        field="emails",
        hint="fill in an email address, a phone number, or a first or last name",
    )


async def save_person(store: PeopleStore, item: PersonInput, user: User) -> str:
    """Create (no id) or update one person; raises the store's RecordError naming the field.

    The store's upsert would match a new person to an existing one by email and update it;
    adding a person whose email is taken is refused instead.
    """
    company = item.values.get("company_id")
    if isinstance(company, str) and not await store.get_companies([company]):
        raise ValidationError(
            "no company has this id", record=item.key, field="company_id", hint="pick a company"
        )
    (checked,) = await store.validate_inputs([item])
    if checked.error is not None:  # a bad value is named before a missing identifier
        raise checked.error
    check_identifiable(item)
    if item.id is None:
        taken = await store.find_by_emails(e.strip().lower() for e in item.emails or ())
        for position, email in enumerate(item.emails or ()):
            if email.strip().lower() in taken:
                raise DuplicateEmailError(
                    f"{email.strip()} already belongs to another person",
                    record=item.key,
                    field=f"emails[{position}]",
                    hint="open that person instead, or give another address",
                )
    try:
        result = await store.upsert_persons([item], origin=origin(user))
    except BatchValidationError as error:  # one record: its own error names the field
        if error.errors:
            raise error.errors[0] from None
        raise
    saved = result.ids[0] if result.ids else None
    if saved is None:  # pragma: no cover - the store raises for rejected records
        raise NotFoundError("the person was not saved", record=item.key, field="id")
    return saved


__all__ = [
    "PersonDetails",
    "RecordLink",
    "check_identifiable",
    "details_json",
    "form_input",
    "form_values",
    "person_details",
    "person_json",
    "save_person",
]
