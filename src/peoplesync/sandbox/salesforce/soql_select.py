"""The field list of a (non-aggregate) SOQL query: fields, compound fields, FIELDS(),
polymorphic lookups, TYPEOF and child sub-queries, as SQL and as result outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from peoplesync.sandbox.salesforce.soql import (
    Aggregate,
    Count,
    FieldsFunction,
    Path,
    SelectItem,
    SoqlError,
    SubQuery,
    TypeOf,
)
from peoplesync.sandbox.salesforce.soql_paths import QueryCompiler, Resolved
from peoplesync.sandbox.salesforce.soql_result import CompiledQuery, Hop, Output, part_key

FIELDS_LIMIT = 200
BULK_COMPOUND = "Selecting compound data not supported in Bulk Query"
# Child sub-queries ("aggregate relationships") by Bulk API and content type; Bulk API 1.0
# answers them in JSON and XML.
BULK_CHILD = {
    "bulk1-csv": "Aggregate Relationships not supported in Bulk Query with CSV content type",
    "bulk2": "Aggregate Relationships not supported in Bulk V2 Query with CSV content type.",
}


@dataclass
class Selection:
    """Selected SQL expressions and the outputs that read them, built item by item."""

    compiler: QueryCompiler
    bulk: str | None  # None (REST), "bulk1-csv", "bulk1-json" or "bulk2"
    include_deleted: bool
    selected: list[str] = field(default_factory=list)
    pending: list[tuple[tuple[str, ...], Callable[[tuple[Hop, ...]], Output]]] = field(
        default_factory=list
    )
    seen: set[str] = field(default_factory=set)

    def add(self, expr: str) -> int:
        self.selected.append(expr)
        return len(self.selected) - 1

    def item(self, item: SelectItem) -> None:
        if isinstance(item, FieldsFunction):
            for path in self.expand(item):
                self.path(path)
        elif isinstance(item, Path):
            self.path(item)
        elif isinstance(item, SubQuery):
            self.child(item)
        elif isinstance(item, TypeOf):
            self.typeof(item)
        else:
            raise SoqlError("MALFORMED_QUERY", f"{item} cannot be combined with other fields")

    def expand(self, item: FieldsFunction) -> list[Path]:
        query = self.compiler.query
        if item.kind != "STANDARD":
            if self.bulk:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    "The SOQL FIELDS function is not supported with an unbounded set of "
                    "fields in this API.",
                )
            if query.limit is None or query.limit > FIELDS_LIMIT:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"The SOQL FIELDS function must have a LIMIT of at most {FIELDS_LIMIT}",
                )
        return [
            Path((meta.name,))
            for meta in self.compiler.schema.fields(self.compiler.sobject)
            if (item.kind == "ALL" or meta.custom == (item.kind == "CUSTOM"))
            and not (self.bulk and meta.type in ("address", "location"))
        ]

    def path(self, path: Path) -> None:
        if path.alias is not None:
            raise SoqlError("MALFORMED_QUERY", "Only aggregate expressions use field aliasing")
        resolved = self.compiler.resolve(path, compound=True)
        header = ".".join([*resolved.names, resolved.meta.name])
        if header.lower() in self.seen:
            return
        self.seen.add(header.lower())
        shown = "Name" if self._polymorphic(resolved.names) else None
        key = resolved.meta.name
        if resolved.meta.type in ("address", "location"):
            self.compound(resolved, header, key, shown)
            return
        index = self.add(resolved.expr)
        kind = resolved.meta.type
        self.pending.append(
            (
                resolved.names,
                lambda hops: Output(key, kind, index, self._shown(hops, shown), header),
            )
        )

    def compound(
        self,
        resolved: Resolved,
        header: str,
        key: str,
        shown: str | None,
        when: tuple[frozenset[str], bool] | None = None,
    ) -> None:
        if self.bulk:
            raise SoqlError("FUNCTIONALITY_NOT_ENABLED", BULK_COMPOUND)
        name = resolved.meta.name
        parts = tuple(
            (part_key(meta.name), meta.type, self.add(f'{resolved.table}."{meta.name}"'))
            for meta in self.compiler.schema.fields(resolved.sobject)
            if meta.compound_name == name and meta.type not in ("address", "location")
        )
        ordered = tuple(sorted(parts))
        kind = resolved.meta.type
        self.pending.append(
            (
                resolved.names,
                lambda hops: Output(
                    key, kind, -1, self._shown(hops, shown), header, parts=ordered, when=when
                ),
            )
        )

    def _polymorphic(self, names: tuple[str, ...]) -> bool:
        key = tuple(n.lower() for n in names)
        return bool(key) and self.compiler.hops[key].sobject is None

    @staticmethod
    def _shown(hops: tuple[Hop, ...], shown: str | None) -> tuple[Hop, ...]:
        if shown is None or not hops:
            return hops
        last = hops[-1]
        return (*hops[:-1], Hop(last.name, last.id_index, None, last.type_index, shown))

    def typeof(self, item: TypeOf) -> None:
        compiler = self.compiler
        meta = compiler.schema.relationship(compiler.sobject, item.relationship)
        if meta is None or len(meta.reference_to) < 2:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"TYPEOF needs a polymorphic relationship; '{item.relationship}' is not one",
            )
        names = (meta.relationship_name or item.relationship,)
        hop = compiler.hop(names, compiler.root, meta)
        tables = {sobject.lower(): (sobject, alias) for sobject, alias in hop.tables}
        listed = {t.lower() for t in meta.reference_to}
        types: set[str] = set()
        for sobject, paths in item.branches:
            if sobject.lower() not in listed:
                raise SoqlError(
                    "INVALID_TYPE",
                    f"TYPEOF {names[0]}: '{sobject}' is not one of its types "
                    f"({', '.join(meta.reference_to)})",
                )
            if sobject.lower() not in tables:
                continue  # a type the org does not store (such as Group): no row has it
            canonical, alias = tables[sobject.lower()]
            types.add(canonical)
            for path in paths:
                found = compiler.schema.field(canonical, path.parts[-1])
                if found is None or len(path.parts) > 1:
                    raise SoqlError(
                        "INVALID_FIELD",
                        f"No such column '{path}' on entity '{canonical}'",
                    )
                expr = f'{alias}."{found.name}"'
                if found.type in ("address", "location"):
                    typed = Resolved(expr, found, names, alias, canonical)
                    header = f"{names[0]}.{found.name}"
                    self.compound(typed, header, found.name, None, (frozenset({canonical}), True))
                else:
                    self._typed(names, found.name, found.type, expr, {canonical})
        for path in item.otherwise:
            resolved = compiler.name_field(hop, path.parts[-1], names)
            self._typed(names, resolved.meta.name, resolved.meta.type, resolved.expr, types, False)

    def _typed(
        self,
        names: tuple[str, ...],
        key: str,
        kind: str,
        expr: str,
        types: set[str],
        listed: bool = True,
    ) -> None:
        index = self.add(expr)
        when = (frozenset(types), listed)
        header = f"{names[0]}.{key}"
        self.pending.append((names, lambda hops: Output(key, kind, index, hops, header, when=when)))

    def child(self, item: SubQuery) -> None:
        if self.bulk in BULK_CHILD:
            raise SoqlError("FeatureNotEnabled", BULK_CHILD[self.bulk])
        parent = self.compiler
        if parent.depth > 0:
            raise SoqlError("MALFORMED_QUERY", "Nesting of sub-queries is limited to one level")
        found = parent.schema.child_relationship(parent.sobject, item.query.sobject)
        if found is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"Didn't understand relationship '{item.query.sobject}' in FROM part of query "
                "call. If you are attempting to use a custom relationship, be sure to append "
                "the '__r' after the custom relationship name. Please reference your WSDL or "
                "the describe call for the appropriate names.",
            )
        key, sobject, reference = found
        inner = parent.nested(item.query, sobject)
        link = f'{inner.root}."{reference}" = {parent.root}."Id"'
        child = select(inner, bulk=self.bulk, include_deleted=self.include_deleted, link=link)
        columns = ", ".join(f"c{i}" for i in range(child.width))
        index = self.add(f"(SELECT json_group_array(json_array({columns})) FROM ({child.sql}))")
        parent.params.extend(child.compiled.params)
        self.pending.append(
            ((), lambda hops: Output(key, "subquery", index, hops, key, child=child.compiled))
        )

    def outputs(self) -> list[Output]:
        """Every pending output, with the Id (and type) of each parent it reads through."""
        indices: dict[tuple[str, ...], Hop] = {}
        made = []
        for names, make in self.pending:
            hops = []
            for depth in range(len(names)):
                key = tuple(n.lower() for n in names[: depth + 1])
                if key not in indices:
                    sql = self.compiler.hops[key]
                    type_index = self.add(sql.type_expr) if sql.type_expr else None
                    indices[key] = Hop(
                        names[depth], self.add(sql.id_expr), sql.sobject, type_index, sql.sobject
                    )
                hops.append(indices[key])
            made.append(make(tuple(hops)))
        return made


@dataclass(frozen=True)
class Built:
    """A compiled SELECT: its SQL (columns named c0, c1...), and how many columns."""

    sql: str
    compiled: CompiledQuery
    width: int


def order_sql(compiler: QueryCompiler) -> list[str]:
    """ORDER BY keys of a non-aggregate query."""
    keys = []
    for item in compiler.query.order:
        if isinstance(item.path, Aggregate):
            raise SoqlError(
                "MALFORMED_QUERY", f"{item.path} can only be ordered by in an aggregate query"
            )
        resolved = compiler.resolve(item.path)
        keys.append(compiler.order_key(resolved.expr, resolved.meta, item))
    return keys


def select(
    compiler: QueryCompiler, *, bulk: str | None, include_deleted: bool, link: str | None = None
) -> Built:
    """Compile a query that returns records (not COUNT() nor aggregates).

    ``link`` ties a child sub-query to its parent row."""
    query = compiler.query
    selection = Selection(compiler, bulk, include_deleted)
    selection.add(f'{compiler.root}."Id"')
    for item in query.select:
        if isinstance(item, Count | Aggregate):
            raise SoqlError("MALFORMED_QUERY", "COUNT() cannot be combined with other fields")
        selection.item(item)
    outputs = selection.outputs()
    where = compiler.where_sql(include_deleted=include_deleted)
    if link is not None:
        where = f"{where} AND {link}" if where else f"WHERE {link}"
    order = order_sql(compiler)
    named = ", ".join(f"{expr} AS c{i}" for i, expr in enumerate(selection.selected))
    sql = f'SELECT {named} FROM "{compiler.sobject}" AS {compiler.root} '
    sql += " ".join(compiler.joins) + f" {where}"
    if order:
        sql += " ORDER BY " + ", ".join(order)
    if query.limit is not None or query.offset is not None:
        sql += f" LIMIT {query.limit if query.limit is not None else -1}"
        if query.offset:
            sql += f" OFFSET {query.offset}"
    compiled = CompiledQuery(
        sobject=compiler.sobject,
        sql=" ".join(sql.split()),
        params=tuple(compiler.params),
        is_count=False,
        columns=tuple(o.header for o in outputs),
        limit=query.limit,
        offset=query.offset,
        outputs=tuple(outputs),
    )
    return Built(compiled.sql, compiled, len(selection.selected))
