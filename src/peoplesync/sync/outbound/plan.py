"""People -> Salesforce decisions, all pure: values to write, echoes, log position, retries.

The outbound runner fetches and applies; everything it decides is here. A person's values are
converted to Salesforce values per mapping line; a linked record gets only the fields whose
value differs from the link's last synced state (so our own echoes are never written), and
Fill lines only write where that state is empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from peoplesync.errors import InvalidPhoneError, ValidationError
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.contact_point import normalise_phone
from peoplesync.people.model import Change, Person
from peoplesync.sync.inbound.mapper import from_salesforce
from peoplesync.sync.mapping import Direction, FieldMapping, Mode, attribute_type


def _outbound(pairs: Sequence[tuple[str, str]]) -> tuple[FieldMapping, ...]:
    return tuple(FieldMapping(f, attribute, Direction.OUTBOUND) for f, attribute in pairs)


OUTBOUND_MAPPINGS: dict[str, tuple[FieldMapping, ...]] = {
    "Lead": _outbound(
        [
            ("FirstName", "first_name"),
            ("LastName", "last_name"),
            ("Email", "emails"),
            ("Phone", "phones"),
            ("MobilePhone", "phones"),
            ("Company", "company"),
            ("Title", "title"),
            ("City", "city"),
            ("Country", "country"),
            ("Street", "address"),
            ("LeadSource", "lead_source"),
        ]
    ),
    "Contact": _outbound(
        [
            ("FirstName", "first_name"),
            ("LastName", "last_name"),
            ("Email", "emails"),
            ("Phone", "phones"),
            ("MobilePhone", "phones"),
            ("Title", "title"),
            ("MailingCity", "city"),
            ("MailingCountry", "country"),
            ("MailingStreet", "address"),
            ("LeadSource", "lead_source"),
            ("Birthdate", "birth_date"),
        ]
    ),
}
# People attributes a new record of the object cannot be created without.
REQUIRED_ON_CREATE: dict[str, tuple[tuple[str, str], ...]] = {"Lead": (("Company", "company"),)}


_AS_IS = frozenset({type(None), bool, int, float, str})


def to_salesforce(value: Any) -> Any:
    """A People value as a Salesforce JSON value (dates ISO, lists as ';' multi-picklists)."""
    if type(value) in _AS_IS or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return ";".join(str(part) for part in value) or None
    return str(value)


def writable(line: FieldMapping, *, creating: bool) -> bool:
    """Whether a line writes to Salesforce for this kind of write (relationship paths never)."""
    return "." not in line.salesforce_field and line.applies(inbound=False, creating=creating)


@lru_cache(maxsize=256)
def _value_plan(
    lines: tuple[FieldMapping, ...], creating: bool
) -> tuple[tuple[str, str, int], ...]:
    """(Salesforce field, attribute, phone slot or -1) of the lines that write, in order:
    decided once per mapping rather than once per person."""
    plan: list[tuple[str, str, int]] = []
    phone_index = 0
    for line in lines:
        slot = -1
        if line.attribute == "phones" and line.applies(inbound=False, creating=creating):
            slot = phone_index
            phone_index += 1
        if writable(line, creating=creating):
            plan.append((line.salesforce_field, line.attribute, slot))
    return tuple(plan)


def person_values(
    person: Person,
    lines: Sequence[FieldMapping],
    *,
    creating: bool,
) -> dict[str, Any]:
    """Salesforce field values from a person for the lines of this kind of write.

    The primary email fills an ``emails`` line; ``phones`` lines take the person's phones in
    order (the first line the primary, the next the second number: Phone, then MobilePhone).
    """
    return _planned_values(person, _value_plan(tuple(lines), creating))


def _planned_values(person: Person, plan: tuple[tuple[str, str, int], ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    phones = person.phones
    for name, attribute, slot in plan:
        if attribute == "emails":
            values[name] = person.email
        elif attribute == "phones":
            values[name] = phones[slot] if slot < len(phones) else None
        elif attribute == "company_id":
            # The company's Account id (see ``OutboundRunner``); a company without an Account
            # leaves the field as it is rather than clearing it.
            if person.get("company_id") is not None:
                values[name] = person.get("company_id")
        else:
            values[name] = to_salesforce(person.get(attribute))
    return values


_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def same_value(
    synced: Any,
    new: Any,
    kind: AttributeType | None,
    attribute: str,
    *,
    phone_region: str | None = None,
) -> bool:
    """Whether a Salesforce value (last synced) and a value we would write mean the same."""
    if synced == new and type(synced) is type(new):
        return True  # the common case once a value went through: no conversion needed
    if _empty(synced) and _empty(new):
        return True
    if _empty(synced) or _empty(new):
        return False
    if attribute == "emails":
        return str(synced).strip().casefold() == str(new).strip().casefold()
    if attribute == "phones":
        try:
            # People keeps phones in E.164 already: only the synced side needs parsing.
            ours = str(new) if _E164.fullmatch(str(new)) else None
            return normalise_phone(str(synced), default_region=phone_region) == (
                ours or normalise_phone(str(new), default_region=phone_region)
            )
        except InvalidPhoneError:
            return str(synced).strip() == str(new).strip()
    if kind is None:
        return bool(synced == new)
    try:
        left = from_salesforce(synced, kind, record="", field="")
        right = from_salesforce(new, kind, record="", field="")
    except ValidationError:
        return bool(synced == new)
    if isinstance(left, list) and isinstance(right, list):
        return sorted(left) == sorted(right)
    return bool(left == right)


class UpdateDiff:
    """``update_values`` for many persons of one step: the lines' modes and People types are
    looked up once, not once per person."""

    def __init__(
        self,
        lines: Sequence[FieldMapping],
        definitions: Mapping[str, AttributeDefinition],
        *,
        phone_region: str | None = None,
    ) -> None:
        self.lines = tuple(lines)
        self.phone_region = phone_region
        self.plan = _value_plan(self.lines, False)
        self.fill = {line.salesforce_field: line.mode is Mode.FILL for line in self.lines}
        self.kinds = {
            line.salesforce_field: (attribute_type(line.attribute, definitions), line.attribute)
            for line in self.lines
        }

    def __call__(self, person: Person, state: Mapping[str, Any]) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        for name, value in _planned_values(person, self.plan).items():
            synced = state.get(name)
            if self.fill[name] and (not _empty(synced) or _empty(value)):
                continue
            kind, attribute = self.kinds[name]
            if not same_value(synced, value, kind, attribute, phone_region=self.phone_region):
                changed[name] = value
        return changed


def update_values(
    person: Person,
    lines: Sequence[FieldMapping],
    state: Mapping[str, Any],
    definitions: Mapping[str, AttributeDefinition],
    *,
    phone_region: str | None = None,
) -> dict[str, Any]:
    """The fields of a linked record to write: those whose People value differs from the
    link's last synced state; a Fill line only where that state is empty."""
    return UpdateDiff(lines, definitions, phone_region=phone_region)(person, state)


def create_values(person: Person, lines: Sequence[FieldMapping]) -> dict[str, Any]:
    """The fields of a new record (empty values left out)."""
    return {k: v for k, v in person_values(person, lines, creating=True).items() if not _empty(v)}


def missing_on_create(sobject: str, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(Salesforce field, People attribute) pairs a new record needs but has no value for."""
    return [pair for pair in REQUIRED_ON_CREATE.get(sobject, ()) if _empty(values.get(pair[0]))]


def persons_to_push(changes: Iterable[Change], *, own_origin: str) -> tuple[list[str], int]:
    """Person ids changed by others (collapsed, in first-change order) and how many changes
    were skipped as our own. Deletes are not in the ids (see ``deleted_links``)."""
    ids: dict[str, None] = {}
    skipped = 0
    for change in changes:
        if change.entity_type != "person":
            continue
        if change.origin == own_origin:
            skipped += 1
            continue
        if change.operation != "delete":
            ids[change.entity_id] = None
    return list(ids), skipped


def deleted_links(
    changes: Iterable[Change], *, own_origin: str, entity_type: str = "person"
) -> dict[str, list[tuple[str, str]]]:
    """(object, record id) pairs of this integration's records linked to persons (or
    companies) deleted in People by others, by their id, from the snapshot the change log
    keeps of a deleted record. One deleted because its Salesforce record went (our own
    origin) is left out."""
    found: dict[str, list[tuple[str, str]]] = {}
    for change in changes:
        if (
            change.entity_type != entity_type
            or change.operation != "delete"
            or change.origin == own_origin
        ):
            continue
        system = own_origin
        pairs = [
            (str(link[1]), str(link[2]))
            for link in change.changes.get("links") or []
            if len(link) == 3 and link[0] == system
        ]
        found[change.entity_id] = pairs
    return found


# --- where the consumer stands in the change log -------------------------------------------

DEFAULT_GAP_TIMEOUT = timedelta(minutes=10)
MAX_GAPS = 10_000


@dataclass(frozen=True)
class LogPosition:
    """The highest change-log seq handled, and the seqs below it not seen yet (gaps).

    On PostgreSQL a seq is taken before commit, so seq 11 can be visible before seq 10: 10 is
    remembered as a gap with the time it was first missed and read again on later passes,
    until it shows up or is older than the gap timeout (a rolled-back transaction). A log
    that starts above 1 costs one timeout's worth of cheap re-reads, nothing more.
    """

    seq: int = 0
    gaps: Mapping[int, datetime] = field(default_factory=dict)

    def read_from(self) -> int:
        """The seq to read after (``changes_since``)."""
        return min(self.gaps, default=self.seq + 1) - 1

    def wanted(self, seq: int) -> bool:
        """Whether a change is still to be handled."""
        return seq > self.seq or seq in self.gaps

    def advance(
        self, seqs: Iterable[int], now: datetime, gap_timeout: timedelta = DEFAULT_GAP_TIMEOUT
    ) -> LogPosition:
        """The position once the changes ``seqs`` (one page, ascending) are handled."""
        seen = sorted(set(seqs))
        gaps = {s: at for s, at in self.gaps.items() if s not in seen and now - at < gap_timeout}
        high = self.seq
        for seq in seen:
            if seq <= high:
                continue
            gaps.update({missing: now for missing in range(high + 1, seq)})
            high = seq
        if len(gaps) > MAX_GAPS:
            gaps = dict(sorted(gaps.items())[-MAX_GAPS:])
        return LogPosition(high, gaps)

    def to_json(self) -> dict[str, Any]:
        """Plain data for sync_state."""
        return {"seq": self.seq, "gaps": {str(s): at.isoformat() for s, at in self.gaps.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> LogPosition:
        """The position stored by ``to_json`` (the start of the log when None)."""
        if not data:
            return cls()
        gaps = {int(s): datetime.fromisoformat(at) for s, at in dict(data.get("gaps", {})).items()}
        return cls(int(data["seq"]), gaps)


# --- retries of failed records ------------------------------------------------------------

RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class RetryEntry:
    """A person whose last push failed: when to try again and why it failed."""

    attempts: int
    next_at: datetime
    code: str

    def to_json(self) -> dict[str, Any]:
        """Plain data for sync_state."""
        return {"attempts": self.attempts, "next_at": self.next_at.isoformat(), "code": self.code}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RetryEntry:
        """An entry stored by ``to_json``."""
        at = datetime.fromisoformat(data["next_at"])
        return cls(int(data["attempts"]), at, str(data["code"]))


def next_retry(previous: RetryEntry | None, code: str, now: datetime) -> RetryEntry | None:
    """When to retry a failed person (exponential backoff), or None once it is given up on:
    a person given up on waits for its next change in People."""
    attempts = (previous.attempts if previous else 0) + 1
    if attempts > MAX_ATTEMPTS:
        return None
    delay = min(RETRY_CAP, RETRY_BASE * 2 ** (attempts - 1))
    return RetryEntry(attempts, now + delay, code)


def due(retries: Mapping[str, RetryEntry], now: datetime, *, everything: bool = False) -> list[str]:
    """Persons whose retry time has come (all of them with ``everything``)."""
    return [pid for pid, entry in retries.items() if everything or entry.next_at <= now]


__all__ = [
    "OUTBOUND_MAPPINGS",
    "LogPosition",
    "RetryEntry",
    "create_values",
    "deleted_links",
    "missing_on_create",
    "next_retry",
    "persons_to_push",
    "same_value",
    "to_salesforce",
    "update_values",
]
