"""SOQL to SQLite: one statement with bound parameters, joins for relationship fields.

Storage conventions: one table per sObject named by its API name, one column per field;
datetimes are fixed-width UTC text (``2024-05-01T12:00:00.000Z``) so that comparing text
compares time and indexes stay usable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.soql import (
    BoolOp,
    Compare,
    Count,
    FieldMeta,
    InQuery,
    Literal,
    Not,
    Path,
    Query,
    SchemaLookup,
    SoqlError,
    parse,
    unescape,
)
from peoplesync.sandbox.salesforce.soql_dates import FIXED, WITH_N, date_range

TEXT_TYPES = frozenset(
    {
        "string",
        "textarea",
        "picklist",
        "multipicklist",
        "email",
        "phone",
        "url",
        "combobox",
        "encryptedstring",
    }
)
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
MAX_OFFSET = 2000


def storage_datetime(moment: datetime) -> str:
    """A datetime in the storage layout (UTC, milliseconds, ``Z``)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _criterion(meta: FieldMeta, kind: str, *, quoted: bool) -> SoqlError:
    should = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return SoqlError(
        "INVALID_FIELD",
        f"value of filter criterion for field '{meta.name}' must be of type {kind} and {should}",
    )


def _no_column(name: str, sobject: str) -> SoqlError:
    return SoqlError(
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )


@dataclass(frozen=True, slots=True)
class _Column:
    path: str
    meta: FieldMeta
    chain: tuple[tuple[str, str], ...]  # (relationship name, sObject) from the root
    index: int


@dataclass(frozen=True)
class CompiledQuery:
    """A query ready to run in SQLite, and how to shape its rows."""

    sobject: str
    sql: str
    params: tuple[object, ...]
    is_count: bool
    columns: tuple[str, ...]
    limit: int | None
    offset: int | None
    _outputs: tuple[_Column, ...] = ()
    _relations: dict[tuple[str, ...], int] = field(default_factory=dict)  # chain -> Id index

    def to_record(self, row: Sequence[object], api_version: str) -> dict[str, object]:
        """A row as Salesforce returns it in a query result."""
        base = f"/services/data/v{api_version}/sobjects"
        record: dict[str, Any] = {
            "attributes": {"type": self.sobject, "url": f"{base}/{self.sobject}/{row[0]}"}
        }
        for column in self._outputs:
            target = record
            alive = True
            for depth, (relationship, sobject) in enumerate(column.chain):
                key = tuple(r for r, _ in column.chain[: depth + 1])
                related_id = row[self._relations[key]]
                if related_id is None:
                    target[relationship] = None
                    alive = False
                    break
                if not isinstance(target.get(relationship), dict):
                    target[relationship] = {
                        "attributes": {"type": sobject, "url": f"{base}/{sobject}/{related_id}"}
                    }
                target = target[relationship]
            if alive:
                target[column.meta.name] = json_value(column.meta.type, row[column.index])
        return record

    def to_csv_row(self, row: Sequence[object]) -> list[str]:
        """A row as Bulk API CSV values in ``columns`` order."""
        return [csv_value(c.meta.type, row[c.index]) for c in self._outputs]


# Types whose stored values differ from their REST JSON (see ``json_value``); the others
# are sent as stored.
JSON_CONVERTED = frozenset({"boolean", "datetime", *NUMBER_TYPES})


def json_value(kind: str, stored: object) -> object:
    """A stored value as REST JSON."""
    if stored is None:
        return None
    if kind == "boolean":
        return bool(stored)
    if kind == "int":
        return int(stored)  # type: ignore[call-overload]
    if kind in NUMBER_TYPES:
        return float(stored)  # type: ignore[arg-type]
    if kind == "datetime":
        return str(stored)[:-1] + "+0000"
    return stored


def csv_value(kind: str, stored: object) -> str:
    """A stored value as Bulk API CSV text."""
    if stored is None:
        return ""
    if kind == "boolean":
        return "true" if stored else "false"
    if kind in NUMBER_TYPES and kind != "int":
        number = float(stored)  # type: ignore[arg-type]
        return str(int(number)) if number.is_integer() else repr(number)
    return str(stored)


class _Compiler:
    def __init__(self, schema: SchemaLookup, query: Query, now: datetime, depth: int = 0) -> None:
        self.schema = schema
        self.query = query
        self.now = now
        self.prefix = "t" if depth == 0 else f"s{depth}_"
        self.depth = depth
        sobject = schema.canonical_sobject(query.sobject)
        if sobject is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        self.sobject = sobject
        self.root = f"{self.prefix}0"
        self.joins: dict[
            tuple[str, ...], tuple[str, str, str]
        ] = {}  # chain -> (alias, sobject, sql)
        self.params: list[object] = []

    def resolve(self, path: Path) -> tuple[str, FieldMeta, tuple[tuple[str, str], ...]]:
        parts = list(path.parts)
        alias = self.query.alias
        if (len(parts) > 1 and alias and parts[0].lower() == alias.lower()) or (
            len(parts) > 1
            and parts[0].lower() == self.sobject.lower()
            and not self.schema.relationship(self.sobject, parts[0])
        ):
            parts = parts[1:]
        current, table = self.sobject, self.root
        chain: list[tuple[str, str]] = []
        for relationship in parts[:-1]:
            meta = self.schema.relationship(current, relationship)
            targets = [
                t for t in (meta.reference_to if meta else ()) if self.schema.canonical_sobject(t)
            ]
            if meta is None or not targets:
                raise SoqlError(
                    "INVALID_FIELD",
                    f"Didn't understand relationship '{relationship}' in field path. If you "
                    "are attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name. Please reference your WSDL or the "
                    "describe call for the appropriate names.",
                )
            target = self.schema.canonical_sobject(targets[0]) or targets[0]
            chain.append((meta.relationship_name or relationship, target))
            key = tuple(r.lower() for r, _ in chain)
            if key not in self.joins:
                alias_name = f"{self.prefix}{len(self.joins) + 1}"
                on = f'{alias_name}."Id" = {table}."{meta.name}"'
                self.joins[key] = (
                    alias_name,
                    target,
                    f'LEFT JOIN "{target}" AS {alias_name} ON {on}',
                )
            table, current = self.joins[key][0], target
        meta = self.schema.field(current, parts[-1])
        if meta is None:
            raise _no_column(parts[-1], current)
        if meta.type in ("address", "location"):
            raise SoqlError(
                "INVALID_FIELD",
                f"compound field '{meta.name}' cannot be used here; select its components",
            )
        return f'{table}."{meta.name}"', meta, tuple(chain)

    # --- WHERE -------------------------------------------------------------------------

    def condition(self, node: Any) -> str:
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.condition(i) for i in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.condition(node.item)})"
        if isinstance(node, InQuery):
            return self.semi_join(node)
        assert isinstance(node, Compare)
        column, meta, _ = self.resolve(node.path)
        if not meta.filterable:
            raise SoqlError(
                "INVALID_FIELD", f"field '{meta.name}' can not be filtered in a query call"
            )
        if node.op == "LIKE":
            if meta.type not in TEXT_TYPES | ID_TYPES:
                raise SoqlError("INVALID_FIELD", f"invalid operator on {meta.type} field: LIKE")
            self.params.append(unescape(node.values[0].value, keep_like=True))
            return f"{column} LIKE ? ESCAPE '\\'"
        if node.op in ("INCLUDES", "EXCLUDES"):
            return self.includes(column, meta, node)
        if node.op in ("IN", "NOT IN"):
            return self.in_list(column, meta, node)
        return self.compare(column, meta, node.op, node.values[0])

    def value(self, meta: FieldMeta, literal: Literal) -> object:
        kind = meta.type
        if literal.kind == "word" and literal.value == "NULL":
            return None
        if kind in TEXT_TYPES | ID_TYPES:
            if literal.kind != "string":
                raise _criterion(meta, "string", quoted=True)
            text = unescape(literal.value, keep_like=False)
            if kind in ID_TYPES and len(text) == 15 and is_valid_id(text):
                return to18(text)
            return text
        if kind == "boolean":
            if literal.kind != "word" or literal.value not in ("TRUE", "FALSE"):
                raise _criterion(meta, "boolean", quoted=False)
            return 1 if literal.value == "TRUE" else 0
        if kind in NUMBER_TYPES:
            if literal.kind != "number":
                raise _criterion(meta, "integer" if kind == "int" else "double", quoted=False)
            return literal.value
        if kind == "date":
            if literal.kind != "date":
                raise _criterion(meta, "date", quoted=False)
            return literal.value
        if kind == "datetime":
            if literal.kind != "datetime":
                raise _criterion(meta, "dateTime", quoted=False)
            return storage_datetime(datetime.fromisoformat(literal.value.replace("Z", "+00:00")))
        raise SoqlError("INVALID_FIELD", f"field '{meta.name}' of type {kind} cannot be filtered")

    def _is_constant(self, literal: Literal) -> bool:
        return (literal.kind == "word" and literal.value in FIXED) or (
            literal.kind == "date_n" and literal.value in WITH_N
        )

    def compare(self, column: str, meta: FieldMeta, op: str, literal: Literal) -> str:
        if self._is_constant(literal):
            return self.date_constant(column, meta, op, literal)
        value = self.value(meta, literal)
        if value is None:
            if op == "=":
                return f"{column} IS NULL"
            if op == "!=":
                return f"{column} IS NOT NULL"
            raise SoqlError(
                "MALFORMED_QUERY", f"null can only be compared with = or != ({meta.name})"
            )
        collate = " COLLATE NOCASE" if meta.type in TEXT_TYPES else ""
        self.params.append(value)
        if op == "!=":
            return f"({column} IS NULL OR {column} != ?{collate})"
        return f"{column} {op} ?{collate}"

    def date_constant(self, column: str, meta: FieldMeta, op: str, literal: Literal) -> str:
        if meta.type not in ("date", "datetime"):
            raise SoqlError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{meta.name}' must be of type {meta.type}",
            )
        start, end = date_range(str(literal.value), literal.n, self.now)
        low, high = self._bounds(meta, start, end)
        if op == "=":
            self.params += [low, high]
            return f"({column} >= ? AND {column} < ?)"
        if op == "!=":
            self.params += [low, high]
            return f"({column} IS NULL OR {column} < ? OR {column} >= ?)"
        bound = {">": high, ">=": low, "<": low, "<=": high}[op]
        self.params.append(bound)
        return f"{column} {'>=' if op in ('>', '>=') else '<'} ?"

    @staticmethod
    def _bounds(meta: FieldMeta, start: date, end: date) -> tuple[str, str]:
        if meta.type == "date":
            return start.isoformat(), end.isoformat()
        low = datetime(start.year, start.month, start.day, tzinfo=UTC)
        high = datetime(end.year, end.month, end.day, tzinfo=UTC)
        return storage_datetime(low), storage_datetime(high)

    def in_list(self, column: str, meta: FieldMeta, node: Compare) -> str:
        values = [self.value(meta, v) for v in node.values]
        present = [v for v in values if v is not None]
        collate = " COLLATE NOCASE" if meta.type in TEXT_TYPES else ""
        parts = []
        if present:
            self.params += present
            parts.append(f"{column}{collate} IN ({', '.join('?' for _ in present)})")
        has_null = len(present) < len(values)
        if node.op == "IN":
            if has_null:
                parts.append(f"{column} IS NULL")
            return "(" + " OR ".join(parts) + ")"
        negated = f"NOT ({parts[0]})" if present else "1"
        null_rule = f"{column} IS NOT NULL" if has_null else f"{column} IS NULL"
        return (
            f"({negated} AND {column} IS NOT NULL)" if has_null else f"({null_rule} OR {negated})"
        )

    def includes(self, column: str, meta: FieldMeta, node: Compare) -> str:
        if meta.type != "multipicklist":
            raise SoqlError(
                "INVALID_FIELD",
                f"includes or excludes operator only valid on multipicklist field: {meta.name}",
            )
        alternatives = []
        for literal in node.values:
            text = str(self.value(meta, literal))
            required = [part.strip() for part in text.split(";") if part.strip()]
            checks = []
            for part in required:
                self.params.append(f"%;{part};%")
                checks.append(f"(';' || {column} || ';') LIKE ?")
            alternatives.append("(" + " AND ".join(checks) + ")")
        matched = "(" + " OR ".join(alternatives) + ")"
        return matched if node.op == "INCLUDES" else f"({column} IS NULL OR NOT {matched})"

    def semi_join(self, node: InQuery) -> str:
        column, _, _ = self.resolve(node.path)
        inner = _Compiler(self.schema, node.query, self.now, self.depth + 1)
        if len(node.query.select) != 1 or not isinstance(node.query.select[0], Path):
            raise SoqlError("MALFORMED_QUERY", "a semi-join selects exactly one field")
        inner_column, _, _ = inner.resolve(node.query.select[0])
        where = inner.where_sql(include_deleted=False)
        joins = " ".join(sql for _, _, sql in inner.joins.values())
        self.params += inner.params
        sub = f'SELECT {inner_column} FROM "{inner.sobject}" AS {inner.root} {joins} {where}'
        return f"({column} {'NOT IN' if node.negated else 'IN'} ({sub}))"

    def where_sql(self, *, include_deleted: bool) -> str:
        clauses = [] if include_deleted else [f'{self.root}."IsDeleted" = 0']
        if self.query.where is not None:
            clauses.append(self.condition(self.query.where))
        return ("WHERE " + " AND ".join(clauses)) if clauses else ""


def compile_soql(
    text: str, schema: SchemaLookup, *, include_deleted: bool, now: datetime
) -> CompiledQuery:
    """Compile one SOQL statement for SQLite (see the module docstring for storage)."""
    query = parse(text)
    compiler = _Compiler(schema, query, now)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError(
            "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    counts = [item for item in query.select if isinstance(item, Count)]
    if counts and len(query.select) > 1:
        raise SoqlError("MALFORMED_QUERY", "COUNT() cannot be combined with other fields")
    selected: list[str] = [f'{compiler.root}."Id"']
    outputs: list[_Column] = []
    seen: set[str] = set()
    if counts:
        count = counts[0]
        expr = "*" if count.path is None else compiler.resolve(count.path)[0]
        selected = [f"COUNT({expr})"]
    else:
        for selected_item in query.select:
            assert isinstance(selected_item, Path)
            expression, meta, chain = compiler.resolve(selected_item)
            path = ".".join([*(r for r, _ in chain), meta.name])
            if path.lower() in seen:
                continue
            seen.add(path.lower())
            selected.append(expression)
            outputs.append(_Column(path, meta, chain, len(selected) - 1))
    where = compiler.where_sql(include_deleted=include_deleted)
    order_sql = []
    for item in query.order:
        column, meta, _ = compiler.resolve(item.path)
        if not meta.sortable:
            raise SoqlError(
                "INVALID_FIELD", f"field '{meta.name}' can not be sorted in a query call"
            )
        collate = " COLLATE NOCASE" if meta.type in TEXT_TYPES else ""
        nulls = f" NULLS {item.nulls.upper()}" if item.nulls else ""
        order_sql.append(f"{column}{collate} {'DESC' if item.descending else 'ASC'}{nulls}")
    relations: dict[tuple[str, ...], int] = {}
    if not counts:
        for key, (alias, _, _) in compiler.joins.items():
            selected.append(f'{alias}."Id"')
            relations[key] = len(selected) - 1
    joins = " ".join(sql for _, _, sql in compiler.joins.values())
    sql = (
        f'SELECT {", ".join(selected)} FROM "{compiler.sobject}" AS {compiler.root} {joins} {where}'
    )
    if order_sql and not counts:
        sql += " ORDER BY " + ", ".join(order_sql)
    if not counts and (query.limit is not None or query.offset is not None):
        sql += f" LIMIT {query.limit if query.limit is not None else -1}"
        if query.offset:
            sql += f" OFFSET {query.offset}"
    # to_record looks chains up by canonical relationship names.
    canonical: dict[tuple[str, ...], int] = {}
    for output in outputs:
        for depth in range(len(output.chain)):
            names = tuple(r for r, _ in output.chain[: depth + 1])
            canonical[names] = relations[tuple(n.lower() for n in names)]
    return CompiledQuery(
        sobject=compiler.sobject,
        sql=" ".join(sql.split()),
        params=tuple(compiler.params),
        is_count=bool(counts),
        columns=tuple(c.path for c in outputs),
        limit=query.limit,
        offset=query.offset,
        _outputs=tuple(outputs),
        _relations=canonical,
    )


__all__ = ["CompiledQuery", "SoqlError", "compile_soql", "json_value", "storage_datetime"]
