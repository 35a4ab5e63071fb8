"""SOQL parsing: the lark grammar turned into a small typed syntax tree.

Also declares the lookup protocols the compiler needs from the org's schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from peoplesync.sandbox.salesforce.soql_nodes import (
    Aggregate,
    BoolOp,
    Compare,
    Count,
    FieldsFunction,
    InQuery,
    Literal,
    Not,
    OrderItem,
    Path,
    Query,
    SelectItem,
    SubQuery,
    TypeOf,
)


class FieldMeta(Protocol):
    """What the compiler needs to know about a field."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def relationship_name(self) -> str | None: ...
    @property
    def reference_to(self) -> Sequence[str]: ...
    @property
    def filterable(self) -> bool: ...
    @property
    def sortable(self) -> bool: ...
    @property
    def groupable(self) -> bool: ...
    @property
    def custom(self) -> bool: ...
    @property
    def compound_name(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SyntheticField:
    """A value that is no stored field: a "Name" object field read through a polymorphic
    lookup, or an aggregate's result."""

    name: str
    type: str
    relationship_name: str | None = None
    reference_to: tuple[str, ...] = ()
    filterable: bool = True
    sortable: bool = True
    groupable: bool = True
    custom: bool = False
    compound_name: str | None = None


class SchemaLookup(Protocol):
    """Case-insensitive access to objects, fields and relationships."""

    def canonical_sobject(self, name: str) -> str | None: ...
    def field(self, sobject: str, name: str) -> FieldMeta | None: ...
    def relationship(self, sobject: str, relationship_name: str) -> FieldMeta | None: ...
    def fields(self, sobject: str) -> Sequence[FieldMeta]: ...
    def child_relationship(self, sobject: str, name: str) -> tuple[str, str, str] | None: ...


class SoqlError(Exception):
    """A query Salesforce would reject, with its error code."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


def unescape(body: str, *, keep_like: bool) -> str:
    """Decode a SOQL string literal's body; ``keep_like`` keeps \\% and \\_ escaped."""
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 >= len(body):
            raise SoqlError("MALFORMED_QUERY", "Invalid string literal: a trailing backslash")
        code = body[i + 1]
        if code in _ESCAPES:
            out.append("\\\\" if keep_like and code == "\\" else _ESCAPES[code])
            i += 2
        elif code in "%_":
            out.append("\\" + code if keep_like else code)
            i += 2
        elif code == "u" and i + 6 <= len(body):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise SoqlError("MALFORMED_QUERY", f"Invalid string literal: unknown escape \\{code}")
    return "".join(out)


@v_args(inline=True)
class _Build(Transformer[Token, Any]):
    def start(self, query: Query) -> Query:
        return query

    def query(self, select: tuple[SelectItem, ...], sobject: Token, *clauses: Any) -> Query:
        found: dict[str, Any] = {
            "alias": None,
            "where": None,
            "order": (),
            "limit": None,
            "offset": None,
            "group_by": (),
            "having": None,
        }
        for clause in clauses:
            if clause is None:
                continue
            key, value = clause
            found[key] = value
        return Query(
            str(sobject),
            found["alias"],
            select,
            found["where"],
            found["order"],
            found["limit"],
            found["offset"],
            found["group_by"],
            found["having"],
        )

    def alias(self, name: Token) -> tuple[str, str]:
        return ("alias", str(name))

    def select_list(self, *items: SelectItem) -> tuple[SelectItem, ...]:
        return items

    def count(self, _token: Token) -> Count:
        return Count(None)

    def agg_call(self, function: Token, path: Path) -> Aggregate:
        name = str(function).rstrip("( \t\r\n").upper()
        return Aggregate(name, path)

    def aggregate(self, call: Aggregate, alias: Token | None = None) -> Aggregate:
        return Aggregate(call.function, call.path, str(alias) if alias is not None else None)

    def fields(self, _function: Token, kind: Token) -> FieldsFunction:
        text = str(kind).upper()
        if text not in ("ALL", "STANDARD", "CUSTOM"):
            raise SoqlError(
                "MALFORMED_QUERY",
                f"FIELDS() takes ALL, STANDARD or CUSTOM, not '{kind}'",
            )
        return FieldsFunction(text)

    def subquery(self, query: Query) -> SubQuery:
        return SubQuery(query)

    def typeof_when(self, sobject: Token, *paths: Path) -> tuple[str, tuple[Path, ...]]:
        return (str(sobject), paths)

    def typeof_else(self, *paths: Path) -> tuple[str, tuple[Path, ...]]:
        return ("", paths)

    def typeof(
        self, _keyword: Token, relationship: Token, *parts: tuple[str, tuple[Path, ...]] | None
    ) -> TypeOf:
        branches = tuple(p for p in parts if p is not None and p[0])
        otherwise = next((p[1] for p in parts if p is not None and not p[0]), ())
        return TypeOf(str(relationship), branches, otherwise)

    def field(self, path: Path, alias: Token | None = None) -> Path:
        return Path(path.parts, str(alias)) if alias is not None else path

    def path(self, *names: Token) -> Path:
        return Path(tuple(str(n) for n in names))

    def group(self, *paths: Path) -> tuple[str, tuple[Path, ...]]:
        return ("group_by", paths)

    def having(self, condition: Any) -> tuple[str, Any]:
        return ("having", condition)

    def where(self, condition: Any) -> tuple[str, Any]:
        return ("where", condition)

    def or_(self, *items: Any) -> Any:
        return items[0] if len(items) == 1 else BoolOp("OR", items)

    def and_(self, *items: Any) -> Any:
        return items[0] if len(items) == 1 else BoolOp("AND", items)

    def not_(self, item: Any) -> Not:
        return Not(item)

    def compare(self, path: Path | Aggregate, op: Token, value: Literal) -> Compare:
        return Compare(path, "!=" if str(op) == "<>" else str(op), (value,))

    def like(self, path: Path, value: Literal) -> Compare:
        if value.kind != "string":
            raise SoqlError("MALFORMED_QUERY", "LIKE needs a string value")
        return Compare(path, "LIKE", (value,))

    def in_list(self, path: Path, *values: Literal) -> Compare:
        return Compare(path, "IN", values)

    def not_in_list(self, path: Path, *values: Literal) -> Compare:
        return Compare(path, "NOT IN", values)

    def includes(self, path: Path, *values: Literal) -> Compare:
        return Compare(path, "INCLUDES", values)

    def excludes(self, path: Path, *values: Literal) -> Compare:
        return Compare(path, "EXCLUDES", values)

    def in_query(self, path: Path, query: Query) -> InQuery:
        return InQuery(path, query, False)

    def not_in_query(self, path: Path, query: Query) -> InQuery:
        return InQuery(path, query, True)

    def string(self, token: Token) -> Literal:
        return Literal("string", str(token)[1:-1])

    def number(self, token: Token) -> Literal:
        text = str(token)
        return Literal("number", float(text) if "." in text else int(text))

    def date(self, token: Token) -> Literal:
        return Literal("date", str(token))

    def datetime(self, token: Token) -> Literal:
        return Literal("datetime", str(token))

    def date_n(self, token: Token) -> Literal:
        name, _, n = str(token).partition(":")
        return Literal("date_n", name.upper(), int(n))

    def word(self, token: Token) -> Literal:
        return Literal("word", str(token).upper())

    def order(self, *items: OrderItem) -> tuple[str, tuple[OrderItem, ...]]:
        return ("order", items)

    def order_item(self, path: Path | Aggregate, *flags: Token) -> OrderItem:
        descending = False
        nulls = None
        for flag in flags:
            if flag is None:
                continue
            text = str(flag).upper()
            if text in ("ASC", "DESC"):
                descending = text == "DESC"
            else:
                nulls = text.split()[-1].lower()
        return OrderItem(path, descending, nulls)

    def limit(self, value: Token) -> tuple[str, int]:
        return ("limit", int(value))

    def offset(self, value: Token) -> tuple[str, int]:
        return ("offset", int(value))

    def for_clause(self, *names: Token) -> None:
        return None

    def with_clause(self, name: Token) -> None:
        return None


@cache
def _parser() -> Lark:
    grammar = (resources.files("peoplesync.sandbox.salesforce") / "soql_grammar.lark").read_text()
    # The tree is built into a Query while parsing (no parse tree is made first).
    return Lark(grammar, parser="lalr", maybe_placeholders=True, transformer=_Build())


def parse(text: str) -> Query:
    """Parse a SOQL statement; raise SoqlError(MALFORMED_QUERY) with Salesforce's wording."""
    try:
        result: Query = _parser().parse(text)  # type: ignore[assignment]
    except UnexpectedToken as exc:
        shown = "EOF" if exc.token.type == "$END" else str(exc.token)
        raise SoqlError(
            "MALFORMED_QUERY",
            f"\n{text}\n{' ' * max(exc.column - 1, 0) if exc.column > 0 else ''}^\n"
            f"ERROR at Row:{exc.line}:Column:{exc.column}\nunexpected token: '{shown}'",
        ) from None
    except UnexpectedEOF:
        raise SoqlError("MALFORMED_QUERY", "unexpected token: '<EOF>'") from None
    except UnexpectedCharacters as exc:
        raise SoqlError(
            "MALFORMED_QUERY",
            f"\n{text}\nERROR at Row:{exc.line}:Column:{exc.column}\n"
            f"unexpected token: '{text[exc.pos_in_stream or 0 :][:1]}'",
        ) from None
    except LarkError as exc:
        inner = exc.__context__
        if isinstance(inner, SoqlError):
            raise inner from None
        if hasattr(exc, "orig_exc") and isinstance(exc.orig_exc, SoqlError):
            raise exc.orig_exc from None
        raise SoqlError("MALFORMED_QUERY", f"unexpected query: {exc}") from None
    return result


__all__ = [
    "Aggregate",
    "BoolOp",
    "Compare",
    "Count",
    "FieldMeta",
    "FieldsFunction",
    "InQuery",
    "Literal",
    "Not",
    "OrderItem",
    "Path",
    "Query",
    "SchemaLookup",
    "SelectItem",
    "SoqlError",
    "SubQuery",
    "SyntheticField",
    "TypeOf",
    "parse",
    "unescape",
]
