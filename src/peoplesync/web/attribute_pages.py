"""People -> Configuration: the custom attributes (list; add with a type and a mandatory flag;
edit one), as ``peoplesync attributes add`` / ``edit`` do on the command line. Making an
attribute mandatory while persons lack it asks for confirmation first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import ConfirmationRequiredError, NotFoundError, RecordError, ValidationError
from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeDefinition, AttributeType
from peoplesync.people.attribute_change import add_attribute, edit_attribute
from peoplesync.web.access import AdminSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.error_bodies import record_status
from peoplesync.web.pages import render

router = APIRouter(include_in_schema=False)


def attribute_type(name: str, kind: str) -> AttributeType:
    """The type named ``kind``; ValidationError naming the field ``type`` otherwise."""
    try:
        return AttributeType(kind.strip().lower())
    except ValueError:
        raise ValidationError(
            f"{kind!r} is not a type",
            record=f"attribute {name!r}",
            field="type",
            hint=", ".join(t.value for t in AttributeType),
        ) from None


def checked_description(name: str, description: str) -> str:
    """The description, stripped; ValidationError when longer than 1000 characters."""
    if len(description) > 1000:
        raise ValidationError(
            "at most 1000 characters", record=f"attribute {name!r}", field="description"
        )
    return description.strip()


async def define(
    web: WebContext,
    session_email: str,
    name: str,
    kind: str,
    mandatory: bool,
    description: str,
    *,
    confirm: bool = False,
) -> AttributeDefinition:
    """Check the form or API values and add the attribute (never changes an existing one)."""
    definition = AttributeDefinition(
        name.strip(),
        attribute_type(name, kind),
        mandatory,
        checked_description(name, description),
    )
    return await add_attribute(
        web.store, definition, origin=f"web:{session_email}", confirm=confirm
    )


async def _page(
    request: Request,
    web: WebContext,
    session: WebSession,
    *,
    values: dict[str, str],
    error: RecordError | None = None,
    editing: AttributeDefinition | None = None,
) -> HTMLResponse:
    custom = list((await web.store.attributes()).values())
    typed = values.get("name", "").strip().lower()
    return render(
        web,
        request,
        "attributes.html",
        session,
        record_status(error) if error else 200,
        custom=custom,
        existing=next((d.name for d in custom if d.name.lower() == typed), None),
        standard=STANDARD_ATTRIBUTES,
        types=[t.value for t in AttributeType],
        values=values,
        error=error,
        confirming=isinstance(error, ConfirmationRequiredError),
        editing=editing,
    )


@router.get("/attributes")
async def attributes_page(request: Request, web: Context, session: PageSession) -> HTMLResponse:
    """Standard and custom attributes, and the form to add a custom one."""
    return await _page(request, web, session, values={})


@router.post("/attributes")
async def add_attribute_form(
    request: Request,
    web: Context,
    session: AdminSession,
    name: Annotated[str, Form(max_length=200)] = "",
    type: Annotated[str, Form(max_length=20)] = "text",
    mandatory: Annotated[str, Form(max_length=10)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Add a custom attribute (admins only); the error is shown next to its field, and a
    mandatory one while persons exist asks for confirmation."""
    try:
        await define(
            web, session.user.email, name, type, bool(mandatory), description, confirm=bool(confirm)
        )
    except RecordError as error:
        values = {"name": name, "type": type, "mandatory": mandatory, "description": description}
        return await _page(request, web, session, values=values, error=error)
    return RedirectResponse("/attributes", status_code=303)


async def _existing(web: WebContext, name: str) -> AttributeDefinition:
    definition = (await web.store.attributes()).get(name)
    if definition is None:
        raise NotFoundError("no custom attribute has this name", record=name, field="name")
    return definition


@router.get("/attributes/{name}/edit")
async def edit_attribute_page(
    request: Request, web: Context, session: PageSession, name: str
) -> HTMLResponse:
    """The form that changes an attribute's type, mandatory flag or description."""
    definition = await _existing(web, name)
    values = {
        "type": definition.type.value,
        "mandatory": "yes" if definition.mandatory else "",
        "description": definition.description,
    }
    return await _page(request, web, session, values=values, editing=definition)


@router.post("/attributes/{name}/edit")
async def edit_attribute_form(
    request: Request,
    web: Context,
    session: AdminSession,
    name: str,
    type: Annotated[str, Form(max_length=20)] = "text",
    mandatory: Annotated[str, Form(max_length=10)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Save the edit (admins only), asking for confirmation when it becomes mandatory while
    persons lack it."""
    definition = await _existing(web, name)
    try:
        await edit_attribute(
            web.store,
            name,
            origin=f"web:{session.user.email}",
            kind=attribute_type(name, type),
            mandatory=bool(mandatory),
            description=checked_description(name, description),
            confirm=bool(confirm),
        )
    except RecordError as error:
        values = {"type": type, "mandatory": mandatory, "description": description}
        return await _page(request, web, session, values=values, error=error, editing=definition)
    return RedirectResponse("/attributes", status_code=303)


__all__ = ["attribute_type", "checked_description", "define", "router"]
