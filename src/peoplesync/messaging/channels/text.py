"""Text rules shared by channels: hashtag escapes and each channel's text size."""

from __future__ import annotations

import re

from peoplesync.messaging.channels.catalog import (
    MAX_SMS_PARTS,
    Channel,
    ChannelRules,
)
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.sms_encoding import plan_sms
from peoplesync.messaging.channels.verdict import Invalid

_ESCAPED_HASH = re.compile(r"\\#")


def unescape_hashtags(text: str) -> str:
    """``\\#`` in a journey's message is a literal ``#`` once sent."""
    return _ESCAPED_HASH.sub("#", text)


def check_text_size(rules: ChannelRules, text: object, language: str | None = None) -> None:
    """A text is present and fits the channel: SMS by parts and bytes, others by characters."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid(MessageStatus.INVALID_TEXT, "text", "the message has no text")
    body = unescape_hashtags(text)
    if rules.channel is Channel.SMS:
        plan = plan_sms(body, None if language in (None, "NONE") else language)
        if plan.part_count > MAX_SMS_PARTS:  # 25 parts of 140 octets: within 4,000 bytes
            raise Invalid(
                MessageStatus.INVALID_TEXT,
                "text",
                f"the text needs {plan.part_count} SMS parts ({plan.scheme.value}); "
                f"at most {MAX_SMS_PARTS} parts are sent",
            )
        return
    limit = rules.text_limit
    if limit is not None and len(body) > limit:
        raise Invalid(
            MessageStatus.INVALID_TEXT,
            "text",
            f"the text has {len(body)} characters; {rules.channel.value} takes at most {limit}",
        )
