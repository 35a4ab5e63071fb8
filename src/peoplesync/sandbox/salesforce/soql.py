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


class SchemaLookup(Protocol):
    """Case-insensitive access to objects, fields and relationships."""

    def canonical_sobject(self, name: str) -> str | None: ...
    def field(self, sobject: str, name: str) -> FieldMeta | None: ...
    def relationship(self, sobject: str, relationship_name: str) -> FieldMeta | None: ...
    def fields(self, sobject: str) -> Sequence[FieldMeta]: ...


class SoqlError(Exception):
    """A query Salesforce would reject, with its error code."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True, slots=True)
class Path:
    """A dotted field reference as written (``Account.Name``)."""

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Count:
    """``COUNT()`` or ``COUNT(field)``."""

    path: Path | None


@dataclass(frozen=True, slots=True)
class Literal:
    """A value in a condition; ``kind`` is string, number, date, datetime, word or date_n."""

    kind: str
    value: Any
    n: int | None = None


@dataclass(frozen=True, slots=True)
class Compare:
    """``path OP value``, LIKE, IN lists, INCLUDES/EXCLUDES."""

    path: Path
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
    """One ORDER BY key."""

    path: Path
    descending: bool
    nulls: str | None


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed SELECT."""

    sobject: str
    alias: str | None
    select: tuple[Path | Count, ...]
    where: Any
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None


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

    def query(self, select: tuple[Path | Count, ...], sobject: Token, *clauses: Any) -> Query:
        found: dict[str, Any] = {
            "alias": None,
            "where": None,
            "order": (),
            "limit": None,
            "offset": None,
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
        )

    def alias(self, name: Token) -> tuple[str, str]:
        return ("alias", str(name))

    def select_list(self, *items: Path | Count) -> tuple[Path | Count, ...]:
        return items

    def count(self, path: Path | None = None) -> Count:
        return Count(path)

    def path(self, *names: Token) -> Path:
        return Path(tuple(str(n) for n in names))

    def where(self, condition: Any) -> tuple[str, Any]:
        return ("where", condition)

    def or_(self, *items: Any) -> Any:
        return items[0] if len(items) == 1 else BoolOp("OR", items)

    def and_(self, *items: Any) -> Any:
        return items[0] if len(items) == 1 else BoolOp("AND", items)

    def not_(self, item: Any) -> Not:
        return Not(item)

    def compare(self, path: Path, op: Token, value: Literal) -> Compare:
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

    def order_item(self, path: Path, *flags: Token) -> OrderItem:
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
