"""The Message activity's custom data extension option, in Chromium inside the stand-in
canvas: it asks for the extension and its phone fields instead of entry Phone fields."""

from __future__ import annotations

from typing import Any

from tests.browser.test_journey_activity_ui import journey_host  # noqa: F401 (fixture)


async def test_a_custom_data_extension_replaces_the_entry_phone_fields(
    browser: Any,
    journey_host: str,  # noqa: F811
) -> None:
    page = await browser.new_page()
    await page.goto(journey_host)
    frame = page.frame_locator("#activity")
    await frame.get_by_text("Editing the activity.").wait_for()
    await frame.locator('textarea[name="text"]').fill("Hello %%FirstName%%")
    await frame.get_by_role("checkbox", name="Send with the contact's row").check()
    await frame.get_by_role("button", name="Save").click()  # no extension named yet
    await frame.get_by_text("Give the data extension's external key").wait_for()
    assert await frame.get_by_text("Choose at least one Phone field").count() == 0
    assert await page.evaluate("window.saved") is None
    await frame.locator('input[name="customDataExtension"]').fill("live-audience")
    await frame.locator('input[name="customPhoneFields"]').fill("Mobile, WorkPhone")
    await frame.get_by_role("button", name="Save").click()
    await frame.get_by_text("Saved.").wait_for()
    saved = await page.evaluate("window.saved")
    merged = {
        k: v for pair in saved["arguments"]["execute"]["inArguments"] for k, v in pair.items()
    }
    assert merged["customDataExtension"] == "live-audience"
    assert merged["customPhoneFields"] == "Mobile, WorkPhone"
    assert "customKeyField" not in merged  # left empty: ContactKey
    assert "phone" not in merged
    assert merged["text"] == "Hello %%FirstName%%"
