"""SOQL field paths to SQL: parent joins, polymorphic lookups read as the "Name" object,
and the errors Salesforce gives for unknown fields and relationships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from peoplesync.sandbox.salesforce.soql import (
    Aggregate,
    FieldMeta,
    OrderItem,
    Path,
    Query,
    SchemaLookup,
    SoqlError,
    SyntheticField,
)


class AggregateExpressions(Protocol):
    """Turns an aggregate call into SQL (set on a compiler for aggregate queries)."""

    def expression(self, call: Aggregate) -> tuple[str, FieldMeta]: ...


COMPOUND_TYPES = frozenset({"address", "location"})
# The fields of the "Name" object: what a polymorphic lookup (What, Who, Owner) can read
# without TYPEOF; anything else is "No such column ... on entity 'Name'".
NAME_FIELDS = {
    n.lower(): n
    for n in (
        "Id",
        "Name",
        "Type",
        "Alias",
        "Email",
        "FirstName",
        "LastName",
        "IsActive",
        "Title",
        "Phone",
        "Username",
        "ProfileId",
        "UserRoleId",
        "RecordTypeId",
        "CommunityNickname",
        "LastReferencedDate",
        "LastViewedDate",
    )
}


def _no_column(name: str, sobject: str) -> SoqlError:
    return SoqlError(
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )


@dataclass(frozen=True, slots=True)
class Resolved:
    """A field path resolved: its SQL expression, metadata, and where it was found."""

    expr: str
    meta: FieldMeta
    names: tuple[str, ...]  # canonical relationship names from the root
    table: str
    sobject: str


@dataclass(frozen=True, slots=True)
class HopSql:
    """A joined parent: the SQL giving its Id (and its type, when polymorphic)."""

    name: str
    id_expr: str
    sobject: str | None
    type_expr: str | None
    tables: tuple[tuple[str, str], ...]  # (sObject, alias) joined for this hop


def _relationship_error(relationship: str) -> SoqlError:
    return SoqlError(
        "INVALID_FIELD",
        f"Didn't understand relationship '{relationship}' in field path. If you "
        "are attempting to use a custom relationship, be sure to append the '__r' "
        "after the custom relationship name. Please reference your WSDL or the "
        "describe call for the appropriate names.",
    )


class FieldPaths:
    """Resolves field paths to SQL columns, joining parents (every target of a polymorphic
    lookup) once per relationship path."""

    def __init__(
        self,
        schema: SchemaLookup,
        query: Query,
        now: datetime,
        depth: int = 0,
        sobject: str | None = None,
    ) -> None:
        self.schema = schema
        self.query = query
        self.now = now
        self.prefix = "t" if depth == 0 else f"s{depth}_"
        self.depth = depth
        sobject = sobject or schema.canonical_sobject(query.sobject)
        if sobject is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        self.sobject = sobject
        self.root = f"{self.prefix}0"
        self.joins: list[str] = []
        self.hops: dict[tuple[str, ...], HopSql] = {}  # lower-case relationship names -> hop
        self.params: list[object] = []
        self.aggregates: AggregateExpressions | None = None  # aggregate queries (HAVING)

    def strip(self, path: Path) -> list[str]:
        """The path's names without a leading object name or alias."""
        parts = list(path.parts)
        alias = self.query.alias
        if (len(parts) > 1 and alias and parts[0].lower() == alias.lower()) or (
            len(parts) > 1
            and parts[0].lower() == self.sobject.lower()
            and not self.schema.relationship(self.sobject, parts[0])
        ):
            parts = parts[1:]
        return parts

    def hop(self, names: tuple[str, ...], table: str, meta: FieldMeta) -> HopSql:
        """Join the parent behind lookup ``meta`` (every stored target when polymorphic)."""
        key = tuple(n.lower() for n in names)
        if key in self.hops:
            return self.hops[key]
        targets = [
            c for t in meta.reference_to if (c := self.schema.canonical_sobject(t)) is not None
        ]
        tables = []
        for target in targets:
            alias_name = f"{self.prefix}{len(self.joins) + 1}"
            self.joins.append(
                f'LEFT JOIN "{target}" AS {alias_name} ON {alias_name}."Id" = {table}."{meta.name}"'
            )
            tables.append((target, alias_name))
        if len(meta.reference_to) > 1:
            ids = [f'{a}."Id"' for _, a in tables]
            id_expr = ids[0] if len(ids) == 1 else f"COALESCE({', '.join(ids)})"
            cases = " ".join(f"WHEN {a}.\"Id\" IS NOT NULL THEN '{t}'" for t, a in tables)
            made = HopSql(names[-1], id_expr, None, f"CASE {cases} END", tuple(tables))
        else:
            made = HopSql(names[-1], f'{tables[0][1]}."Id"', targets[0], None, tuple(tables))
        self.hops[key] = made
        return made

    def resolve(self, path: Path, *, compound: bool = False) -> Resolved:
        """A field path as SQL; compound fields only where ``compound`` allows them."""
        parts = self.strip(path)
        current, table = self.sobject, self.root
        names: list[str] = []
        polymorphic: HopSql | None = None
        for relationship in parts[:-1]:
            meta = self.schema.relationship(current, relationship) if not polymorphic else None
            if meta is None or not any(self.schema.canonical_sobject(t) for t in meta.reference_to):
                raise _relationship_error(relationship)
            names.append(meta.relationship_name or relationship)
            hop = self.hop(tuple(names), table, meta)
            if hop.sobject is None:
                polymorphic = hop
            else:
                table, current = hop.tables[0][1], hop.sobject
        if polymorphic is not None:
            return self.name_field(polymorphic, parts[-1], tuple(names))
        meta = self.schema.field(current, parts[-1])
        if meta is None:
            raise _no_column(parts[-1], current)
        if meta.type in COMPOUND_TYPES and not compound:
            kind = "Address" if meta.type == "address" else "Location"
            raise SoqlError(
                "INVALID_FIELD",
                f"{kind} fields can only be filtered using Distance expressions "
                f"('{meta.name}'); filter on its components (such as its City or "
                "PostalCode field) instead",
            )
        return Resolved(f'{table}."{meta.name}"', meta, tuple(names), table, current)

    def name_field(self, hop: HopSql, name: str, names: tuple[str, ...]) -> Resolved:
        """A "Name" object field through a polymorphic lookup, from whichever target it is."""
        canonical = NAME_FIELDS.get(name.lower())
        if canonical is None:
            raise _no_column(name, "Name")
        if canonical == "Type":
            return Resolved(
                hop.type_expr or "NULL", SyntheticField("Type", "string"), names, "", ""
            )
        if canonical == "Id":
            return Resolved(hop.id_expr, SyntheticField("Id", "id"), names, "", "")
        found = [
            (alias, meta)
            for target, alias in hop.tables
            if (meta := self.schema.field(target, canonical)) is not None
        ]
        if not found:
            return Resolved("NULL", SyntheticField(canonical, "string"), names, "", "")
        exprs = [f'{alias}."{meta.name}"' for alias, meta in found]
        expr = exprs[0] if len(exprs) == 1 else f"COALESCE({', '.join(exprs)})"
        return Resolved(expr, found[0][1], names, "", "")

    # --- WHERE -------------------------------------------------------------------------


class QueryCompiler(Protocol):
    """What the SELECT-list and aggregate builders need of the compiler: its paths and state,
    and its conditions, ORDER BY keys and WHERE clause."""

    schema: SchemaLookup
    query: Query
    sobject: str
    root: str
    joins: list[str]
    hops: dict[tuple[str, ...], HopSql]
    params: list[object]
    aggregates: AggregateExpressions | None
    depth: int

    def nested(self, query: Query, sobject: str) -> QueryCompiler:
        """A compiler for a child sub-query of this one (one level deeper)."""
        ...

    def hop(self, names: tuple[str, ...], table: str, meta: FieldMeta) -> HopSql: ...

    def resolve(self, path: Path, *, compound: bool = False) -> Resolved: ...

    def name_field(self, hop: HopSql, name: str, names: tuple[str, ...]) -> Resolved: ...

    def condition(self, node: Any) -> str: ...

    def order_key(self, expr: str, meta: FieldMeta, item: OrderItem) -> str: ...

    def where_sql(self, *, include_deleted: bool) -> str: ...
