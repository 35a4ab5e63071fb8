"""OAuth 2.0 grants, PKCE, JWT bearer, refresh, revoke, expiry; identity and SOAP login."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import API, Org

REDIRECT = "https://app.example/callback"


async def token(org: Org, **form: str) -> tuple[int, dict[str, object]]:
    response = await org.client.post(
        "/services/oauth2/token", data=form, headers={"Authorization": ""}
    )
    return response.status_code, response.json()


async def authorize(org: Org, challenge: str | None) -> str:
    params = {
        "response_type": "code",
        "client_id": org.config.client_id,
        "redirect_uri": REDIRECT,
        "state": "xyz",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = await org.client.get("/services/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert "Allow access?" in page.text
    decision = await org.client.post(
        "/services/oauth2/authorize", data={**params, "decision": "allow"}
    )
    assert decision.status_code == 302
    query = parse_qs(urlparse(decision.headers["location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


async def test_authorization_code_with_pkce_refresh_and_revoke(org: Org) -> None:
    verifier = "v" * 64
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    code = await authorize(org, challenge)
    status, body = await token(
        org,
        grant_type="authorization_code",
        code=code,
        client_id=org.config.client_id,
        redirect_uri=REDIRECT,
        code_verifier="wrong",
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    code = await authorize(org, challenge)
    status, body = await token(
        org,
        grant_type="authorization_code",
        code=code,
        client_id=org.config.client_id,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert status == 200
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == org.config.instance_url
    assert str(body["id"]).endswith(f"/id/{org.config.org_id}/{org.config.user_id}")
    assert len(str(body["issued_at"])) == 13
    reused = await token(
        org,
        grant_type="authorization_code",
        code=code,
        client_id=org.config.client_id,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert reused[0] == 400
    refresh = str(body["refresh_token"])
    status, renewed = await token(
        org, grant_type="refresh_token", refresh_token=refresh, client_id=org.config.client_id
    )
    assert status == 200
    access = str(renewed["access_token"])
    headers = {"Authorization": f"Bearer {access}"}
    assert (await org.client.get(f"{API}/limits", headers=headers)).status_code == 200
    identity = await org.client.get(
        str(body["id"]).replace(org.config.instance_url, ""), headers=headers
    )
    assert identity.json()["username"] == org.config.username
    await org.client.post("/services/oauth2/revoke", data={"token": refresh})
    after = await org.client.get(f"{API}/limits", headers=headers)
    assert after.status_code == 401  # access tokens die with their refresh token
    status, body = await token(
        org, grant_type="refresh_token", refresh_token=refresh, client_id=org.config.client_id
    )
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_denied_consent_redirects_with_error(org: Org) -> None:
    params = {
        "response_type": "code",
        "client_id": org.config.client_id,
        "redirect_uri": REDIRECT,
        "state": "s",
    }
    denied = await org.client.post(
        "/services/oauth2/authorize", data={**params, "decision": "deny"}
    )
    assert parse_qs(urlparse(denied.headers["location"]).query)["error"] == ["access_denied"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {
                "grant_type": "password",
                "client_id": "nope",
                "client_secret": "x",
                "username": "u",
                "password": "p",
            },
            "invalid_client_id",
        ),
        (
            {"grant_type": "password", "client_secret": "wrong", "username": "u", "password": "p"},
            "invalid_client",
        ),
        (
            {
                "grant_type": "password",
                "username": "admin@sandbox.peoplesync.local",
                "password": "bad",
            },
            "invalid_grant",
        ),
        ({"grant_type": "magic"}, "unsupported_grant_type"),
    ],
)
async def test_token_errors(org: Org, form: dict[str, str], error: str) -> None:
    form = {"client_id": org.config.client_id, "client_secret": org.config.client_secret, **form}
    status, body = await token(org, **form)
    assert status == 400
    assert body["error"] == error
    assert "error_description" in body


async def test_client_credentials_with_basic_auth_and_expiry(org: Org) -> None:
    basic = base64.b64encode(f"{org.config.client_id}:{org.config.client_secret}".encode()).decode()
    response = await org.client.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    access = response.json()["access_token"]
    org.config.token_lifetime_seconds = 60
    short = (
        await org.client.post(
            "/services/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
    ).json()["access_token"]
    org.clock.advance(seconds=61)
    expired = await org.client.get(f"{API}/limits", headers={"Authorization": f"Bearer {short}"})
    assert expired.status_code == 401
    assert expired.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert (
        await org.client.get(f"{API}/limits", headers={"Authorization": f"Bearer {access}"})
    ).status_code == 200


async def test_jwt_bearer_with_registered_certificate(org: Org) -> None:
    key = (org.config.data_dir / "jwt-key.pem").read_bytes()
    claims = {
        "iss": org.config.client_id,
        "sub": org.config.username,
        "aud": org.config.instance_url,
        "exp": str(int(org.clock.now.timestamp()) + 120),
    }
    assertion = jwt.encode(claims, key, algorithm="RS256")
    status, body = await token(
        org, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=assertion
    )
    assert status == 200
    assert "refresh_token" not in body
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256")
    status, body = await token(
        org, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=forged
    )
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_soap_login_success_and_fault(org: Org) -> None:
    def envelope(password: str) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">'
            '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">'
            f"<n1:username>{org.config.username}</n1:username><n1:password>{password}</n1:password>"
            "</n1:login></env:Body></env:Envelope>"
        )

    ok = await org.client.post(
        "/services/Soap/u/59.0",
        content=envelope(org.config.password),
        headers={"SOAPAction": "login"},
    )
    assert ok.status_code == 200
    assert "<sessionId>" in ok.text
    assert f"<serverUrl>{org.config.instance_url}/services/Soap/u/59.0/" in ok.text
    session = ok.text.split("<sessionId>")[1].split("</sessionId>")[0]
    assert (
        await org.client.get(f"{API}/limits", headers={"Authorization": f"Bearer {session}"})
    ).status_code == 200
    bad = await org.client.post(
        "/services/Soap/u/59.0", content=envelope("wrong"), headers={"SOAPAction": "login"}
    )
    assert bad.status_code == 500
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in bad.text
