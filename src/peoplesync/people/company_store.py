"""Companies in the SQL store: matched by id, then by normalised website domain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import BatchValidationError, NotFoundError, RecordError, ValidationError
from peoplesync.people import tables as t
from peoplesync.people.change_log import ChangeWriter
from peoplesync.people.domain_name import normalise_domain
from peoplesync.people.link_store import LinkStore
from peoplesync.people.model import Company, CompanyInput, ExternalLink, UpsertResult, new_id
from peoplesync.people.planner import ChangeDraft

COMPANY_FIELDS: dict[str, tuple[type, int | None]] = {
    "name": (str, 255),
    "website_domain": (str, 255),
    "industry": (str, 255),
    "employees": (int, None),
    "revenue": (str, 40),
    "country": (str, 100),
    "owner": (str, 255),
}


def normalise_company(item: CompanyInput, record: str) -> dict[str, Any]:
    """Validate a company's values (pure); raise a RecordError naming the field."""
    values: dict[str, Any] = {}
    for name, value in item.values.items():
        if name not in COMPANY_FIELDS:
            raise ValidationError("is not a company field", record=record, field=name)
        kind, length = COMPANY_FIELDS[name]
        if name == "revenue" and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise ValidationError(
                f"expected {kind.__name__}, got {value!r}", record=record, field=name
            )
        if name == "website_domain" and isinstance(value, str):
            value = normalise_domain(value)
        if isinstance(value, str) and length is not None and len(value) > length:
            raise ValidationError(f"is longer than {length} characters", record=record, field=name)
        values[name] = value
    return values


@dataclass(slots=True)
class _CompanyPlan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    changes: list[ChangeDraft] = field(default_factory=list)
    result: UpsertResult = field(default_factory=UpsertResult)


class CompanyStore(LinkStore):
    """Company operations of the SQL People store."""

    engine: AsyncEngine
    clock: Clock

    async def upsert_companies(
        self, inputs: Iterable[CompanyInput], *, origin: str, reject_invalid: bool = False
    ) -> UpsertResult:
        """Create or update companies in one transaction."""
        return await self._upsert_companies(list(inputs), origin, reject_invalid, None)

    async def apply_company_batch(
        self,
        inputs: list[CompanyInput],
        *,
        origin: str,
        links: Callable[[list[str | None]], Sequence[ExternalLink]],
        state: tuple[str, dict[str, Any]] | None = None,
        dry_run: bool = False,
        also: Callable[[AsyncConnection, UpsertResult], Awaitable[None]] | None = None,
    ) -> UpsertResult:
        """Upsert companies, then save their links, a sync-state value and what ``also``
        writes, in one transaction (invalid companies are rejected, the rest written);
        ``dry_run`` writes nothing."""

        async def after(conn: AsyncConnection, result: UpsertResult) -> None:
            await self._save_links(conn, links(result.ids))
            if state is not None:
                await self._set_state(conn, *state)
            if also is not None:
                await also(conn, result)

        return await self._upsert_companies(inputs, origin, True, after, dry_run=dry_run)

    async def _set_state(self, conn: AsyncConnection, key: str, value: dict[str, Any]) -> None:
        """Provided by the store that mixes this in."""
        raise NotImplementedError

    async def _upsert_companies(
        self,
        items: list[CompanyInput],
        origin: str,
        reject_invalid: bool,
        then: Callable[[AsyncConnection, UpsertResult], Awaitable[None]] | None,
        *,
        dry_run: bool = False,
    ) -> UpsertResult:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            ids = [i.id for i in items if i.id]
            domains = set()
            for i in items:
                raw = i.values.get("website_domain")
                if isinstance(raw, str) and (d := normalise_domain(raw)):
                    domains.add(d)
            # Locked in id order (PostgreSQL; SQLite has one writer anyway): batches of other
            # integrations touching the same companies wait for this one instead of crossing
            # it into a deadlock, then read what it wrote (no update lost, versions in turn).
            # FOR NO KEY UPDATE, as an UPDATE itself locks: persons being written with these
            # companies (their foreign key checks share the key) neither wait nor block.
            rows = await conn.execute(
                sa.select(t.companies)
                .where(sa.or_(t.companies.c.id.in_(ids), t.companies.c.website_domain.in_(domains)))
                .order_by(t.companies.c.id)
                .with_for_update(key_share=True)
            )
            current = {r.id: dict(r._mapping) for r in rows}
            by_domain = {
                r["website_domain"]: r["id"] for r in current.values() if r["website_domain"]
            }
            plan = _CompanyPlan()
            touched: dict[str, dict[str, Any] | None] = {}
            for index, item in enumerate(items):
                record = item.key or (f"company {item.id}" if item.id else f"#{index}")
                try:
                    values = normalise_company(item, record)
                    target = item.id or by_domain.get(values.get("website_domain") or "")
                    if item.id and item.id not in current:
                        raise NotFoundError("no company has this id", record=record, field="id")
                    if target is None:
                        target = new_id()
                        current[target] = {"id": target, "version": 0, "created_at": now}
                        touched[target] = None
                    elif target not in touched:
                        touched[target] = dict(current[target])
                    current[target].update(values)
                    if current[target].get("website_domain"):
                        by_domain[current[target]["website_domain"]] = target
                    plan.result.ids.append(target)
                except RecordError as error:
                    plan.result.rejected.append(error)
                    plan.result.ids.append(None)
            if plan.result.rejected and not reject_invalid:
                raise BatchValidationError(plan.result.rejected)
            for company_id, before in touched.items():
                after = current[company_id]
                changes = {
                    n: [before.get(n) if before else None, after.get(n)]
                    for n in COMPANY_FIELDS
                    if (before.get(n) if before else None) != after.get(n)
                }
                row = {n: after.get(n) for n in COMPANY_FIELDS}
                row.update(id=company_id, updated_at=now, created_at=after["created_at"])
                if before is None:
                    row["version"] = 1
                    plan.inserts.append(row)
                    plan.result.created.append(company_id)
                    plan.changes.append(ChangeDraft(company_id, "create", 1, changes))
                elif changes:
                    version = int(before["version"]) + 1
                    row["version"] = version
                    plan.updates.append(row)
                    plan.result.updated.append(company_id)
                    plan.changes.append(ChangeDraft(company_id, "update", version, changes))
                else:
                    plan.result.unchanged.append(company_id)
            if dry_run:
                return plan.result
            if plan.inserts:
                await conn.execute(t.companies.insert(), plan.inserts)
            for row in plan.updates:
                await conn.execute(
                    t.companies.update().where(t.companies.c.id == row["id"]).values(**row)
                )
            await ChangeWriter(conn, now, origin).write(plan.changes, "company")
            if then is not None:
                await then(conn, plan.result)
        return plan.result

    async def count_companies(self) -> int:
        """How many companies the store holds."""
        async with self.engine.connect() as conn:
            total = await conn.scalar(sa.select(sa.func.count()).select_from(t.companies))
        return int(total or 0)

    async def get_companies(self, ids: Sequence[str]) -> dict[str, Company]:
        """Companies by id."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(t.companies).where(t.companies.c.id.in_(list(ids))))
            return {r.id: Company(**r._mapping) for r in rows}

    async def delete_companies(self, ids: Sequence[str], *, origin: str) -> list[str]:
        """Delete companies and their links in one transaction; their persons stay, without a
        company. The change log keeps a snapshot with the links (for the outbound step)."""
        async with self.engine.begin() as conn:
            rows = await conn.execute(sa.select(t.companies).where(t.companies.c.id.in_(list(ids))))
            found = {r.id: dict(r._mapping) for r in rows}
            if not found:
                return []
            links = await self._links_of(conn, "company", list(found))
            await conn.execute(
                t.persons.update()
                .where(t.persons.c.company_id.in_(list(found)))
                .values(company_id=None)
            )
            await conn.execute(
                t.external_links.delete().where(
                    t.external_links.c.entity_type == "company",
                    t.external_links.c.entity_id.in_(list(found)),
                )
            )
            await conn.execute(t.companies.delete().where(t.companies.c.id.in_(list(found))))
            writer = ChangeWriter(conn, self.clock.now(), origin)
            for company_id, row in found.items():
                snapshot: dict[str, Any] = {
                    n: [row.get(n), None] for n in COMPANY_FIELDS if row.get(n) is not None
                }
                snapshot["links"] = [
                    [x.system, x.object, x.external_id] for x in links.get(company_id, [])
                ]
                await writer.write_one(
                    "company", company_id, "delete", int(row["version"]) + 1, snapshot
                )
        return list(found)

    async def find_companies_by_domains(self, domains: Iterable[str]) -> dict[str, str]:
        """Company ids by normalised website domain."""
        wanted = {d for d in (normalise_domain(x) for x in domains) if d}
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(t.companies.c.website_domain, t.companies.c.id).where(
                    t.companies.c.website_domain.in_(wanted)
                )
            )
            return {r.website_domain: r.id for r in rows}
