"""Each channel's ``content`` (and channel options) in Infobip's request shapes. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from peoplesync.messaging.channels.catalog import Channel, KakaoButtonType
from peoplesync.messaging.channels.text import unescape_hashtags

JsonObject = dict[str, Any]
Request = Mapping[str, object]


def _text(request: Request) -> str:
    return unescape_hashtags(str(request.get("text") or ""))


def _sms_content(request: Request) -> JsonObject:
    content: JsonObject = {"text": _text(request)}
    code = request.get("language")
    if isinstance(code, str) and code not in ("", "NONE"):
        content["language"] = {"languageCode": code}
    transliteration = request.get("transliteration")
    if isinstance(transliteration, str) and transliteration:
        content["transliteration"] = transliteration
    return content


def _mms_content(request: Request) -> JsonObject:
    segments: list[JsonObject] = []
    if request.get("text"):
        segments.append({"type": "TEXT", "text": _text(request)})
    for index, item in enumerate(_list(request.get("media"))):
        segment: JsonObject = {"type": "LINK", "contentUrl": item["url"]}
        segment["contentId"] = str(item.get("contentId") or f"media-{index + 1}")
        if item.get("contentType"):
            segment["contentType"] = item["contentType"]
        segments.append(segment)
    content: JsonObject = {"messageSegments": segments}
    if request.get("title"):
        content["title"] = request["title"]
    return content


def _suggestions(value: object) -> list[JsonObject]:
    out: list[JsonObject] = []
    for item in _list(value):
        suggestion = dict(item)
        suggestion.setdefault("postbackData", str(item.get("text", "")))
        out.append(suggestion)
    return out


def _card(card: Mapping[str, Any]) -> JsonObject:
    out: JsonObject = {
        key: card[key] for key in ("title", "description") if card.get(key) is not None
    }
    if card.get("mediaUrl"):
        out["media"] = {"file": {"url": card["mediaUrl"]}, "height": "MEDIUM"}
    if card.get("suggestions"):
        out["suggestions"] = _suggestions(card["suggestions"])
    return out


def _rcs_content(request: Request) -> JsonObject:
    kind = str(request.get("type") or "TEXT")
    content: JsonObject = {"type": kind}
    if kind == "TEXT":
        content["text"] = _text(request)
    elif kind == "FILE":
        content["file"] = {"url": request["fileUrl"]}
    elif kind == "CARD":
        card = request.get("card")
        assert isinstance(card, Mapping)
        content |= {"orientation": "VERTICAL", "alignment": "LEFT", "content": _card(card)}
    else:
        content |= {"cardWidth": "MEDIUM", "contents": [_card(c) for c in _list(request["cards"])]}
    if request.get("suggestions"):
        content["suggestions"] = _suggestions(request["suggestions"])
    return content


def _viber_content(request: Request) -> JsonObject:
    content: JsonObject
    image = request.get("imageUrl") or request.get("mediaUrl")
    if image:
        content = {"type": "IMAGE", "mediaUrl": image}
        if request.get("text"):
            content["text"] = _text(request)
    else:
        content = {"type": "TEXT", "text": _text(request)}
    if request.get("buttonText"):
        content["button"] = {"title": request["buttonText"], "action": request["buttonUrl"]}
    return content


def _kakao_button(button: Mapping[str, Any]) -> JsonObject:
    out: JsonObject = {"type": button["type"], "name": button["name"]}
    for key in ("urlMobile", "urlPc", "schemeAndroid", "schemeIos", "chatExtra", "chatEvent"):
        if button.get(key):
            out[key] = button[key]
    if button["type"] == KakaoButtonType.WEB_LINK and "urlPc" not in out:
        out["urlPc"] = out["urlMobile"]
    if button["type"] == KakaoButtonType.APP_LINK:
        out.setdefault("urlMobile", out["schemeAndroid"])
        out.setdefault("urlPc", out["urlMobile"])
    return out


def _kakao_alim_content(request: Request) -> JsonObject:
    content: JsonObject = {
        "type": "TEMPLATE",
        "templateCode": request["templateName"],
        "text": _text(request),
    }
    if request.get("title"):
        content["title"] = request["title"]
    if request.get("buttons"):
        content["buttons"] = [_kakao_button(b) for b in _list(request["buttons"])]
    return content


def _kakao_chingu_content(request: Request) -> JsonObject:
    content: JsonObject = {"type": "TEXT_FREE_FORM", "text": _text(request)}
    if request.get("imageUrl"):
        image: JsonObject = {"url": request["imageUrl"]}
        if request.get("imageLink"):
            image["link"] = request["imageLink"]
        content |= {"type": "IMAGE_FREE_FORM", "image": image}
    if request.get("buttons"):
        content["buttons"] = [_kakao_button(b) for b in _list(request["buttons"])]
    return content


def _zalo_content(request: Request) -> JsonObject:
    data = request.get("placeholders") or {}
    return {
        "type": "TEMPLATE",
        "templateName": int(str(request["templateName"])),
        "templateData": dict(data) if isinstance(data, Mapping) else {},
    }


def _list(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


CONTENT: Mapping[Channel, Callable[[Request], JsonObject]] = {
    Channel.SMS: _sms_content,
    Channel.LMS: _sms_content,
    Channel.MMS: _mms_content,
    Channel.RCS: _rcs_content,
    Channel.VIBER: _viber_content,
    Channel.KAKAO_ALIM: _kakao_alim_content,
    Channel.KAKAO_CHINGU: _kakao_chingu_content,
    Channel.ZALO: _zalo_content,
}


def message_options(channel: Channel, request: Request) -> JsonObject:
    """Per-message options: regional rules, Viber's label, LMS's title."""
    options: JsonObject = {}
    regional: JsonObject = {}
    given = request.get("regional")
    if isinstance(given, Mapping):
        iys = given.get("turkeyIys")
        if isinstance(iys, Mapping):
            turkey: JsonObject = {"recipientType": iys["recipientType"]}
            if iys.get("brandCode") not in (None, ""):
                turkey["brandCode"] = int(str(iys["brandCode"]))
            regional["turkeyIys"] = turkey
        dlt = given.get("indiaDlt")
        if isinstance(dlt, Mapping):
            regional["indiaDlt"] = {
                key: str(dlt[key])
                for key in ("principalEntityId", "contentTemplateId", "telemarketerId")
                if dlt.get(key)
            }
    if channel is Channel.LMS:
        korea: JsonObject = {}
        if request.get("title"):
            korea["title"] = request["title"]
        if request.get("resellerCode"):
            korea["resellerCode"] = int(str(request["resellerCode"]))
        if korea:
            regional["southKorea"] = korea
    if regional:
        options["regional"] = regional
    if channel is Channel.VIBER:
        options["label"] = "PROMOTIONAL" if request.get("isPromotional") else "TRANSACTIONAL"
    return options
