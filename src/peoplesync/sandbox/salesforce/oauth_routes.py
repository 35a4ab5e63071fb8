"""OAuth 2.0 endpoints, identity and userinfo, and the SOAP login."""

from __future__ import annotations

import base64
import html
import xml.etree.ElementTree as ElementTree
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext, json_response
from peoplesync.sandbox.salesforce.auth import OAuthError, Principal, SessionError

PARTNER = "urn:partner.soap.sforce.com"
SoapHandler = Callable[[Principal, ElementTree.Element], Awaitable[str]]
ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    decoded = base64.b64decode(header[6:]).decode()
    user, _, secret = decoded.partition(":")
    return user, secret


def soap_fault(code: str, message: str, status: int = 500) -> Response:
    """A SOAP fault in the shape clients parse (prefixed sf: detail elements)."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{ENVELOPE}" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{escape(code)}: {escape(message)}</faultstring>"
        f'<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:LoginFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status_code=status, media_type="text/xml;charset=UTF-8")


def soap_response(inner: str) -> Response:
    """A SOAP envelope around ``inner`` (the partner namespace is the default namespace)."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{ENVELOPE}" '
        f'xmlns="{PARTNER}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, media_type="text/xml;charset=UTF-8")


def routes(ctx: ApiContext, soap_operations: Mapping[str, SoapHandler]) -> list[Route]:
    """Routes for /services/oauth2/*, /id/..., and /services/Soap/u/{version}."""
    auth = ctx.auth
    config = ctx.config

    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        form.update({k: v for k, v in request.query_params.items() if k not in form})
        try:
            body = await auth.token(form, _basic(request))
        except OAuthError as exc:
            return json_response(
                {"error": exc.error, "error_description": exc.description}, exc.status
            )
        return json_response(body)

    async def authorize(request: Request) -> Response:
        params = (
            dict(request.query_params)
            if request.method == "GET"
            else {k: str(v) for k, v in (await request.form()).items()}
        )
        redirect_uri = params.get("redirect_uri", "")
        state = params.get("state")
        if params.get("client_id") != config.client_id:
            return HTMLResponse(
                "<h1>error=invalid_client_id</h1><p>client identifier invalid</p>", 400
            )
        if params.get("response_type", "code") != "code" or not redirect_uri:
            return HTMLResponse("<h1>error=unsupported_response_type</h1>", 400)
        if request.method == "GET":
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in params.items()
            )
            scopes = html.escape(params.get("scope", "api refresh_token"))
            page = (
                "<!doctype html><html><head><title>Allow access?</title></head><body>"
                f"<h1>Allow access?</h1><p>The app <b>peoplesync</b> is asking to access <b>{html.escape(config.org_name)}</b> "
                f"as <b>{html.escape(config.username)}</b> with scopes: {scopes}.</p>"
                f'<form method="post">{hidden}<button name="decision" value="allow" id="oaapprove">Allow</button> '
                '<button name="decision" value="deny" id="oadeny">Deny</button></form></body></html>'
            )
            return HTMLResponse(page)
        query: dict[str, str] = {}
        if params.get("decision") == "allow":
            query["code"] = await auth.authorization_code(
                redirect_uri,
                params.get("code_challenge", ""),
                params.get("code_challenge_method", "plain"),
            )
        else:
            query.update(error="access_denied", error_description="end-user denied authorization")
        if state is not None:
            query["state"] = state
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}", status_code=302)

    async def revoke(request: Request) -> Response:
        form = await request.form() if request.method == "POST" else request.query_params
        value = form.get("token")
        if not value:
            return Response(
                "error=unsupported_token_type&error_description=missing+token",
                400,
                media_type="application/x-www-form-urlencoded",
            )
        await auth.revoke(str(value))
        return Response(status_code=200)

    def identity_body() -> dict[str, object]:
        base = config.instance_url
        return {
            "id": auth.identity_url,
            "asserted_user": True,
            "user_id": config.user_id,
            "organization_id": config.org_id,
            "username": config.username,
            "nick_name": config.username.split("@")[0],
            "display_name": "Sandbox Admin",
            "email": config.username,
            "email_verified": True,
            "first_name": "Sandbox",
            "last_name": "Admin",
            "timezone": "UTC",
            "active": True,
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "urls": {
                "rest": f"{base}/services/data/v{{version}}/",
                "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
                "query": f"{base}/services/data/v{{version}}/query/",
                "profile": f"{base}/{config.user_id}",
            },
            "is_app_installed": True,
        }

    async def identity(request: Request) -> Response:
        try:
            await auth.authenticate(request)
        except SessionError:
            return Response("Bad_OAuth_Token", status_code=403)
        return json_response(identity_body())

    async def userinfo(request: Request) -> Response:
        try:
            await auth.authenticate(request)
        except SessionError:
            return Response("Bad_OAuth_Token", status_code=403)
        body = identity_body()
        return json_response(
            {
                "sub": auth.identity_url,
                "user_id": config.user_id,
                "organization_id": config.org_id,
                "preferred_username": config.username,
                "name": body["display_name"],
                "given_name": body["first_name"],
                "family_name": body["last_name"],
                "email": config.username,
                "email_verified": True,
                "zoneinfo": "UTC",
                "locale": "en_US",
                "active": True,
                "user_type": "STANDARD",
                "urls": body["urls"],
            }
        )

    async def soap(request: Request) -> Response:
        version = request.path_params["version"]
        try:
            # expat (3.11+) limits entity expansion; no external entities are fetched.
            root = ElementTree.fromstring(await request.body())  # noqa: S314
        except ElementTree.ParseError:
            return soap_fault("INVALID_XML", "the request is not well-formed XML")
        body = root.find(f"{{{ENVELOPE}}}Body")
        operation = body[0] if body is not None and len(body) else None
        if operation is None:
            return soap_fault("INVALID_OPERATION", "no operation in the SOAP body")
        name = operation.tag.rpartition("}")[2]
        if name == "login":
            username = operation.findtext(f"{{{PARTNER}}}username") or ""
            password = operation.findtext(f"{{{PARTNER}}}password") or ""
            try:
                session = await auth.soap_session(username, password)
            except SessionError:
                return soap_fault(
                    "INVALID_LOGIN",
                    "Invalid username, password, security token; or user locked out.",
                )
            server = f"{config.instance_url}/services/Soap/u/{version}/{config.org_id[:15]}"
            inner = (
                "<loginResponse><result>"
                f"<metadataServerUrl>{config.instance_url}/services/Soap/m/{version}/{config.org_id[:15]}</metadataServerUrl>"
                "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
                f"<serverUrl>{server}</serverUrl><sessionId>{session}</sessionId><userId>{config.user_id}</userId>"
                f"<userInfo><organizationId>{config.org_id}</organizationId><organizationName>{escape(config.org_name)}</organizationName>"
                f"<sessionSecondsValid>{config.token_lifetime_seconds}</sessionSecondsValid><userEmail>{escape(config.username)}</userEmail>"
                f"<userFullName>Sandbox Admin</userFullName><userId>{config.user_id}</userId><userLanguage>en_US</userLanguage>"
                f"<userLocale>en_US</userLocale><userName>{escape(config.username)}</userName><userTimeZone>UTC</userTimeZone>"
                "<userType>Standard</userType></userInfo></result></loginResponse>"
            )
            return soap_response(inner)
        session_id = root.findtext(f".//{{{PARTNER}}}sessionId") or ""
        try:
            principal = await auth.session(session_id.strip())
        except SessionError:
            return soap_fault(
                "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session"
            )
        handler = soap_operations.get(name)
        if handler is None:
            return soap_fault(
                "INVALID_OPERATION", f"No operation available for request {{{PARTNER}}}{name}"
            )
        inner = await handler(principal, operation)
        return soap_response(str(inner))

    return [
        Route("/services/oauth2/token", token, methods=["POST"]),
        Route("/services/oauth2/authorize", authorize, methods=["GET", "POST"]),
        Route("/services/oauth2/revoke", revoke, methods=["GET", "POST"]),
        Route("/services/oauth2/userinfo", userinfo, methods=["GET", "POST"]),
        Route("/id/{org}/{user}", identity, methods=["GET", "POST"]),
        Route("/services/Soap/u/{version}", soap, methods=["POST"]),
        Route("/services/Soap/u/{version}/{org}", soap, methods=["POST"]),
    ]
