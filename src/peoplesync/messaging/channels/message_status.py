"""The ``messageStatus`` a message activity hands back to the journey instead of failing.

The first texts are the ones Marketing Cloud users already split journeys on; they are kept
word for word. The last ones cover cases that table leaves out, in the same form.
"""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    """The outcome of validating one message request."""

    PENDING = "Success: Message pending"
    MISSING_TRACK_CLICKS = "Error: Missing trackClicks flag"
    MISSING_SHORTEN_URL = "Error: Missing shortenUrl flag"
    MISSING_PHONE = "Error: Missing phone number in request"
    INVALID_TRACKING_URL = "Error: Invalid tracking url length"
    INVALID_TEXT = "Error: Invalid text length"
    INVALID_TEMPLATE_NAME = "Error: Invalid template name"
    INVALID_SCENARIO_KEY = "Error: Invalid scenario key"
    INVALID_PROMOTIONAL_FLAG = "Error: Invalid promotional flag"
    INVALID_IMAGE_URL = "Error: Invalid image url length"
    INVALID_FROM = "Error: Invalid from field"
    INVALID_CUSTOM_DOMAIN = "Error: Invalid custom domain length"
    INVALID_BUTTONS = "Error: Invalid buttons field length"
    INVALID_BUTTON_URL = "Error: Invalid button url length"
    INVALID_BUTTON_TEXT = "Error: Invalid button text length"
    INVALID_APP_SCHEMES = "Error: Invalid androidScheme and iosScheme length"
    # Not in the table users know; same form.
    UNKNOWN_CHANNEL = "Error: Unknown channel"
    INVALID_PHONE = "Error: Invalid phone number"
    INVALID_TITLE = "Error: Invalid title length"
    INVALID_MEDIA = "Error: Invalid media"
    INVALID_PLACEHOLDERS = "Error: Invalid template placeholders"
    INVALID_LANGUAGE = "Error: Invalid language code"
    INVALID_REGIONAL = "Error: Invalid regional options"
    INVALID_CALLBACK_DATA = "Error: Invalid callback data"
    INVALID_SUGGESTIONS = "Error: Invalid suggestions"
    INVALID_SPEED_LIMIT = "Error: Invalid sending speed limit"
    MISSING_ACCOUNT = "Error: Missing provider account"
    JOURNEY_STOPPED = "Error: Journey stopped"
    CUSTOM_ROW_MISSING = "Error: Contact not found in custom data extension"
    CUSTOM_EXTENSION_UNAVAILABLE = "Error: Custom data extension unavailable"

    @property
    def ok(self) -> bool:
        return self is MessageStatus.PENDING
