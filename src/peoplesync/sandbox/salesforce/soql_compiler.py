"""SOQL to SQLite: one statement with bound parameters, joins for relationship fields.

Storage conventions: one table per sObject named by its API name, one column per field;
datetimes are fixed-width UTC text (``2024-05-01T12:00:00.000Z``) so that comparing text
compares time and indexes stay usable.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.soql import (
    Aggregate,
    BoolOp,
    Compare,
    Count,
    FieldMeta,
    InQuery,
    Literal,
    Not,
    OrderItem,
    Path,
    Query,
    SchemaLookup,
    SoqlError,
    parse,
    unescape,
)
from peoplesync.sandbox.salesforce.soql_aggregate import BULK_AGGREGATE, compile_aggregate
from peoplesync.sandbox.salesforce.soql_dates import FIXED, WITH_N, date_range
from peoplesync.sandbox.salesforce.soql_paths import FieldPaths
from peoplesync.sandbox.salesforce.soql_result import (
    JSON_CONVERTED,
    NUMBER_TYPES,
    CompiledQuery,
    csv_value,
    json_value,
    storage_datetime,
)
from peoplesync.sandbox.salesforce.soql_select import select

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
MAX_OFFSET = 2000


def _criterion(meta: FieldMeta, kind: str, *, quoted: bool) -> SoqlError:
    should = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return SoqlError(
        "INVALID_FIELD",
        f"value of filter criterion for field '{meta.name}' must be of type {kind} and {should}",
    )


class Compiler(FieldPaths):
    """Compiles conditions and ORDER BY keys over the resolved field paths."""

    def nested(self, query: Query, sobject: str) -> Compiler:
        """A compiler for a child sub-query of this one (one level deeper)."""
        return Compiler(self.schema, query, self.now, self.depth + 1, sobject)

    def condition(self, node: Any) -> str:
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.condition(i) for i in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.condition(node.item)})"
        if isinstance(node, InQuery):
            return self.semi_join(node)
        assert isinstance(node, Compare)
        if isinstance(node.path, Aggregate):
            if self.aggregates is None:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"Aggregate functions such as {node.path.function}() are not allowed in "
                    "WHERE; filter groups with HAVING",
                )
            column, meta = self.aggregates.expression(node.path)
            return self.compare(column, meta, node.op, node.values[0])
        resolved = self.resolve(node.path)
        column, meta = resolved.expr, resolved.meta
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
        column = self.resolve(node.path).expr
        inner = Compiler(self.schema, node.query, self.now, self.depth + 1)
        if len(node.query.select) != 1 or not isinstance(node.query.select[0], Path):
            raise SoqlError("MALFORMED_QUERY", "a semi-join selects exactly one field")
        inner_column = inner.resolve(node.query.select[0]).expr
        where = inner.where_sql(include_deleted=False)
        joins = " ".join(inner.joins)
        self.params += inner.params
        sub = f'SELECT {inner_column} FROM "{inner.sobject}" AS {inner.root} {joins} {where}'
        return f"({column} {'NOT IN' if node.negated else 'IN'} ({sub}))"

    def order_key(self, expr: str, meta: FieldMeta, item: OrderItem) -> str:
        """One ORDER BY key: text sorts without regard to case, as in Salesforce."""
        if not meta.sortable:
            raise SoqlError(
                "INVALID_FIELD", f"field '{meta.name}' can not be sorted in a query call"
            )
        collate = " COLLATE NOCASE" if meta.type in TEXT_TYPES else ""
        nulls = f" NULLS {item.nulls.upper()}" if item.nulls else ""
        return f"{expr}{collate} {'DESC' if item.descending else 'ASC'}{nulls}"

    def where_sql(self, *, include_deleted: bool) -> str:
        clauses = [] if include_deleted else [f'{self.root}."IsDeleted" = 0']
        if self.query.where is not None:
            clauses.append(self.condition(self.query.where))
        return ("WHERE " + " AND ".join(clauses)) if clauses else ""


def compile_soql(
    text: str,
    schema: SchemaLookup,
    *,
    include_deleted: bool,
    now: datetime,
    bulk: str | None = None,
) -> CompiledQuery:
    """Compile one SOQL statement for SQLite (see the module docstring for storage).

    ``bulk`` ("bulk1-csv", "bulk1-json", "bulk2") applies that Bulk API's refusals
    (compound fields, aggregates, and child sub-queries in CSV)."""
    query = parse(text)
    compiler = Compiler(schema, query, now)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError(
            "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    if any(isinstance(item, Count) for item in query.select):
        return _count(compiler, include_deleted=include_deleted)
    if query.group_by or any(isinstance(item, Aggregate) for item in query.select):
        if bulk:
            raise SoqlError("FUNCTIONALITY_NOT_ENABLED", BULK_AGGREGATE)
        return compile_aggregate(compiler, include_deleted=include_deleted)
    if query.having is not None:
        raise SoqlError("MALFORMED_QUERY", "HAVING needs GROUP BY or an aggregate function")
    return select(compiler, bulk=bulk, include_deleted=include_deleted).compiled


def _count(compiler: Compiler, *, include_deleted: bool) -> CompiledQuery:
    query = compiler.query
    if len(query.select) > 1:
        raise SoqlError("MALFORMED_QUERY", "COUNT() cannot be combined with other fields")
    if query.group_by or query.having is not None:
        raise SoqlError(
            "MALFORMED_QUERY", "COUNT() cannot be grouped; select COUNT(Id) with GROUP BY"
        )
    where = compiler.where_sql(include_deleted=include_deleted)
    sql = f'SELECT COUNT(*) FROM "{compiler.sobject}" AS {compiler.root} '
    sql += " ".join(compiler.joins) + f" {where}"
    return CompiledQuery(
        sobject=compiler.sobject,
        sql=" ".join(sql.split()),
        params=tuple(compiler.params),
        is_count=True,
        columns=(),
        limit=query.limit,
        offset=query.offset,
    )


__all__ = [
    "ID_TYPES",
    "JSON_CONVERTED",
    "TEXT_TYPES",
    "CompiledQuery",
    "SoqlError",
    "compile_soql",
    "csv_value",
    "json_value",
    "storage_datetime",
]
