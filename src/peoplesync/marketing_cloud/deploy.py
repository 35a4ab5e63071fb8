"""Deploying peoplesync's data extensions into a business unit, idempotently.

A missing extension is created with all its columns; an existing one only gets the columns
it lacks (names compared without case), so a redeploy changes nothing and an upgrade keeps
every row. Columns are never removed or retyped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import (
    DATA_EXTENSIONS,
    Column,
    DataExtension,
    missing_columns,
)


@dataclass(frozen=True)
class Deployed:
    """What deploying one extension did."""

    key: str
    name: str
    created: bool
    added: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added)

    @property
    def status(self) -> str:
        """``created``, ``upgraded`` (columns added) or ``unchanged``."""
        if self.created:
            return "created"
        return "upgraded" if self.added else "unchanged"

    def shown(self) -> dict[str, Any]:
        """As printed by ``--json`` and the REST API."""
        return {
            "key": self.key,
            "name": self.name,
            "status": self.status,
            "added": list(self.added),
        }


def field_definition(column: Column, ordinal: int) -> dict[str, Any]:
    """A column in the REST definition shape (``name``, ``type``, ``isPrimaryKey``...)."""
    definition: dict[str, Any] = {
        "name": column.name,
        "type": column.type.value,
        "isPrimaryKey": column.primary_key,
        "isNullable": column.nullable and not column.primary_key,
        "ordinal": ordinal,
    }
    if column.length is not None:
        definition["length"] = column.length
    if column.scale is not None:
        definition["scale"] = column.scale
    if column.default is not None:
        definition["defaultValue"] = column.default
    return definition


def extension_definition(extension: DataExtension) -> dict[str, Any]:
    """The create body for ``POST /data/v1/customobjects``."""
    return {
        "name": extension.name,
        "key": extension.key,
        "isSendable": extension.sendable,
        "fields": [field_definition(each, index) for index, each in enumerate(extension.columns)],
    }


def upgrade_fields(extension: DataExtension, present: set[str], start: int) -> list[dict[str, Any]]:
    """Definitions of the columns a deployed extension lacks, added as nullable (or with
    their default) so existing rows stay valid."""
    added = []
    for offset, column in enumerate(missing_columns(extension, present)):
        definition = field_definition(column, start + offset)
        definition["isPrimaryKey"] = False
        if column.default is None:
            definition["isNullable"] = True
        added.append(definition)
    return added


async def deploy_extension(client: MarketingCloudClient, extension: DataExtension) -> Deployed:
    """Create ``extension`` or add the columns it lacks."""
    found = await client.find_extension(extension.key)
    if found is None:
        await client.create_extension(extension_definition(extension))
        return Deployed(extension.key, extension.name, True, ())
    present = {str(field["name"]) for field in found.get("fields", [])}
    added = upgrade_fields(extension, present, len(present))
    if added:
        await client.add_fields(str(found["id"]), added)
    return Deployed(extension.key, extension.name, False, tuple(each["name"] for each in added))


async def deploy(
    client: MarketingCloudClient, extensions: Sequence[DataExtension] = DATA_EXTENSIONS
) -> tuple[Deployed, ...]:
    """Deploy every extension (by default the five peoplesync uses) into the client's unit."""
    return tuple([await deploy_extension(client, each) for each in extensions])
