"""The SOQL syntax tree: what a parsed statement holds (no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AGGREGATE_FUNCTIONS = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "MIN", "MAX", "AVG"})


@dataclass(frozen=True, slots=True)
class Path:
    """A dotted field reference as written (``Account.Name``), with an optional alias."""

    parts: tuple[str, ...]
    alias: str | None = None

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Count:
    """``COUNT()``: the answer is ``totalSize`` alone."""

    path: Path | None


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``COUNT(Id)``, ``COUNT_DISTINCT(f)``, ``SUM(f)``, ``MIN``, ``MAX``, ``AVG``; optional alias."""

    function: str
    path: Path
    alias: str | None = None

    def __str__(self) -> str:
        return f"{self.function}({self.path})"


@dataclass(frozen=True, slots=True)
class FieldsFunction:
    """``FIELDS(ALL)``, ``FIELDS(STANDARD)`` or ``FIELDS(CUSTOM)``."""

    kind: str


@dataclass(frozen=True, slots=True)
class SubQuery:
    """A child-relationship sub-query in the field list: ``(SELECT ... FROM Contacts)``."""

    query: Query


@dataclass(frozen=True, slots=True)
class TypeOf:
    """``TYPEOF What WHEN Account THEN Name, Phone ... ELSE Name END``."""

    relationship: str
    branches: tuple[tuple[str, tuple[Path, ...]], ...]
    otherwise: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Literal:
    """A value in a condition; ``kind`` is string, number, date, datetime, word or date_n."""

    kind: str
    value: Any
    n: int | None = None


@dataclass(frozen=True, slots=True)
class Compare:
    """``path OP value``, LIKE, IN lists, INCLUDES/EXCLUDES (``path`` is an aggregate in HAVING)."""

    path: Path | Aggregate
    op: str
    values: tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class InQuery:
    """``path [NOT] IN (SELECT ...)``."""

    path: Path
    query: Query
    negated: bool


@dataclass(frozen=True, slots=True)
class BoolOp:
    """AND / OR over several conditions."""

    op: str
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """NOT condition."""

    item: Any


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY key (a field, or an aggregate in an aggregate query)."""

    path: Path | Aggregate
    descending: bool
    nulls: str | None


SelectItem = Path | Count | Aggregate | FieldsFunction | SubQuery | TypeOf


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed SELECT."""

    sobject: str
    alias: str | None
    select: tuple[SelectItem, ...]
    where: Any
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    group_by: tuple[Path, ...] = ()
    having: Any = None
