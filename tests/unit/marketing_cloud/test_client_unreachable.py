"""A business unit whose server cannot be reached says why when the reason is one the user can
fix: an untrusted TLS certificate asks for the unit's CA file."""

from __future__ import annotations

import ssl

import httpx
import pytest

from peoplesync.marketing_cloud.api_errors import MarketingCloudUnavailableError
from peoplesync.marketing_cloud.client import MarketingCloudClient, RetryPolicy

VERIFY_FAILED = (
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in "
    "certificate chain (_ssl.c:1006)"
)


def _untrusted(request: httpx.Request) -> httpx.Response:
    """As httpx fails on a server whose certificate no trusted CA signed."""
    try:
        raise ssl.SSLCertVerificationError(1, VERIFY_FAILED)
    except ssl.SSLCertVerificationError as failure:
        raise httpx.ConnectError(str(failure), request=request) from None


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("All connection attempts failed", request=request)


async def _check(handler: httpx.MockTransport) -> str:
    async with httpx.AsyncClient(transport=handler) as http:
        client = MarketingCloudClient(
            "https://mc.example.test", "id", "secret", "510000042", http, retry=RetryPolicy(1)
        )
        with pytest.raises(MarketingCloudUnavailableError) as failed:
            await client.check_credentials()
    return failed.value.message


async def test_an_untrusted_certificate_asks_for_the_units_ca_file() -> None:
    said = await _check(httpx.MockTransport(_untrusted))
    assert said == (
        "Marketing Cloud auth for MID 510000042 unreachable: ConnectError, its TLS certificate "
        "is not trusted (give the unit's CA file)"
    )


async def test_another_connection_failure_names_its_kind_only() -> None:
    said = await _check(httpx.MockTransport(_refused))
    assert said == "Marketing Cloud auth for MID 510000042 unreachable: ConnectError"
