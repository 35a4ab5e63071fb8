"""Aggregate SOQL: COUNT(field), COUNT_DISTINCT, SUM, AVG, MIN, MAX with GROUP BY and HAVING.

Rows come back as ``AggregateResult`` records: grouped fields under their own name,
aggregates under their alias or ``expr0``, ``expr1``... in the order the unaliased ones
appear."""

from __future__ import annotations

from peoplesync.sandbox.salesforce.soql import (
    Aggregate,
    FieldMeta,
    Path,
    SoqlError,
    SyntheticField,
)
from peoplesync.sandbox.salesforce.soql_paths import QueryCompiler
from peoplesync.sandbox.salesforce.soql_result import NUMBER_TYPES, CompiledQuery, Output

BULK_AGGREGATE = "Aggregate queries are not supported in Bulk Query"
_SQL = {
    "COUNT": "COUNT({})",
    "COUNT_DISTINCT": "COUNT(DISTINCT {})",
    "SUM": "SUM({})",
    "AVG": "AVG({})",
    "MIN": "MIN({})",
    "MAX": "MAX({})",
}


class AggregateScope:
    """Turns aggregate calls into SQL for the field list, HAVING and ORDER BY."""

    def __init__(self, compiler: QueryCompiler) -> None:
        self.compiler = compiler

    def expression(self, call: Aggregate) -> tuple[str, FieldMeta]:
        """The SQL of ``call`` and what its value is (its type decides JSON and filters)."""
        resolved = self.compiler.resolve(call.path)
        meta = resolved.meta
        if call.function in ("SUM", "AVG") and meta.type not in NUMBER_TYPES:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"field {meta.name} does not support aggregate operator {call.function}",
            )
        if call.function in ("COUNT", "COUNT_DISTINCT"):
            kind = "int"
        elif call.function == "AVG":
            kind = "double"
        else:
            kind = meta.type
        expr = _SQL[call.function].format(resolved.expr)
        return expr, SyntheticField(str(call), kind)


def _grouped(compiler: QueryCompiler, path: Path) -> tuple[str, FieldMeta]:
    resolved = compiler.resolve(path)
    return resolved.expr, resolved.meta


def compile_aggregate(compiler: QueryCompiler, *, include_deleted: bool) -> CompiledQuery:
    """Compile a query with aggregate functions or GROUP BY."""
    query = compiler.query
    scope = AggregateScope(compiler)
    groups: list[str] = []
    for path in query.group_by:
        expr, meta = _grouped(compiler, path)
        if not meta.groupable:
            raise SoqlError(
                "INVALID_FIELD", f"field '{meta.name}' can not be grouped in a query call"
            )
        groups.append(expr)
    selected: list[str] = []
    outputs: list[Output] = []
    unnamed = 0
    for item in query.select:
        if isinstance(item, Aggregate):
            expr, meta = scope.expression(item)
            key = item.alias or f"expr{unnamed}"
            unnamed += item.alias is None
        elif isinstance(item, Path):
            expr, meta = _grouped(compiler, item)
            if expr not in groups:
                raise SoqlError(
                    "MALFORMED_QUERY", f"Field must be grouped or aggregated: {meta.name}"
                )
            key = item.alias or meta.name
        else:
            raise SoqlError(
                "MALFORMED_QUERY",
                "An aggregate query selects grouped fields and aggregate functions only",
            )
        selected.append(expr)
        outputs.append(Output(key, meta.type, len(selected) - 1, header=key))
    where = compiler.where_sql(include_deleted=include_deleted)
    compiler.aggregates = scope
    having = compiler.condition(query.having) if query.having is not None else ""
    order = []
    for key_item in query.order:
        if isinstance(key_item.path, Aggregate):
            expr, meta = scope.expression(key_item.path)
        else:
            expr, meta = _grouped(compiler, key_item.path)
            if expr not in groups:
                raise SoqlError(
                    "MALFORMED_QUERY", f"Ordered field must be grouped or aggregated: {meta.name}"
                )
        order.append(compiler.order_key(expr, meta, key_item))
    sql = f'SELECT {", ".join(selected)} FROM "{compiler.sobject}" AS {compiler.root} '
    sql += " ".join(compiler.joins) + f" {where}"
    if groups:
        sql += " GROUP BY " + ", ".join(groups)
    if having:
        sql += f" HAVING {having}"
    if order:
        sql += " ORDER BY " + ", ".join(order)
    if query.limit is not None or query.offset is not None:
        sql += f" LIMIT {query.limit if query.limit is not None else -1}"
        if query.offset:
            sql += f" OFFSET {query.offset}"
    return CompiledQuery(
        sobject=compiler.sobject,
        sql=" ".join(sql.split()),
        params=tuple(compiler.params),
        is_count=False,
        columns=tuple(o.header for o in outputs),
        limit=query.limit,
        offset=query.offset,
        outputs=tuple(outputs),
        aggregate=True,
        id_index=None,
    )
