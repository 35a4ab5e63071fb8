"""Deciding what a batch of person upserts writes: validation, matching, diffs (pure).

The SQL store loads the persons a batch may touch, asks ``plan_person_upserts`` what to do,
then writes the plan and its change-log entries in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from peoplesync.errors import (
    AmbiguousMatchError,
    DuplicateEmailError,
    MissingMandatoryAttributeError,
    NotFoundError,
    RecordError,
    UnknownAttributeError,
    ValidationError,
)
from peoplesync.people.attribute import (
    STANDARD_ATTRIBUTES,
    AttributeDefinition,
    coerce_standard,
    coerce_value,
)
from peoplesync.people.contact_point import EmailAddress, normalise_email, normalise_phone
from peoplesync.people.model import Operation, PersonInput, UpsertResult, new_id

STANDARD_NAMES = tuple(STANDARD_ATTRIBUTES)


@dataclass(slots=True)
class PersonState:
    """A person's full stored state while a batch is planned."""

    id: str
    version: int
    standard: dict[str, Any]
    attributes: dict[str, Any]
    emails: tuple[EmailAddress, ...]
    phones: tuple[str, ...]
    company_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ChangeDraft:
    """A change-log entry to be written with the batch."""

    entity_id: str
    operation: Operation
    version: int
    changes: dict[str, Any]


@dataclass(slots=True)
class PersonPlan:
    """Everything one batch writes."""

    inserts: list[PersonState] = field(default_factory=list)
    updates: list[PersonState] = field(default_factory=list)
    rewrite_emails: list[PersonState] = field(default_factory=list)
    rewrite_phones: list[PersonState] = field(default_factory=list)
    changes: list[ChangeDraft] = field(default_factory=list)
    result: UpsertResult = field(default_factory=UpsertResult)
    # Persons changed since the version an input was decided on (``PersonInput.version``).
    stale: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Normalised:
    standard: dict[str, Any]
    attributes: dict[str, Any]
    emails: tuple[EmailAddress, ...] | None
    phones: tuple[str, ...] | None
    company_id: tuple[str | None] | None  # a 1-tuple when given, so None can mean "clear"


@dataclass(frozen=True, slots=True)
class Prepared:
    """An input after validation: its normal form, or the error that rejects it."""

    item: PersonInput
    record: str
    norm: _Normalised | None
    error: RecordError | None

    @property
    def email_keys(self) -> tuple[str, ...]:
        """Comparison keys of the input's emails (empty when rejected or not given)."""
        if self.norm is None or self.norm.emails is None:
            return ()
        return tuple(e.key for e in self.norm.emails)


def prepare_inputs(
    inputs: list[PersonInput],
    definitions: Mapping[str, AttributeDefinition],
    *,
    default_region: str | None,
    today: date,
    first_index: int = 0,
) -> list[Prepared]:
    """Validate every input on its own (no database state needed; ``today`` bounds dates)."""
    return [
        prepare_input(
            item,
            definitions,
            default_region=default_region,
            today=today,
            index=first_index + offset,
        )
        for offset, item in enumerate(inputs)
    ]


def prepare_input(
    item: PersonInput,
    definitions: Mapping[str, AttributeDefinition],
    *,
    default_region: str | None,
    today: date,
    index: int,
) -> Prepared:
    """Validate one input, the ``index``-th of its batch (no database state needed)."""
    record = record_name(item, index)
    try:
        norm = normalise_input(
            item, definitions, record=record, default_region=default_region, today=today
        )
    except RecordError as error:
        return Prepared(item, record, None, error)
    return Prepared(item, record, norm, None)


def with_company(prepared: Prepared, company_id: str) -> Prepared:
    """A validated input with a company id added (the id comes from the store itself, so
    there is nothing more to check)."""
    if prepared.norm is None:
        return prepared
    item = replace(prepared.item, values={**prepared.item.values, "company_id": company_id})
    return replace(prepared, item=item, norm=replace(prepared.norm, company_id=(company_id,)))


def record_name(item: PersonInput, index: int) -> str:
    """How an input is named in errors: its key, its id, or its position in the batch."""
    return item.key or (f"person {item.id}" if item.id else f"#{index}")


def normalise_input(
    item: PersonInput,
    definitions: Mapping[str, AttributeDefinition],
    *,
    record: str,
    default_region: str | None,
    today: date,
) -> _Normalised:
    """Validate every value of ``item``; raise the first RecordError found."""
    standard: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    company_id: tuple[str | None] | None = None
    for name, value in item.values.items():
        if name in STANDARD_ATTRIBUTES:
            # An absent value is valid for every standard attribute.
            standard[name] = (
                None if value is None else coerce_standard(name, value, record=record, today=today)
            )
        elif name in definitions:
            attributes[name] = coerce_value(
                definitions[name].type, value, record=record, field=name
            )
        elif name == "company_id":
            if value is not None and not isinstance(value, str):
                raise ValidationError("expected a company id", record=record, field=name)
            company_id = (value,)
        else:
            hint = UnknownAttributeError.hint
            if name in ("email", "phone"):
                hint = f"give {name}s as the list PersonInput.{name}s (the first is primary)"
            raise UnknownAttributeError(
                "is not a standard attribute nor a defined custom attribute",
                record=record,
                field=name,
                hint=hint,
            )
    emails: tuple[EmailAddress, ...] | None = None
    if item.emails is not None:
        seen: dict[str, EmailAddress] = {}
        for position, raw in enumerate(item.emails):
            address = normalise_email(raw, record=record, field=f"emails[{position}]")
            seen.setdefault(address.key, address)
        emails = tuple(seen.values())
    phones: tuple[str, ...] | None = None
    if item.phones is not None:
        numbers = [
            normalise_phone(
                raw, default_region=default_region, record=record, field=f"phones[{position}]"
            )
            for position, raw in enumerate(item.phones)
        ]
        phones = tuple(dict.fromkeys(numbers))
    return _Normalised(standard, attributes, emails, phones, company_id)


def _diff(before: PersonState | None, after: PersonState) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in STANDARD_NAMES:
        old = before.standard.get(name) if before else None
        new = after.standard.get(name)
        if old != new:
            changes[name] = [old, new]
    old_attrs = before.attributes if before else {}
    for name in old_attrs.keys() | after.attributes.keys():
        old, new = old_attrs.get(name), after.attributes.get(name)
        if old != new:
            changes[name] = [old, new]
    old_emails = [e.address for e in before.emails] if before else []
    if old_emails != [e.address for e in after.emails]:
        changes["emails"] = [old_emails, [e.address for e in after.emails]]
    old_phones = list(before.phones) if before else []
    if old_phones != list(after.phones):
        changes["phones"] = [old_phones, list(after.phones)]
    old_company = before.company_id if before else None
    if old_company != after.company_id:
        changes["company_id"] = [old_company, after.company_id]
    return changes


class _Batch:
    """Working state of one planning run."""

    def __init__(
        self,
        existing: Mapping[str, PersonState],
        email_owners: Mapping[str, str],
        definitions: Mapping[str, AttributeDefinition],
        now: datetime,
        make_id: Callable[[], str],
    ) -> None:
        self.existing = existing
        self.owners = dict(email_owners)
        self.definitions = definitions
        self.now = now
        self.make_id = make_id
        self.working: dict[str, PersonState] = {}
        self.created: set[str] = set()
        self.order: list[str] = []

    def current(self, person_id: str) -> PersonState | None:
        return self.working.get(person_id) or self.existing.get(person_id)

    def target(self, norm: _Normalised, item: PersonInput, record: str) -> PersonState | None:
        if item.id is not None:
            state = self.current(item.id)
            if state is None:
                raise NotFoundError("no person has this id", record=record, field="id")
            return state
        if not norm.emails:
            return None
        matched = {self.owners[e.key] for e in norm.emails if e.key in self.owners}
        if len(matched) > 1:
            raise AmbiguousMatchError(
                f"the emails belong to {len(matched)} different persons",
                record=record,
                field="emails",
            )
        return self.current(matched.pop()) if matched else None

    def apply(self, prepared: Prepared) -> str:
        if prepared.error is not None:
            raise prepared.error
        assert prepared.norm is not None
        item, record, norm = prepared.item, prepared.record, prepared.norm
        base = self.target(norm, item, record)
        creating = base is None
        if base is None:
            # A new person: no stored values to merge with.
            previous_emails: tuple[EmailAddress, ...] = ()
            state = PersonState(
                id=self.make_id(),
                version=0,
                standard=dict(norm.standard),
                attributes={k: v for k, v in norm.attributes.items() if v is not None},
                emails=(),
                phones=(),
                company_id=None,
                created_at=self.now,
                updated_at=self.now,
            )
        else:
            previous_emails = base.emails
            state = replace(
                base,
                standard={**base.standard, **norm.standard},
                attributes={
                    k: v for k, v in {**base.attributes, **norm.attributes}.items() if v is not None
                },
            )
        if norm.company_id is not None:
            state.company_id = norm.company_id[0]
        if norm.phones is not None:
            state.phones = norm.phones
        if norm.emails is not None:
            for address in norm.emails:
                owner = self.owners.get(address.key)
                if owner is not None and owner != state.id:
                    raise DuplicateEmailError(
                        f"{address.address} already belongs to person {owner}",
                        record=record,
                        field="emails",
                    )
            state.emails = norm.emails
        self._check_mandatory(
            state, norm, creating=creating and state.id not in self.working, record=record
        )
        if norm.emails is not None:
            for old in previous_emails:
                self.owners.pop(old.key, None)
            for address in norm.emails:
                self.owners[address.key] = state.id
        if state.id not in self.working:
            self.order.append(state.id)
            if creating:
                self.created.add(state.id)
        self.working[state.id] = state
        return state.id

    def _check_mandatory(
        self, state: PersonState, norm: _Normalised, *, creating: bool, record: str
    ) -> None:
        for definition in self.definitions.values():
            if not definition.mandatory:
                continue
            missing = state.attributes.get(definition.name) in (None, "", [])
            if missing and (creating or definition.name in norm.attributes):
                raise MissingMandatoryAttributeError(
                    "is mandatory", record=record, field=definition.name
                )


def plan_person_upserts(
    prepared: list[Prepared],
    *,
    existing: Mapping[str, PersonState],
    email_owners: Mapping[str, str],
    definitions: Mapping[str, AttributeDefinition],
    now: datetime,
    make_id: Callable[[], str] = new_id,
) -> PersonPlan:
    """Match validated inputs against the loaded state; return what to write.

    ``existing`` must hold every person an input names by id and every owner of an input
    email (``email_owners`` maps email keys to person ids). Several inputs for one person
    collapse into one write and one change-log entry. Inputs given with a ``version`` that is
    not the stored one are listed in ``stale`` (the caller writes nothing then).
    """
    batch = _Batch(existing, email_owners, definitions, now, make_id)
    plan = PersonPlan()
    plan.stale = [
        entry.item.id
        for entry in prepared
        if entry.item.id is not None
        and entry.item.version is not None
        and (entry.item.id not in existing or existing[entry.item.id].version != entry.item.version)
    ]
    for entry in prepared:
        try:
            plan.result.ids.append(batch.apply(entry))
        except RecordError as error:
            plan.result.rejected.append(error)
            plan.result.ids.append(None)
    for person_id in batch.order:
        final = batch.working[person_id]
        before = None if person_id in batch.created else existing[person_id]
        changes = _diff(before, final)
        if before is None:
            final.version = 1
            plan.inserts.append(final)
            plan.result.created.append(person_id)
            plan.changes.append(ChangeDraft(person_id, "create", 1, changes))
        elif not changes:
            plan.result.unchanged.append(person_id)
        else:
            final.version = before.version + 1
            final.updated_at = now
            plan.updates.append(final)
            plan.result.updated.append(person_id)
            plan.changes.append(ChangeDraft(person_id, "update", final.version, changes))
            if "emails" in changes:
                plan.rewrite_emails.append(final)
            if "phones" in changes:
                plan.rewrite_phones.append(final)
    return plan
