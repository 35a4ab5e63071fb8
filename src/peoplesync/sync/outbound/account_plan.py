"""Company -> Account decisions, all pure: values to write, which companies changed, matches.

A company's values become Account values per outbound mapping line (the website as its
normalised domain, revenue as a number); a linked Account gets only the fields that differ
from the link's last synced state; an unlinked company is matched to an Account found by
website domain first, then by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from peoplesync.people.domain_name import normalise_domain
from peoplesync.people.model import Change, Company
from peoplesync.sync.mapping import Direction, FieldMapping, Mode
from peoplesync.sync.outbound.plan import writable

ACCOUNT_OUTBOUND: tuple[FieldMapping, ...] = tuple(
    FieldMapping(field, attribute, Direction.OUTBOUND)
    for field, attribute in (
        ("Name", "name"),
        ("Website", "website_domain"),
        ("Industry", "industry"),
        ("NumberOfEmployees", "employees"),
        ("AnnualRevenue", "revenue"),
        ("BillingCountry", "country"),
    )
)
# Retry-list keys of companies (the list is keyed by person id otherwise).
COMPANY_KEY = "company:"


def companies_to_push(changes: Iterable[Change], *, own_origin: str) -> tuple[list[str], int]:
    """Company ids created or changed by others (in first-change order), and how many
    company changes were this integration's own (brought by the inbound Account step)."""
    ids: dict[str, None] = {}
    skipped = 0
    for change in changes:
        if change.entity_type != "company":
            continue
        if change.origin == own_origin:
            skipped += 1
        elif change.operation != "delete":
            ids[change.entity_id] = None
    return list(ids), skipped


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return int(number) if number == number.to_integral_value() else float(number)
    return value


def account_values(
    company: Company, lines: Sequence[FieldMapping], *, creating: bool
) -> dict[str, Any]:
    """Account field values from a company for the lines of this kind of write."""
    values: dict[str, Any] = {}
    for line in lines:
        if not writable(line, creating=creating):
            continue
        value = getattr(company, line.attribute, None)
        if line.attribute == "revenue":
            value = _number(value)
        values[line.salesforce_field] = value
    return values


def _empty(value: Any) -> bool:
    return value is None or value == ""


def same_account_value(name: str, synced: Any, new: Any) -> bool:
    """Whether a synced Account value and one we would write mean the same."""
    if _empty(synced) or _empty(new):
        return _empty(synced) and _empty(new)
    if name == "Website":
        return normalise_domain(str(synced)) == normalise_domain(str(new))
    if isinstance(synced, int | float) or isinstance(new, int | float):
        try:
            return Decimal(str(synced)) == Decimal(str(new))
        except InvalidOperation:
            return False
    if isinstance(synced, str) and isinstance(new, str):
        return synced.strip() == new.strip()
    return bool(synced == new)


def account_update(
    company: Company, lines: Sequence[FieldMapping], state: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of a linked Account to write: those differing from the last synced state
    (so the inbound step's own values are never written back); Fill only where it is empty."""
    by_field = {line.salesforce_field: line for line in lines}
    changed: dict[str, Any] = {}
    for name, value in account_values(company, lines, creating=False).items():
        synced = state.get(name)
        if by_field[name].mode is Mode.FILL and (not _empty(synced) or _empty(value)):
            continue
        if not same_account_value(name, synced, value):
            changed[name] = value
    return changed


def account_create(company: Company, lines: Sequence[FieldMapping]) -> dict[str, Any]:
    """The fields of a new Account (empty values left out)."""
    values = account_values(company, lines, creating=True)
    return {k: v for k, v in values.items() if not _empty(v)}


def website_variants(domain: str) -> list[str]:
    """The spellings of a domain a Website field commonly holds (for ``Website IN``)."""
    hosts = [domain, f"www.{domain}"]
    spelt = [*hosts, *(f"{scheme}://{host}" for scheme in ("http", "https") for host in hosts)]
    return [*spelt, *(f"{s}/" for s in spelt)]


def match_accounts(
    companies: Sequence[Company],
    records: Sequence[Mapping[str, Any]],
    taken: Iterable[str] = (),
) -> dict[str, Mapping[str, Any]]:
    """The Account each company matches, by company id: the same website domain first, then
    the same name (case-insensitive) with no other website. ``records`` are in creation
    order, so the oldest wins; a record is matched once, and never one in ``taken``."""
    used = set(taken)
    found: dict[str, Mapping[str, Any]] = {}
    domains = [(r, normalise_domain(str(r.get("Website") or "")) or None) for r in records]
    for company in companies:
        name = (company.name or "").strip().casefold()
        best = None
        if company.website_domain:
            best = next(
                (r for r, d in domains if d == company.website_domain and r["Id"] not in used),
                None,
            )
        if best is None and name:
            best = next(
                (
                    r
                    for r, d in domains
                    if str(r.get("Name") or "").strip().casefold() == name
                    and d in (None, company.website_domain)
                    and r["Id"] not in used
                ),
                None,
            )
        if best is not None:
            used.add(str(best["Id"]))
            found[company.id] = best
    return found


__all__ = [
    "ACCOUNT_OUTBOUND",
    "COMPANY_KEY",
    "account_create",
    "account_update",
    "account_values",
    "companies_to_push",
    "match_accounts",
    "same_account_value",
    "website_variants",
]
