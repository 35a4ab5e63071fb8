"""People -> Configuration: the custom attributes (list, add with a type and a mandatory flag;
what ``peoplesync attributes add`` does on the command line)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import RecordError, ValidationError
from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeDefinition, AttributeType
from peoplesync.web.access import AdminSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.error_bodies import record_status
from peoplesync.web.pages import render

router = APIRouter(include_in_schema=False)


async def define(
    web: WebContext, session_email: str, name: str, kind: str, mandatory: bool, description: str
) -> AttributeDefinition:
    """Check the form or API values and save the definition."""
    try:
        attribute_type = AttributeType(kind.strip().lower())
    except ValueError:
        raise ValidationError(
            f"{kind!r} is not a type",
            record=f"attribute {name!r}",
            field="type",
            hint=", ".join(t.value for t in AttributeType),
        ) from None
    if len(description) > 1000:
        raise ValidationError(
            "at most 1000 characters", record=f"attribute {name!r}", field="description"
        )
    definition = AttributeDefinition(name.strip(), attribute_type, mandatory, description.strip())
    await web.store.define_attribute(definition, origin=f"web:{session_email}")
    return definition


async def _page(
    request: Request,
    web: WebContext,
    session: WebSession,
    *,
    values: dict[str, str],
    error: RecordError | None = None,
) -> HTMLResponse:
    return render(
        web,
        request,
        "attributes.html",
        session,
        record_status(error) if error else 200,
        custom=list((await web.store.attributes()).values()),
        standard=STANDARD_ATTRIBUTES,
        types=[t.value for t in AttributeType],
        values=values,
        error=error,
    )


@router.get("/attributes")
async def attributes_page(request: Request, web: Context, session: PageSession) -> HTMLResponse:
    """Standard and custom attributes, and the form to add a custom one."""
    return await _page(request, web, session, values={})


@router.post("/attributes")
async def add_attribute(
    request: Request,
    web: Context,
    session: AdminSession,
    name: Annotated[str, Form(max_length=200)] = "",
    type: Annotated[str, Form(max_length=20)] = "text",
    mandatory: Annotated[str, Form(max_length=10)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Define a custom attribute (admins only); the error is shown next to its field."""
    try:
        await define(web, session.user.email, name, type, bool(mandatory), description)
    except RecordError as error:
        values = {"name": name, "type": type, "mandatory": mandatory, "description": description}
        return await _page(request, web, session, values=values, error=error)
    return RedirectResponse("/attributes", status_code=303)


__all__ = ["define", "router"]
