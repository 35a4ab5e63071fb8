"""What applying an inbound batch looks up in People: which record already stands for an
email, which new records a push made before it could link them, which values of linked
records a push sent before it could commit them, each record's company, and the push marks a
batch must keep on its links."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from peoplesync.people.domain_name import email_domain
from peoplesync.people.model import ExternalLink
from peoplesync.people.store import PeopleStore
from peoplesync.sync.inbound.draft import Draft
from peoplesync.sync.inbound.step import InboundStep
from peoplesync.sync.outbound.attempts import same_sent
from peoplesync.sync.outbound.push_mark import MARK, carried_marks, with_sent
from peoplesync.sync.outbound.sent_updates import load_sent


async def primaries(
    store: PeopleStore,
    step: InboundStep,
    drafts: Sequence[Draft],
    links: Mapping[str, ExternalLink],
) -> dict[str, str]:
    """For unlinked records whose email already belongs to another record of the same
    object (linked before, or earlier in this batch): that other record's id."""
    emails = [d.email for d in drafts if d.email and d.record["Id"] not in links]
    owners = await store.find_by_emails(emails) if emails else {}
    linked = await store.links_of("person", list(set(owners.values()))) if owners else {}
    taken: dict[str, str] = {}
    for email, person_id in owners.items():
        for link in linked.get(person_id, []):
            if link.system == step.system and link.object == step.sobject:
                taken[email] = link.external_id
    primaries: dict[str, str] = {}
    for draft in drafts:
        address = draft.email
        if address is None:
            continue
        record_id = draft.record["Id"]
        other = taken.get(address)
        if other is not None and other != record_id and record_id not in links:
            primaries[record_id] = other
        taken.setdefault(address, record_id)
    return primaries


@dataclasses.dataclass(frozen=True, slots=True)
class Attempts:
    """The create attempts a batch may meet: the People owner of each email of the batch,
    the values sent to create a record for those owners, and for persons without an email."""

    owners: Mapping[str, str] = dataclasses.field(default_factory=dict)
    by_email: Mapping[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    blind: Mapping[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


async def create_attempts(
    store: PeopleStore, step: InboundStep, drafts: Sequence[Draft]
) -> Attempts:
    """The create attempts of this integration's push the records of ``drafts`` may answer
    (see ``outbound.attempts``). Read before the links: a push forgets an attempt only once
    its link is committed, so a record it created is either among these or linked when the
    links are read."""
    if not drafts or not await store.has_create_attempts(step.system, step.sobject):
        return Attempts()
    owners = await store.find_by_emails([d.email for d in drafts if d.email])
    by_email = await store.create_attempts(step.system, step.sobject, set(owners.values()))
    blind: dict[str, dict[str, Any]] = {}
    if any(not d.email for d in drafts):
        every = await store.create_attempts(step.system, step.sobject, None)
        blind = {person_id: sent for person_id, sent in every.items() if not sent.get("Email")}
    return Attempts(owners, by_email, blind)


async def pushed_creates(
    store: PeopleStore,
    step: InboundStep,
    drafts: Sequence[Draft],
    links: Mapping[str, ExternalLink],
    saved: Attempts,
) -> dict[str, ExternalLink]:
    """Unlinked records that a push of this integration created for a person whose link it
    has not committed (its process died, or has not got that far), by the attempts ``saved``
    (``create_attempts``, read before the links): the person owning the record's email, or
    for a record without one, a person without an email to whom every value sent matches
    (``same_sent``). Record
    id -> the link as the push would have made it, with the values sent as its state.
    Applied as linked records, they bring only what changed in Salesforce after the create,
    and not the values sent, which People may have changed since (see
    ``outbound.attempts``); a record without an email is not taken for a new person. A
    person linked to a record of the object already has none."""
    unlinked = [d for d in drafts if d.record["Id"] not in links]
    owners, by_email, blind = saved.owners, saved.by_email, saved.blind
    if not unlinked or (not by_email and not blind):
        return {}
    taken = {
        person_id
        for person_id, made in (await store.links_of("person", [*by_email, *blind])).items()
        if any(link.system == step.system and link.object == step.sobject for link in made)
    }
    found: dict[str, ExternalLink] = {}
    for draft in unlinked:
        if draft.email:
            person_id = owners.get(draft.email)
            values = by_email.get(person_id or "")
        else:
            person_id = next(
                (
                    p
                    for p, sent in blind.items()
                    if p not in taken and same_sent(sent, draft.record)
                ),
                None,
            )
            values = blind.get(person_id or "")
        if person_id is None or values is None or person_id in taken:
            continue
        taken.add(person_id)  # one record per create
        record_id = str(draft.record["Id"])
        found[record_id] = ExternalLink(
            "person", person_id, step.system, step.sobject, record_id, values
        )
    return found


async def sent_to(
    store: PeopleStore, step: InboundStep, drafts: Sequence[Draft]
) -> dict[str, dict[str, Any]]:
    """The values a push of this integration sent to the records of ``drafts`` without
    committing their links (see ``outbound.sent_updates``). Read before the links: a push
    forgets them only once its links are committed, so a record read after the write has
    either its values here or its link as the push committed it."""
    return await load_sent(store, step.system, step.sobject, [d.record["Id"] for d in drafts])


def pushed_updates(
    drafts: Sequence[Draft],
    links: Mapping[str, ExternalLink],
    sent: Mapping[str, Mapping[str, Any]],
) -> dict[str, ExternalLink]:
    """``links`` with the values ``sent`` (``sent_to``) taken as synced where the record
    read holds them (``push_mark.with_sent``): People's value of such a field is newer than
    the record's, however recent its modstamp."""
    if not sent:
        return dict(links)
    found = dict(links)
    for draft in drafts:
        record_id = str(draft.record["Id"])
        link, values = links.get(record_id), sent.get(record_id)
        if link is not None and values:
            state = with_sent(link.state, values, draft.snapshot)
            if state != link.state:
                found[record_id] = dataclasses.replace(link, state=state)
    return found


async def companies(
    store: PeopleStore, step: InboundStep, drafts: Sequence[Draft]
) -> dict[str, tuple[str, bool]]:
    """The People company of each record: its Account's (True), or else the one whose
    website has the domain of the record's email (False: only fills an empty company)."""
    accounts = {
        d.record["Id"]: str(d.record["AccountId"]) for d in drafts if d.record.get("AccountId")
    }
    linked = (
        await store.find_links(step.system, "Account", list(set(accounts.values())))
        if accounts
        else {}
    )
    found = {
        record_id: (linked[account].entity_id, True)
        for record_id, account in accounts.items()
        if account in linked
    }
    domains = {
        d.record["Id"]: domain
        for d in drafts
        if d.record["Id"] not in found and (domain := email_domain(d.email))
    }
    if domains:
        owners = await store.find_companies_by_domains(set(domains.values()))
        found |= {
            record_id: (owners[domain], False)
            for record_id, domain in domains.items()
            if domain in owners
        }
    return found


def company_to_set(found: tuple[str, bool] | None, current: str | None) -> str | None:
    """The company id to write for a person: its Account's company always, an email-domain
    match only when the person has none."""
    if found is None or found[0] == current:
        return None
    company_id, from_account = found
    return company_id if from_account or current is None else None


async def keep_pushed(
    store: PeopleStore,
    step: InboundStep,
    sources: list[tuple[dict[str, Any], dict[str, Any]]],
    links: Mapping[str, ExternalLink],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Snapshots that keep the values a push recorded on the links after this batch read
    them: such a field is unchanged in the record read (read before the push wrote it),
    and rolling its state back would make the push's write look like a Salesforce change
    (and a later People edit of the field like a conflict)."""
    ids = [str(record["Id"]) for record, _ in sources if record["Id"] in links]
    if not ids:
        return sources
    stored = await store.find_links(step.system, step.sobject, ids)
    kept: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for record, snapshot in sources:
        read, now = links.get(record["Id"]), stored.get(record["Id"])
        if read is None or now is None or dict(now.state) == dict(read.state):
            kept.append((record, snapshot))
            continue
        merged = dict(snapshot)
        taken: list[str] = []
        for name, value in now.state.items():
            before = read.state.get(name)
            if name == MARK or name not in merged:
                continue
            if value != before and snapshot.get(name) == before:
                merged[name] = value
                taken.append(name)
        kept.append((record, carried_marks(merged, now.state, taken)))
    return kept


__all__ = [
    "companies",
    "company_to_set",
    "create_attempts",
    "keep_pushed",
    "primaries",
    "pushed_creates",
    "pushed_updates",
    "sent_to",
]
