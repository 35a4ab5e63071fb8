"""Adding and editing custom attributes as people do it (web, API, CLI): adding never changes
an existing attribute, and making an attribute mandatory while persons lack it needs an
explicit confirmation."""

from __future__ import annotations

from dataclasses import replace

from peoplesync.errors import AttributeExistsError, ConfirmationRequiredError, NotFoundError
from peoplesync.people.attribute import AttributeDefinition, AttributeType, check_attribute_name
from peoplesync.people.store import PeopleStore


def describe(definition: AttributeDefinition) -> str:
    """``type number, mandatory`` or ``type text, optional``."""
    return f"type {definition.type.value}, {'mandatory' if definition.mandatory else 'optional'}"


def mandatory_warning(name: str, lacking: int) -> ConfirmationRequiredError:
    """The error asking to confirm that ``lacking`` persons without ``name`` are acceptable."""
    return ConfirmationRequiredError(
        f"{lacking} existing person(s) have no {name}: once it is mandatory, none of them can "
        f"be saved from the edit form until given a {name}, and new persons (form, import, "
        "Salesforce sync) without it are refused",
        affected=lacking,
        record=f"attribute {name!r}",
        field="mandatory",
        hint='confirm to go ahead (web: Confirm; API: "confirm": true; CLI: --confirm), or '
        "make it optional, fill it in, then make it mandatory",
    )


async def add_attribute(
    store: PeopleStore, definition: AttributeDefinition, *, origin: str, confirm: bool = False
) -> AttributeDefinition:
    """Define a new custom attribute; AttributeExistsError when the name is taken,
    ConfirmationRequiredError for a mandatory one while persons exist (unless ``confirm``)."""
    check_attribute_name(definition.name)
    existing = await store.attributes()
    taken = next((d for d in existing.values() if d.name.lower() == definition.name.lower()), None)
    if taken is not None:
        raise AttributeExistsError(
            f"attribute {taken.name!r} exists ({describe(taken)}): edit it instead",
            record=f"attribute {definition.name!r}",
            field="name",
            hint=f"peoplesync attributes edit {taken.name} (web: Edit on People -> "
            f"Configuration; API: PUT /api/v1/attributes/{taken.name}), or choose another name",
        )
    if definition.mandatory and not confirm:
        lacking = await store.count_persons()
        if lacking:
            raise mandatory_warning(definition.name, lacking)
    await store.define_attribute(definition, origin=origin)
    return definition


async def edit_attribute(
    store: PeopleStore,
    name: str,
    *,
    origin: str,
    kind: AttributeType | None = None,
    mandatory: bool | None = None,
    description: str | None = None,
    confirm: bool = False,
) -> AttributeDefinition:
    """Change an existing attribute's type, mandatory flag or description (None: keep);
    NotFoundError when there is none, ConfirmationRequiredError when it becomes mandatory
    while persons lack it (unless ``confirm``). A type cannot change once values exist."""
    current = (await store.attributes()).get(name)
    if current is None:
        raise NotFoundError(
            "no custom attribute has this name",
            record=f"attribute {name!r}",
            field="name",
            hint="peoplesync attributes list shows them; add it with peoplesync attributes add",
        )
    changed = replace(
        current,
        type=current.type if kind is None else kind,
        mandatory=current.mandatory if mandatory is None else mandatory,
        description=current.description if description is None else description,
    )
    if changed.mandatory and not current.mandatory and not confirm:
        lacking = await store.count_lacking(name)
        if lacking:
            raise mandatory_warning(name, lacking)
    if changed != current:
        await store.define_attribute(changed, origin=origin)
    return changed


__all__ = ["add_attribute", "describe", "edit_attribute", "mandatory_warning"]
