"""The REST API under /api/v1: persons, integration status, pause and resume (OpenAPI at
/api/v1/openapi.json). Every error has the body {"error": {code, message, field, hint}}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from peoplesync.errors import PeopleSyncError
from peoplesync.people.model import PersonInput
from peoplesync.people.person_search import MAX_PAGE, list_persons
from peoplesync.web import people_api
from peoplesync.web.access import ApiAdmin, ApiUser, Context
from peoplesync.web.connect_api import router as connect_router
from peoplesync.web.error_bodies import (
    ErrorBody,
    body_fields,
    from_error,
    from_http,
    from_validation,
)
from peoplesync.web.integration_view import (
    integration_status,
    pause_integration,
    resume_integration,
)
from peoplesync.web.people_filters import conditions_from_text, resolve
from peoplesync.web.person_view import details_json, person_details, person_json, save_person
from peoplesync.web.schedule_api import router as schedule_router
from peoplesync.web.steps_api import router as steps_router
from peoplesync.web.transfer_api import router as transfer_api


class PersonCreate(BaseModel):
    """A new person: attribute values by name, emails and phones (the first is primary)."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(default_factory=dict, examples=[{"first_name": "Ada"}])
    emails: list[str] = Field(default_factory=list, examples=[["ada@example.com"]])
    phones: list[str] = Field(default_factory=list, examples=[["+14155550123"]])


class PersonPatch(BaseModel):
    """Changes to a person: only the values given change (null clears); emails or phones,
    when given, replace the lists."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(default_factory=dict, examples=[{"city": "London"}])
    emails: list[str] | None = None
    phones: list[str] | None = None


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str
    message: str
    field: str | None
    hint: str


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


PersonId = Annotated[str, Path(max_length=32, description="A person's id")]
IntegrationName = Annotated[str, Path(max_length=100, description="An integration's name")]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 409, 422, 429)
}


def _respond(body: ErrorBody, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.json(), status_code=body.status, headers=headers)


def create_api() -> FastAPI:
    """The REST API application (mounted at /api/v1 by ``create_app``)."""
    api = FastAPI(
        title="peoplesync",
        version="1",
        docs_url=None,  # the docs UIs load scripts from a CDN; the document is enough
        redoc_url=None,
        responses=_ERRORS,
    )

    @api.exception_handler(PeopleSyncError)
    async def _ours(_request: Request, error: PeopleSyncError) -> JSONResponse:
        return _respond(from_error(error))

    @api.exception_handler(HTTPException)
    async def _http(_request: Request, error: HTTPException) -> JSONResponse:
        return _respond(from_http(error), error.headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return _respond(from_validation(error, body_fields(request)))

    @api.exception_handler(Exception)
    async def _unexpected(_request: Request, _error: Exception) -> JSONResponse:
        body = ErrorBody(500, "INTERNAL", "something went wrong on the server; it is logged")
        return _respond(body)

    @api.get("/persons", tags=["persons"])
    async def persons(
        web: Context,
        _user: ApiUser,
        q: Annotated[str, Query(max_length=200, description="Name or email prefix")] = "",
        after: Annotated[str | None, Query(max_length=32, description="Cursor")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        filter: Annotated[
            list[str], Query(max_length=50, description="field:op:value, e.g. country:equals:UK")
        ] = [],  # noqa: B006 - FastAPI copies defaults
        segment: Annotated[str | None, Query(max_length=32, description="Segment id")] = None,
    ) -> dict[str, Any]:
        """Persons, newest first; search by name or email prefix; filter by attributes
        (equals, contains, empty, not_empty, gt, gte, lt, lte) or a segment; keyset pages."""
        definitions = await web.store.attributes()
        found, checked = await resolve(
            web.store, web.engine, conditions_from_text(filter), segment, definitions
        )
        query = q or (found.query if found else "")
        page = await list_persons(
            web.store, web.engine, query=query, conditions=checked, after=after, limit=limit
        )
        return {"items": [person_json(p) for p in page.persons], "next": page.next_cursor}

    @api.get("/persons/{person_id}", tags=["persons"])
    async def person(web: Context, _user: ApiUser, person_id: PersonId) -> dict[str, Any]:
        """A person with company, links to Salesforce records and timeline."""
        return details_json(await person_details(web.store, person_id))

    @api.post("/persons", status_code=201, tags=["persons"])
    async def create_person(web: Context, user: ApiAdmin, body: PersonCreate) -> dict[str, Any]:
        """Create a person (admins only)."""
        item = PersonInput(values=body.values, emails=body.emails, phones=body.phones, key="body")
        saved = await save_person(web.store, item, user)
        return details_json(await person_details(web.store, saved))

    @api.patch("/persons/{person_id}", tags=["persons"])
    async def patch_person(
        web: Context, user: ApiAdmin, person_id: PersonId, body: PersonPatch
    ) -> dict[str, Any]:
        """Change some of a person's values (admins only)."""
        await person_details(web.store, person_id)  # 404 before anything else
        item = PersonInput(
            values=body.values, emails=body.emails, phones=body.phones, id=person_id, key=person_id
        )
        await save_person(web.store, item, user)
        return details_json(await person_details(web.store, person_id))

    @api.get("/integrations/{name}/status", tags=["salesforce"])
    async def status(
        web: Context,
        _user: ApiUser,
        name: IntegrationName,
        days: Annotated[int, Query(ge=1, le=90)] = 7,
    ) -> dict[str, Any]:
        """State, last sync per step, counts per day, problems grouped by code, recent log."""
        return await integration_status(web.store, web.statuses, name, days=days)

    @api.post("/integrations/{name}/pause", tags=["salesforce"])
    async def pause(web: Context, user: ApiAdmin, name: IntegrationName) -> dict[str, str]:
        """Pause the integration (admins only)."""
        state = await pause_integration(web.store, web.statuses, name, user)
        return {"integration": name, "state": state}

    @api.post("/integrations/{name}/resume", tags=["salesforce"])
    async def resume(web: Context, user: ApiAdmin, name: IntegrationName) -> dict[str, str]:
        """Resume the integration (admins only)."""
        state = await resume_integration(web.store, web.statuses, name, user)
        return {"integration": name, "state": state}

    api.include_router(steps_router)
    api.include_router(schedule_router)
    api.include_router(transfer_api)
    api.include_router(connect_router)

    @api.get("/me", tags=["access"])
    async def me(user: ApiUser) -> dict[str, str]:
        """Who the caller is."""
        return {"id": user.id, "email": user.email, "role": user.role.value}

    api.include_router(people_api.router)
    return api


__all__ = ["create_api"]
