"""Regional rules: SMS language and national regulations, Zalo's registered placeholders."""

from __future__ import annotations

from collections.abc import Mapping

from peoplesync.messaging.channels.catalog import Channel, ChannelRules
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.sms_encoding import AUTODETECT
from peoplesync.messaging.channels.verdict import Invalid

LANGUAGES = frozenset({"NONE", "TR", "ES", "PT", AUTODETECT})
_IYS_RECIPIENTS = frozenset({"TACIR", "BIREYSEL"})


def check_sms_options(rules: ChannelRules, request: Mapping[str, object]) -> None:
    if rules.channel is not Channel.SMS:
        return
    language = request.get("language")
    if language is not None and language not in LANGUAGES:
        raise Invalid(
            MessageStatus.INVALID_LANGUAGE,
            "language",
            "language is one of TR, ES, PT, AUTODETECT or NONE",
        )
    regional = request.get("regional")
    if regional is None:
        return
    if not isinstance(regional, Mapping):
        raise Invalid(MessageStatus.INVALID_REGIONAL, "regional", "regional is an object")
    iys = regional.get("turkeyIys")
    if iys is not None and (
        not isinstance(iys, Mapping) or iys.get("recipientType") not in _IYS_RECIPIENTS
    ):
        raise Invalid(
            MessageStatus.INVALID_REGIONAL,
            "regional.turkeyIys.recipientType",
            "Turkey IYS needs recipientType TACIR or BIREYSEL",
        )
    if isinstance(iys, Mapping) and iys.get("brandCode") not in (None, ""):
        code = iys.get("brandCode")
        if not (isinstance(code, int) or (isinstance(code, str) and code.isdigit())):
            raise Invalid(
                MessageStatus.INVALID_REGIONAL,
                "regional.turkeyIys.brandCode",
                "the IYS brand code is a number",
            )
    dlt = regional.get("indiaDlt")
    if dlt is not None and (not isinstance(dlt, Mapping) or not dlt.get("principalEntityId")):
        raise Invalid(
            MessageStatus.INVALID_REGIONAL,
            "regional.indiaDlt.principalEntityId",
            "India DLT needs your principal entity id",
        )


def check_zalo_placeholders(
    request: Mapping[str, object], registered: Mapping[str, frozenset[str]] | None
) -> None:
    placeholders = request.get("placeholders", {})
    if not isinstance(placeholders, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in placeholders.items()
    ):
        raise Invalid(
            MessageStatus.INVALID_PLACEHOLDERS,
            "placeholders",
            "Zalo placeholders are named texts",
        )
    if registered is None:
        return
    name = str(request.get("templateName"))
    if name not in registered:
        raise Invalid(
            MessageStatus.INVALID_TEMPLATE_NAME,
            "templateName",
            f"template {name} is not registered for this sender",
        )
    unknown = sorted(set(placeholders) - registered[name])
    if unknown:
        raise Invalid(
            MessageStatus.INVALID_PLACEHOLDERS,
            f"placeholders.{unknown[0]}",
            f"template {name} has no placeholder {unknown[0]}: send only its registered ones",
        )
