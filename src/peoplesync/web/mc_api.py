"""REST twins of the Marketing Cloud pages: business units (list, add, one, edit, remove),
a connection test and a deploy of the data extensions. Same auth and error body as /api/v1;
secrets are accepted, sealed, and never returned."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from peoplesync.errors import NotFoundError
from peoplesync.marketing_cloud.last_pass import LastPasses
from peoplesync.marketing_cloud.operations import check_connection, deploy_unit
from peoplesync.web.access import ApiAdmin, ApiUser
from peoplesync.web.mc_view import base_url, mc_of, settings_from, unit_json, unit_values

router = APIRouter(prefix="/marketing-cloud/units", tags=["marketing-cloud"])
UnitName = Annotated[str, Path(max_length=60, description="A business unit's name")]
_URL = Field(None, max_length=500)
_REQUIRED = frozenset({"mid", "client_id", "auth_url", "report_storage"})


class UnitChange(BaseModel):
    """Fields of a business unit; on PATCH, a field left out keeps its value (an empty
    string clears an optional one; secrets cannot be cleared, only replaced)."""

    model_config = ConfigDict(extra="forbid")

    mid: str | None = Field(None, max_length=20, examples=["510000042"])
    client_id: str | None = Field(None, max_length=100)
    client_secret: str | None = Field(None, max_length=500, description="Sealed, never returned")
    auth_url: str | None = Field(
        None, max_length=500, examples=["https://mcxxxx.auth.marketingcloudapis.com/"]
    )
    jwt_secret: str | None = Field(None, max_length=500, description="Sealed, never returned")
    salt_key: str | None = Field(None, max_length=500, description="Sealed, never returned")
    salt_key_name: str | None = Field(
        None,
        max_length=200,
        description="The salt key's customerKey (Key Management external key); without "
        "it the key is the unit's unnamed one",
    )
    default_account: str | None = Field(None, max_length=100)
    short_domain: str | None = Field(None, max_length=253)
    report_storage: str | None = Field(None, max_length=10, examples=["native", "external"])
    reports_webhook_url: str | None = _URL
    clicks_webhook_url: str | None = _URL
    inbound_webhook_url: str | None = _URL
    event_definition_key: str | None = Field(None, max_length=200)
    ca_cert: str | None = Field(None, max_length=1000, description="A CA file on the server")


class UnitCreate(UnitChange):
    """A new business unit: name, MID, client id and secret and auth URL are required."""

    name: str = Field(max_length=60, examples=["acme-emea"])
    mid: str | None = Field(max_length=20, examples=["510000042"])
    client_id: str | None = Field(max_length=100)
    client_secret: str | None = Field(max_length=500, description="Sealed, never returned")
    auth_url: str | None = Field(max_length=500)


@router.get("")
async def list_units(request: Request, _user: ApiUser) -> dict[str, Any]:
    """Every business unit with its activity endpoints (never a secret)."""
    base = base_url(request)
    return {"items": [unit_json(unit, base) for unit in await mc_of(request).units.list()]}


@router.post("", status_code=201)
async def add_unit(request: Request, _user: ApiAdmin, body: UnitCreate) -> dict[str, Any]:
    """Add a business unit (admins only); a bad or missing field answers 422 naming it, a
    name or MID another unit has 409."""
    values = {key: value for key, value in body.model_dump().items() if value is not None}
    unit = await mc_of(request).units.add(settings_from(values))
    return unit_json(unit, base_url(request))


@router.get("/{name}")
async def get_unit(request: Request, _user: ApiUser, name: UnitName) -> dict[str, Any]:
    """One business unit, with its last report write-back pass (null before the first)."""
    units = mc_of(request).units
    last = await LastPasses(units.engine, units.clock).get(name)
    shown = unit_json(await units.get(name), base_url(request))
    return shown | {"last_pass": last.as_json() if last else None}


@router.patch("/{name}")
async def edit_unit(
    request: Request, _user: ApiAdmin, name: UnitName, body: UnitChange
) -> dict[str, Any]:
    """Change some of a unit's settings (admins only); secrets left out stay."""
    units = mc_of(request).units
    current = unit_values(await units.get(name))
    given = body.model_dump(exclude_unset=True)
    # null on a field that cannot be empty keeps it, as leaving it out does
    kept = {key for key, value in given.items() if value is None and key in _REQUIRED}
    changes = {key: value or "" for key, value in given.items() if key not in kept}
    values = current | changes | {"name": name}
    unit = await units.edit(name, settings_from(values))
    return unit_json(unit, base_url(request))


@router.delete("/{name}/salt-keys/{key_name}")
async def remove_salt_key(
    request: Request,
    _user: ApiAdmin,
    name: UnitName,
    key_name: Annotated[str, Path(max_length=200, description="The salt key's customerKey")],
) -> dict[str, Any]:
    """Forget one named salt key (admins only): calls naming it are answered 401 from then."""
    unit = await mc_of(request).units.remove_salt_key(name, key_name)
    return unit_json(unit, base_url(request))


@router.delete("/{name}")
async def remove_unit(request: Request, _user: ApiAdmin, name: UnitName) -> dict[str, Any]:
    """Remove a business unit (admins only); its activity endpoints answer 404 from then."""
    if not await mc_of(request).units.remove(name):
        raise NotFoundError(
            f"no business unit named {name!r}",
            record=name,
            field="name",
            web_hint="the Marketing Cloud page lists the business units "
            "(GET /api/v1/marketing-cloud/units)",
        )
    return {"name": name, "removed": True}


@router.post("/{name}/test")
async def check_unit(request: Request, _user: ApiAdmin, name: UnitName) -> dict[str, object]:
    """Fetch a token with the unit's credentials (``/v2/token``): ``ok`` and what came back
    (refused credentials are an answer, ``ok: false``, not an error)."""
    keys = await mc_of(request).units.keys(name)
    return (await check_connection(keys)).shown()


@router.post("/{name}/deploy")
async def deploy(request: Request, _user: ApiAdmin, name: UnitName) -> dict[str, Any]:
    """Create or upgrade the five data extensions (idempotent): per extension ``created``,
    ``upgraded`` (with the columns added) or ``unchanged``. Marketing Cloud refusing the
    credentials answers 409; unreachable, 503."""
    keys = await mc_of(request).units.keys(name)
    return {"name": name, "extensions": [each.shown() for each in await deploy_unit(keys)]}


__all__ = ["router"]
