"""REST twins of the People pages: segments, custom attributes, import (dry run and import) and
export, under /api/v1. Viewers may read; changes need an admin."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from peoplesync.errors import ValidationError
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.attribute_change import edit_attribute
from peoplesync.people.person_filter import Condition
from peoplesync.people.person_import import run_import
from peoplesync.people.person_search import count_matching
from peoplesync.people.segment_store import Segment
from peoplesync.web.access import ApiAdmin, ApiUser, Context, WebContext
from peoplesync.web.attribute_pages import checked_description, define
from peoplesync.web.people_files import (
    export_kind,
    export_response,
    forget_upload,
    receive_upload,
)
from peoplesync.web.people_filters import conditions_from_text
from peoplesync.web.person_view import origin
from peoplesync.web.segment_pages import segments_of

router = APIRouter()


class FilterCondition(BaseModel):
    """One condition: field, operator, value (empty for empty / not_empty)."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(max_length=200, examples=["country"])
    op: str = Field(max_length=20, examples=["equals"])
    value: str = Field(default="", max_length=200, examples=["UK"])


class SegmentBody(BaseModel):
    """A segment: a name, an optional name/email prefix, conditions that must all hold."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, examples=["UK leads"])
    query: str = Field(default="", max_length=200)
    filters: list[FilterCondition] = Field(default_factory=list, max_length=50)


class AttributeBody(BaseModel):
    """A custom attribute to define (what ``peoplesync attributes add`` does)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, examples=["loyalty_tier"])
    type: AttributeType = AttributeType.TEXT
    mandatory: bool = False
    description: str = Field(default="", max_length=1000)
    confirm: bool = Field(
        default=False,
        description="Accept that existing persons lack a new mandatory attribute (else 409)",
    )


class AttributeEdit(BaseModel):
    """Changes to a custom attribute (absent: unchanged)."""

    model_config = ConfigDict(extra="forbid")

    type: AttributeType | None = None
    mandatory: bool | None = None
    description: str | None = Field(default=None, max_length=1000)
    confirm: bool = Field(
        default=False,
        description="Accept that persons lack the attribute when it becomes mandatory (else 409)",
    )


def _attribute_json(definition: AttributeDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "type": definition.type.value,
        "mandatory": definition.mandatory,
        "description": definition.description,
    }


async def _segment_json(web: WebContext, segment: Segment) -> dict[str, Any]:
    checked = segment.checked(await web.store.attributes())
    members = await count_matching(web.engine, query=segment.query, conditions=checked)
    return {**segment.json(), "members": members}


async def _save(
    web: WebContext, body: SegmentBody, author: str, segment_id: str | None
) -> dict[str, Any]:
    saved = await segments_of(web).save(
        name=body.name,
        query=body.query,
        conditions=[Condition(c.field, c.op, c.value) for c in body.filters],
        definitions=await web.store.attributes(),
        author=author,
        segment_id=segment_id,
    )
    return await _segment_json(web, saved)


@router.get("/segments", tags=["segments"])
async def list_segments(web: Context, _user: ApiUser) -> dict[str, Any]:
    """Every saved segment (without member counts; ask for one segment to count it)."""
    return {"items": [s.json() for s in await segments_of(web).list()]}


@router.post("/segments", status_code=201, tags=["segments"])
async def create_segment(web: Context, user: ApiAdmin, body: SegmentBody) -> dict[str, Any]:
    """Save a segment (admins only); bad filters name ``filters[i].field/op/value``."""
    return await _save(web, body, user.email, None)


@router.get("/segments/{segment_id}", tags=["segments"])
async def get_segment(web: Context, _user: ApiUser, segment_id: str) -> dict[str, Any]:
    """A segment with its member count (list them with GET /persons?segment=ID)."""
    return await _segment_json(web, await segments_of(web).get(segment_id))


@router.put("/segments/{segment_id}", tags=["segments"])
async def replace_segment(
    web: Context, user: ApiAdmin, segment_id: str, body: SegmentBody
) -> dict[str, Any]:
    """Change a segment's name or filter (admins only)."""
    await segments_of(web).get(segment_id)
    return await _save(web, body, user.email, segment_id)


@router.delete("/segments/{segment_id}", status_code=204, tags=["segments"])
async def delete_segment(web: Context, _user: ApiAdmin, segment_id: str) -> Response:
    """Forget a segment; its persons stay (admins only)."""
    await segments_of(web).delete(segment_id)
    return Response(status_code=204)


@router.get("/attributes", tags=["attributes"])
async def list_attributes(web: Context, _user: ApiUser) -> dict[str, Any]:
    """Custom attribute definitions."""
    return {"items": [_attribute_json(d) for d in (await web.store.attributes()).values()]}


@router.post("/attributes", status_code=201, tags=["attributes"])
async def add_attribute(web: Context, user: ApiAdmin, body: AttributeBody) -> dict[str, Any]:
    """Define a new custom attribute (admins only). An existing name is a 409
    ATTRIBUTE_EXISTS (change it with PUT); a mandatory one while persons exist is a 409
    CONFIRMATION_REQUIRED naming how many lack it, unless ``confirm`` is true."""
    saved = await define(
        web,
        user.email,
        body.name,
        body.type.value,
        body.mandatory,
        body.description,
        confirm=body.confirm,
    )
    return _attribute_json(saved)


@router.put("/attributes/{name}", tags=["attributes"])
async def change_attribute(
    web: Context,
    user: ApiAdmin,
    name: Annotated[str, Path(max_length=63)],
    body: AttributeEdit,
) -> dict[str, Any]:
    """Change a custom attribute's type, mandatory flag or description (admins only).
    Making it mandatory while persons lack it is a 409 CONFIRMATION_REQUIRED naming how many,
    unless ``confirm`` is true; the type cannot change once persons have values."""
    saved = await edit_attribute(
        web.store,
        name,
        origin=origin(user),
        kind=body.type,
        mandatory=body.mandatory,
        description=None
        if body.description is None
        else checked_description(name, body.description),
        confirm=body.confirm,
    )
    return _attribute_json(saved)


def _mapping(text: str) -> dict[str, str] | None:
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError(
            'expected a JSON object {"column": "attribute"}', record="mapping", field="mapping"
        )
    return {k: v for k, v in value.items() if v}


@router.post("/imports", tags=["import and export"])
async def import_persons(
    web: Context,
    user: ApiAdmin,
    file: Annotated[UploadFile, File(description="A .csv (UTF-8) or .xlsx file")],
    mapping: Annotated[
        str, Form(max_length=20_000, description='JSON {"column": "attribute"}; default: by name')
    ] = "",
    dry_run: Annotated[bool, Query(description="Check every row, save nothing")] = False,
) -> dict[str, Any]:
    """Import persons (admins only). Rows with errors are reported (row, field, message) and
    skipped; the other rows are saved. ``dry_run`` saves nothing."""
    chosen = _mapping(mapping)
    token, kind, path = await receive_upload(file, user.id)
    try:
        report = await run_import(
            web.store, path, kind, mapping=chosen, origin=origin(user), dry_run=dry_run
        )
    finally:
        forget_upload(token)
    return report.json()


@router.get(
    "/exports",
    tags=["import and export"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/octet-stream": {}}}},
)
async def export_persons(
    web: Context,
    _user: ApiUser,
    format: Annotated[str, Query(max_length=10, description="csv or xlsx")] = "csv",
    segment: Annotated[str | None, Query(max_length=32, description="Segment id")] = None,
    q: Annotated[str, Query(max_length=200, description="Name or email prefix")] = "",
    filter: Annotated[
        list[str], Query(max_length=50, description="field:op:value, e.g. country:equals:UK")
    ] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    """All persons, a segment's or a filter's, as CSV or XLSX (streamed)."""
    return await export_response(
        web.store,
        web.engine,
        kind=export_kind(format),
        query=q,
        conditions=conditions_from_text(filter),
        segment_id=segment,
    )


__all__ = ["router"]
