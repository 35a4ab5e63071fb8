"""Marketing Cloud pages: the business units (list, add), one unit (its activity endpoints to
paste into the installed package, edit, test connection, deploy the data extensions, report
storage, remove after a confirmation). Secrets are sealed at rest and never rendered back."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import PeopleSyncError, SettingError
from peoplesync.marketing_cloud.last_pass import LastPasses
from peoplesync.marketing_cloud.operations import ConnectionCheck, check_connection, deploy_unit
from peoplesync.marketing_cloud.units import problems
from peoplesync.web.access import AdminSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.mc_view import (
    SECRET_FIELDS,
    UNIT_FIELDS,
    WEBHOOKS,
    base_url,
    endpoints,
    mc_of,
    salt_key_endpoints,
    settings_from,
    unit_values,
)
from peoplesync.web.pages import render

router = APIRouter()
KEPT = "kept"  # stands in for a secret left empty on the edit form (the stored one stays)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(form.get(key, ""))[:1000] for key in UNIT_FIELDS}


def _errors(found: list[SettingError]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in found:
        hint = f" ({error.hint_on_web})" if error.hint_on_web else ""
        errors.setdefault(error.field, error.message + hint)
    return errors


def _shown(values: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in values.items() if key not in SECRET_FIELDS}


async def _list_page(
    request: Request,
    web: WebContext,
    session: WebSession,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    return render(
        web,
        request,
        "mc_units.html",
        session,
        422 if errors else 200,
        units=await mc_of(request).units.list(),
        values=values,
        errors=errors or {},
        webhooks=WEBHOOKS,
        notice=notice,
    )


@router.get("/marketing-cloud", include_in_schema=False)
async def units_page(
    request: Request,
    web: Context,
    session: PageSession,
    removed: Annotated[str | None, Query(max_length=60)] = None,
) -> HTMLResponse:
    """Every business unit and the form to add one."""
    notice = f"Business unit “{removed}” removed." if removed else ""
    values = {"auth_url": "https://", "report_storage": "native"}
    return await _list_page(request, web, session, values, notice=notice)


@router.post("/marketing-cloud", include_in_schema=False)
async def add_unit(request: Request, web: Context, session: AdminSession) -> Response:
    """Store the unit (its secrets sealed), or show the form again with every field at fault."""
    values = await _form(request)
    settings = settings_from(values)
    found = list(problems(settings))
    # A name or MID another unit has is shown beside the other fields' errors, not after.
    found += await mc_of(request).units.taken(settings.name or None, settings.mid)
    if not found:
        try:
            await mc_of(request).units.add(settings)
        except SettingError as taken:
            found = [taken]
    if found:
        return await _list_page(request, web, session, _shown(values), _errors(found))
    return RedirectResponse(f"/marketing-cloud/{quote(settings.name, safe='')}", 303)


async def _unit_page(
    request: Request,
    web: WebContext,
    session: WebSession,
    name: str,
    *,
    status: int = 200,
    **shown: Any,
) -> HTMLResponse:
    units = mc_of(request).units
    unit = await units.get(name)
    values = shown.pop("values", None) or unit_values(unit)
    last_pass = await LastPasses(units.engine, units.clock).get(unit.name)
    return render(
        web,
        request,
        "mc_unit.html",
        session,
        status,
        unit=unit,
        endpoints=endpoints(base_url(request), unit.name),
        salt_endpoints=salt_key_endpoints(base_url(request), unit),
        values=values,
        errors=shown.pop("errors", {}),
        webhooks=WEBHOOKS,
        last_pass=last_pass,
        **shown,
    )


@router.get("/marketing-cloud/{name}", include_in_schema=False)
async def unit_page(
    request: Request,
    web: Context,
    session: PageSession,
    name: str,
    saved: Annotated[str | None, Query(max_length=1)] = None,
) -> HTMLResponse:
    """One unit: endpoints, test, deploy, settings, remove."""
    notice = "Settings saved." if saved else ""
    return await _unit_page(request, web, session, name, notice=notice)


@router.post("/marketing-cloud/{name}", include_in_schema=False)
async def edit_unit(request: Request, web: Context, session: AdminSession, name: str) -> Response:
    """Save the unit's settings; a secret left empty keeps the stored one."""
    units = mc_of(request).units
    await units.get(name)
    values = await _form(request) | {"name": name}
    settings = settings_from(values)
    checked = replace(settings, client_secret=settings.client_secret or KEPT)
    found = list(problems(checked)) + await units.taken(None, settings.mid, name)
    if not found:
        try:
            await units.edit(name, settings)
        except SettingError as taken:
            found = [taken]
    if found:
        return await _unit_page(
            request, web, session, name, status=422, values=_shown(values), errors=_errors(found)
        )
    return RedirectResponse(f"/marketing-cloud/{quote(name, safe='')}?saved=1", 303)


@router.post("/marketing-cloud/{name}/test", include_in_schema=False)
async def check_unit(request: Request, web: Context, session: AdminSession, name: str) -> Response:
    """Fetch a token with the unit's credentials and show what came back."""
    keys = await mc_of(request).units.keys(name)
    try:
        result = await check_connection(keys)
    except SettingError as error:  # e.g. its CA file is gone
        failed = ConnectionCheck(False, str(error))
        return await _unit_page(request, web, session, name, status=422, connection=failed)
    return await _unit_page(request, web, session, name, connection=result)


@router.post("/marketing-cloud/{name}/deploy", include_in_schema=False)
async def deploy_page(request: Request, web: Context, session: AdminSession, name: str) -> Response:
    """Create or upgrade the five data extensions; show what happened to each."""
    keys = await mc_of(request).units.keys(name)
    try:
        deployed = await deploy_unit(keys)
    except PeopleSyncError as error:
        return await _unit_page(request, web, session, name, status=502, deploy_error=str(error))
    return await _unit_page(request, web, session, name, deployed=deployed)


@router.post("/marketing-cloud/{name}/remove", include_in_schema=False)
async def remove_unit(request: Request, web: Context, session: AdminSession, name: str) -> Response:
    """Ask first; with the confirmation, remove the unit (its endpoints stop answering)."""
    form = await request.form()
    units = mc_of(request).units
    await units.get(name)
    if form.get("confirm") != "1":
        return await _unit_page(request, web, session, name, status=409, confirm_remove=True)
    await units.remove(name)
    return RedirectResponse(f"/marketing-cloud?removed={quote(name, safe='')}", 303)


__all__ = ["router"]
