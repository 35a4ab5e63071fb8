"""The org's SQLite database: one table per sObject, created from the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiosqlite

from peoplesync.sandbox.salesforce.ids import IdGenerator
from peoplesync.sandbox.salesforce.schema import FieldMeta, Schema

# IsDeleted is deliberately not indexed: with two values it only ever misleads the planner.
INDEXED = ("SystemModstamp", "LastModifiedDate", "CreatedDate", "MasterRecordId")


def column_type(meta: FieldMeta) -> str:
    """SQLite column type for a field."""
    if meta.type in ("boolean", "int"):
        return "INTEGER"
    if meta.type in ("double", "currency", "percent"):
        return "REAL"
    return "TEXT"


def column_definition(meta: FieldMeta) -> str:
    """The column definition used in CREATE TABLE and ALTER TABLE."""
    definition = f'"{meta.name}" {column_type(meta)}'
    if meta.name == "Id":
        return definition + " PRIMARY KEY"
    if meta.name == "IsDeleted":
        return definition + " NOT NULL DEFAULT 0"
    if column_type(meta) == "TEXT" and meta.type not in ("id", "reference", "date", "datetime"):
        definition += " COLLATE NOCASE"
    return definition


class Storage:
    """Owns the connection, the tables and the id counter."""

    def __init__(self, path: Path, schema: Schema) -> None:
        self.path = path
        self.schema = schema
        self._conn: aiosqlite.Connection | None = None
        self.ids = IdGenerator()

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._conn is None:
            raise RuntimeError("storage is not open")
        return self._conn

    async def open(self) -> None:
        """Open (and create) the database, replay custom fields, restore the id counter."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.path)
        await self.conn.execute("PRAGMA journal_mode=WAL")
        await self.conn.execute("PRAGMA synchronous=NORMAL")
        await self.conn.execute("PRAGMA cache_size=-65536")
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS meta_custom_fields "
            "(sobject TEXT, name TEXT, definition TEXT, PRIMARY KEY (sobject, name))"
        )
        await self.conn.execute("CREATE TABLE IF NOT EXISTS meta_counter (value INTEGER)")
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS meta_deleted "
            "(id TEXT PRIMARY KEY, sobject TEXT, deleted_at TEXT)"
        )
        await self.conn.execute(
            "CREATE INDEX IF NOT EXISTS meta_deleted_time ON meta_deleted (sobject, deleted_at)"
        )
        async with self.conn.execute(
            "SELECT sobject, name, definition FROM meta_custom_fields"
        ) as rows:
            async for sobject, name, definition in rows:
                spec = json.loads(definition)
                if self.schema.field(sobject, name) is None:
                    self.schema.add_custom_field(sobject, name, **spec)
        for meta in self.schema.objects.values():
            await self._create_table(meta.name)
        async with self.conn.execute("SELECT value FROM meta_counter") as rows:
            row = await rows.fetchone()
        if row is None:
            await self.conn.execute("INSERT INTO meta_counter VALUES (1)")
        else:
            self.ids = IdGenerator(int(row[0]))
        await self.conn.commit()

    async def close(self) -> None:
        """Persist the id counter and close."""
        if self._conn is not None:
            await self.save_counter()
            await self.conn.commit()
            await self._conn.close()
            self._conn = None

    async def save_counter(self) -> None:
        """Store the next id number (inside the caller's transaction)."""
        await self.conn.execute("UPDATE meta_counter SET value = ?", (self.ids.peek(),))

    async def _create_table(self, sobject: str) -> None:
        meta = self.schema.sobject(sobject)
        assert meta is not None
        columns = ", ".join(column_definition(f) for f in meta.stored_fields())
        await self.conn.execute(f'CREATE TABLE IF NOT EXISTS "{meta.name}" ({columns})')
        async with self.conn.execute(f'PRAGMA table_info("{meta.name}")') as rows:
            existing = {row[1].lower() async for row in rows}
        for field in meta.stored_fields():
            if field.name.lower() not in existing:
                await self.conn.execute(
                    f'ALTER TABLE "{meta.name}" ADD COLUMN {column_definition(field)}'
                )
        await self.conn.execute(f'DROP INDEX IF EXISTS "ix_{meta.name}_IsDeleted"')
        for field in meta.stored_fields():
            wanted = (
                field.name in INDEXED
                or field.type == "reference"
                or field.type == "email"
                or field.unique
                or field.external_id
            )
            if wanted and field.name != "Id":
                await self.conn.execute(
                    f'CREATE INDEX IF NOT EXISTS "ix_{meta.name}_{field.name}" '
                    f'ON "{meta.name}" ("{field.name}")'
                )

    async def add_custom_field(self, sobject: str, name: str, spec: dict[str, Any]) -> FieldMeta:
        """Add a custom field to the schema and the table, persistently."""
        field = self.schema.add_custom_field(sobject, name, **spec)
        owner = self.schema.canonical_sobject(sobject) or sobject
        await self.conn.execute(
            "INSERT INTO meta_custom_fields VALUES (?, ?, ?)", (owner, field.name, json.dumps(spec))
        )
        await self._create_table(owner)
        await self.conn.commit()
        return field
