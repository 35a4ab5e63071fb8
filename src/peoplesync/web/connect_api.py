"""REST twins of Apps -> Salesforce: the integration list and starting a connection (the
browser then follows the returned authorize URL; the callback page completes it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from peoplesync.errors import ValidationError
from peoplesync.sync.integration import integration_names
from peoplesync.web.access import SESSION_COOKIE, ApiAdmin, ApiUser, Context
from peoplesync.web.connect_pages import callback_url, connect_request, connector_of
from peoplesync.web.integration_view import integrations_overview
from peoplesync.web.salesforce_connect import session_binding, user_binding

router = APIRouter(tags=["salesforce"])


class IntegrationItem(BaseModel):
    """One Salesforce integration."""

    name: str
    state: str = Field(examples=["active"])
    reason: str
    login_url: str | None
    instance_url: str | None = Field(description="Where the org's records open")
    organization_id: str | None = Field(
        description="The org's Organization id (an org is connected once)"
    )
    outbound_awaiting_review: list[str] = Field(
        description="Outbound steps that write nothing until a user reviews the push preview "
        "and enables them (a new integration's start)"
    )
    workers: bool | None = Field(description="Whether its sync workers run in this process")
    status_url: str


class IntegrationList(BaseModel):
    """Every Salesforce integration."""

    items: list[IntegrationItem]


class ConnectBody(BaseModel):
    """Which org to connect, and the connected app that asks for access."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        "",
        max_length=60,
        examples=["default"],
        description="A name no integration has (empty: 'default', or a free one), or the "
        "integration to reconnect",
    )
    reconnect: bool = Field(
        False, description="Renew the access of the integration called name (same org only)"
    )
    environment: Literal["production", "sandbox", "custom"] = "production"
    login_url: str = Field(
        "",
        max_length=500,
        description="For custom: the org's login URL (given alone, the environment is custom)",
    )
    ca_cert: str = Field(
        "", max_length=1000, description="For custom: a CA certificate file on the server"
    )
    client_id: str = Field(max_length=255, description="The connected app's consumer key")
    client_secret: str = Field("", max_length=500, description="Its consumer secret, if any")


class ConnectStarted(BaseModel):
    """Open ``authorize_url`` in a browser logged in to peoplesync as the same user."""

    authorize_url: str
    redirect_uri: str
    state: str
    expires_at: datetime


@router.get("/integrations")
async def integrations(request: Request, web: Context, _user: ApiUser) -> IntegrationList:
    """Every Salesforce integration with its state."""
    connector = getattr(request.app.state, "connector", None)
    shown = await integrations_overview(web.store, web.engine, web.statuses, connector)
    return IntegrationList(items=[IntegrationItem(**item) for item in shown])


@router.post("/integrations/connect", status_code=201)
async def start_connect(
    request: Request, web: Context, user: ApiAdmin, body: ConnectBody
) -> ConnectStarted:
    """Start connecting an org (admins only): returns the authorize URL to open in a browser
    logged in to peoplesync as the same user; Salesforce then redirects to the callback page,
    which stores the integration."""
    connector = connector_of(request)
    values: dict[str, Any] = body.model_dump()
    if body.login_url.strip() and body.environment != "custom":
        if "environment" in body.model_fields_set:
            raise ValidationError(
                f"a login URL is used only with environment custom, not {body.environment}",
                record="connect",
                field="login_url",
                hint="set environment to custom, or leave login_url empty",
            )
        values["environment"] = "custom"  # the login URL names the org; production ignored it
    if "Authorization" in request.headers:
        binding = user_binding(user.id)
    else:
        binding = session_binding(request.cookies.get(SESSION_COOKIE, ""))
    pending = await connector.begin(
        connect_request(values),
        callback_url(request),
        binding=binding,
        user_id=user.id,
        email=user.email,
        taken=await integration_names(web.engine),
    )
    return ConnectStarted(
        authorize_url=pending.authorization.url,
        redirect_uri=pending.authorization.redirect_uri,
        state=pending.authorization.state,
        expires_at=pending.expires_at,
    )


__all__ = ["router"]
