"""Retry failed records with none failed: back on the status page, which says so, instead of
an error page (against a served sandbox org, as the button is used)."""

from __future__ import annotations

from tests.web.conftest import ADMIN_EMAIL, ClientFactory, Users
from tests.web.steps_org import app, org
from tests.web.test_pages import csrf_of, log_in

__all__ = ["app", "org"]  # fixtures: the app connected to a served org


async def test_retry_with_no_failed_records_returns_to_the_status_page_saying_so(
    client: ClientFactory, users: Users
) -> None:
    async with client() as page:
        assert (await log_in(page, ADMIN_EMAIL)).status_code == 303
        status = await page.get("/salesforce/status", params={"name": "default"})
        assert status.status_code == 200, status.text
        assert "data-nothing-to-retry" not in status.text
        retried = await page.post(
            "/salesforce/default/retry", data={"csrf_token": csrf_of(status.text)}
        )
        assert retried.status_code == 303, retried.text[:500]
        assert retried.headers["location"] == "/salesforce/status?name=default&retry=none"
        shown = await page.get(retried.headers["location"])
        assert shown.status_code == 200
        assert "No failed records to retry" in shown.text
