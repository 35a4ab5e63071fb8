"""The Message activity's ``execute`` call, decided without I/O.

Journey Builder posts one call per contact with the activity's in-arguments resolved for
that contact. Here the call is read (:func:`parse_execute`), then turned into a message
draft for the outbox or into the ``messageStatus`` the journey splits on
(:func:`plan_message`). The call never fails the contact: a problem with the request comes
back as an error ``messageStatus`` on a 200 answer, as users of such activities expect.

In-arguments are flat single-key objects, as the configuration page saves them: ``channel``,
``account``, the channel's request fields (``from``, ``text``, ``title``, ``templateName``...),
``phone`` once per phone field of the entry data extension (the first one with a value is
used), the features (``shortenUrl``, ``trackClicks``, ``removeHttps``, ``customDomain``,
``speedLimitAmount``/``speedLimitUnit``, ``triggerEventOnResponse``), ``callbackData`` and
``content`` (JSON objects, as text or as objects) and ``activityName`` (the bulk id).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from peoplesync.errors import JourneyRequestError
from peoplesync.messaging.channels.catalog import CALLBACK_DATA_LIMIT, CHANNEL_LABELS, Channel
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.validation import validate_message
from peoplesync.messaging.channels.verdict import Verdict
from peoplesync.messaging.outbox import MessageDraft
from peoplesync.messaging.speed_limit import SpeedLimit, TimeUnit

_JSON_ARGUMENTS = frozenset({"callbackData", "content", "templateData", "regional"})
_FLAGS = frozenset({"shortenUrl", "trackClicks", "removeHttps", "triggerEventOnResponse"})
_NOT_REQUEST = frozenset(
    {
        "account",
        "activityName",
        "channel",
        "content",
        "contactKey",
        "customDataExtension",
        "customKeyField",
        "customPhoneFields",
        "definitionId",
        "journeyName",
        "journeyVersion",
        "phone",
        "speedLimitAmount",
        "speedLimitUnit",
        "triggerEventOnResponse",
    }
)


@dataclass(frozen=True)
class ExecuteCall:
    """One contact's execute call, read."""

    activity_id: str
    definition_instance_id: str
    journey_id: str
    contact_key: str
    arguments: Mapping[str, Any]
    phones: tuple[str, ...]

    @property
    def dedupe_key(self) -> str:
        """Equal across Journey Builder's retries of one contact's call."""
        return f"jb:{self.activity_id}:{self.definition_instance_id}"


@dataclass(frozen=True)
class MessagePlan:
    """What to do with a call: enqueue ``draft`` under ``limit``, else answer ``refusal``.

    A request the channel's rules refuse still has a draft when its account is known: the
    outbox stores it as invalid with the same status, so operators see it among messages.
    """

    refusal: Verdict | None = None
    draft: MessageDraft | None = None
    limit: SpeedLimit | None = None
    limit_key: str | None = None
    trigger_event: bool = False
    extras: Mapping[str, Any] = field(default_factory=dict)


def parse_execute(body: Mapping[str, Any]) -> ExecuteCall:
    """Read an execute body; a missing identifier is a :class:`JourneyRequestError`."""
    raw = body.get("inArguments", [])
    if not isinstance(raw, list) or not all(isinstance(each, dict) for each in raw):
        raise JourneyRequestError("inArguments is not a list of objects", field="inArguments")
    arguments: dict[str, Any] = {}
    phones: list[str] = []
    for each in raw:
        for key, value in each.items():
            if key == "phone":
                phones.append("" if value is None else str(value).strip())
            elif key not in arguments:
                arguments[key] = _decoded(key, value)
    ids = {}
    for name in ("activityId", "definitionInstanceId"):
        value = body.get(name) or (body.get("activityObjectID") if name == "activityId" else None)
        if not isinstance(value, str) or not value:
            raise JourneyRequestError(f"{name} is missing", field=name)
        ids[name] = value
    contact = body.get("keyValue") or arguments.get("contactKey") or ""
    return ExecuteCall(
        activity_id=ids["activityId"],
        definition_instance_id=ids["definitionInstanceId"],
        journey_id=str(body.get("journeyId") or arguments.get("definitionId") or ""),
        contact_key=str(contact),
        arguments=arguments,
        phones=tuple(phones),
    )


def plan_message(call: ExecuteCall, *, mid: str, default_account: str | None) -> MessagePlan:
    """The draft to enqueue for a call, or the ``messageStatus`` that refuses it."""
    args = call.arguments
    channel = str(args.get("channel") or "")
    phone = next((each for each in call.phones if each), "") or str(args.get("to") or "")
    request: dict[str, Any] = {k: v for k, v in args.items() if k not in _NOT_REQUEST}
    content = args.get("content")
    if isinstance(content, Mapping):
        request.update(content)
    request["to"] = phone
    for flag in _FLAGS & request.keys():
        request[flag] = _flag(request[flag])
    bulk_id = bulk_id_for(channel, args.get("activityName"))
    account = str(args.get("account") or default_account or "")
    verdict = validate_message(channel, request)
    if not verdict.ok:
        # Stored all the same (as invalid, with its status), so it shows among messages.
        stored = MessageDraft(call.dedupe_key, account, channel, request) if account else None
        return MessagePlan(refusal=verdict, draft=stored)
    callback = _callback_data(call, request.pop("callbackData", None), mid=mid, bulk_id=bulk_id)
    if len(callback) > CALLBACK_DATA_LIMIT:
        return MessagePlan(
            refusal=Verdict(
                MessageStatus.INVALID_CALLBACK_DATA,
                "callbackData",
                f"callback data takes {len(callback)} characters with the journey's own "
                f"fields; at most {CALLBACK_DATA_LIMIT} are sent",
            )
        )
    if not account:
        return MessagePlan(
            refusal=Verdict(
                MessageStatus.MISSING_ACCOUNT,
                "account",
                "no provider account is chosen and the business unit has no default",
            )
        )
    try:
        limit = _speed_limit(args)
    except ValueError as error:
        return MessagePlan(
            refusal=Verdict(MessageStatus.INVALID_SPEED_LIMIT, "speedLimitAmount", str(error))
        )
    draft = MessageDraft(
        idempotency_key=call.dedupe_key,
        account=account,
        channel=channel,
        request=request,
        callback_data=callback,
    )
    return MessagePlan(
        draft=draft,
        limit=limit,
        limit_key=f"{call.journey_id}:{call.activity_id}" if limit else None,
        trigger_event=_flag(args.get("triggerEventOnResponse")),
        extras={"bulkId": bulk_id},
    )


def out_arguments(status: str, message_id: str | None) -> dict[str, str]:
    """The execute answer: the out-arguments later steps and splits read."""
    return {"messageStatus": status, "messageId": message_id or ""}


def bulk_id_for(channel: str, activity_name: object) -> str:
    """The activity's name, else ``peoplesync <channel>`` (``peoplesync SMS``...)."""
    if isinstance(activity_name, str) and activity_name.strip():
        return activity_name.strip()
    try:
        return f"peoplesync {CHANNEL_LABELS[Channel(channel)]}"
    except ValueError:
        return f"peoplesync {channel or 'message'}"


def _callback_data(call: ExecuteCall, custom: object, *, mid: str, bulk_id: str) -> str:
    fields: dict[str, str] = {
        "ActivityId": call.activity_id,
        "BulkId": bulk_id,
        "ContactKey": call.contact_key,
        "MID": mid,
        "VersionId": call.journey_id,
    }
    for name in ("journeyName", "journeyVersion", "templateName"):
        value = call.arguments.get(name)
        if value:
            key = {"journeyName": "JourneyName", "journeyVersion": "VersionNumber"}.get(
                name, "TemplateName"
            )
            fields[key] = str(value)
    if isinstance(custom, Mapping):
        fields.update({str(k): str(v) for k, v in custom.items()})
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def _speed_limit(args: Mapping[str, Any]) -> SpeedLimit | None:
    amount = args.get("speedLimitAmount")
    if amount in (None, "", 0, "0"):
        return None
    unit = str(args.get("speedLimitUnit") or "HOUR").upper()
    try:
        return SpeedLimit(int(str(amount)), TimeUnit(unit))
    except ValueError as error:
        raise ValueError(f"sending speed limit {amount} per {unit.lower()}: {error}") from error


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def _decoded(key: str, value: Any) -> Any:
    if key in _JSON_ARGUMENTS and isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError as error:
            raise JourneyRequestError("is not a JSON object", field=f"inArguments.{key}") from error
    return value
