"""How the sandbox's Journey Builder calls a custom activity: its ``config.json`` read, the
save / validate / publish calls, and ``execute`` per contact with the activity's timeout,
retries, retry delay and concurrency, the body signed (HS256, ``application/jwt``) when the
activity asks for ``useJwt``.

Retries follow the documented rule: only after a timeout, a 5xx answer or a network error,
``retryCount`` times, ``retryDelay`` apart. Any other non-2xx answer, or the last failed try,
ejects the contact.
"""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt as pyjwt

from peoplesync.sandbox.marketing_cloud.journey_model import Activity, JourneyProblem

LIFECYCLE = ("save", "validate", "publish")
# A client for one activity's calls, sized to its concurrentRequests. httpx's pool scans
# every connection for every request waiting in it, so one shared pool costs more per call
# the more activities share it; None: the runner's own client for everything.
ClientFor = Callable[["CallPolicy"], httpx.AsyncClient]


@dataclass(frozen=True)
class CallPolicy:
    """``arguments.execute`` of a config.json, checked against the documented ranges."""

    url: str
    use_jwt: bool
    timeout_seconds: float
    retry_count: int
    retry_delay_seconds: float
    concurrent_requests: int
    decision: bool
    in_arguments: tuple[dict[str, Any], ...]
    out_arguments: tuple[dict[str, Any], ...]
    outcomes: tuple[str, ...]
    lifecycle: dict[str, tuple[str, bool]] = field(default_factory=dict)


def call_policy(config: object, activity: Activity) -> CallPolicy:
    """Read a config.json; a problem names the activity and the config.json field."""
    where = f"activity {activity.key} config.json"
    if not isinstance(config, dict):
        raise JourneyProblem(f"{where}: is not a JSON object")
    kind = str(config.get("type", "")).upper()
    if kind not in ("REST", "RESTDECISION"):
        raise JourneyProblem(f"{where}: type must be REST or RESTDECISION, not {kind or 'empty'}")
    execute = (config.get("arguments") or {}).get("execute")
    if not isinstance(execute, dict) or not isinstance(execute.get("url"), str):
        raise JourneyProblem(f"{where}: arguments.execute.url is required")

    def number(name: str, default: int, low: int, high: int) -> int:
        value = execute.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise JourneyProblem(f"{where}: arguments.execute.{name} is {low} to {high}")
        return value

    timeout = number("timeout", 60_000, 1_000, 100_000)
    retries = number("retryCount", 0, 0, 5)
    delay = number("retryDelay", 1_000, 0, 10_000)
    concurrent = number("concurrentRequests", 1, 1, 50)
    outcomes: tuple[str, ...] = ()
    if kind == "RESTDECISION":
        raw = config.get("outcomes")
        if not isinstance(raw, list) or not raw:
            raise JourneyProblem(f"{where}: a RESTDECISION activity needs outcomes")
        outcomes = tuple(str((each.get("arguments") or {}).get("branchResult")) for each in raw)
    lifecycle: dict[str, tuple[str, bool]] = {}
    steps = config.get("configurationArguments") or {}
    for step in LIFECYCLE:
        entry = steps.get(step) if isinstance(steps, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            lifecycle[step] = (entry["url"], bool(entry.get("useJwt", False)))

    def single_keys(name: str) -> tuple[dict[str, Any], ...]:
        raw = execute.get(name) or []
        if not isinstance(raw, list) or not all(isinstance(each, dict) for each in raw):
            raise JourneyProblem(f"{where}: arguments.execute.{name} must be a list of objects")
        return tuple(raw)

    return CallPolicy(
        url=execute["url"],
        use_jwt=bool(execute.get("useJwt", False)),
        timeout_seconds=timeout / 1000,
        retry_count=retries,
        retry_delay_seconds=delay / 1000,
        concurrent_requests=concurrent,
        decision=kind == "RESTDECISION",
        in_arguments=single_keys("inArguments"),
        out_arguments=single_keys("outArguments"),
        outcomes=outcomes,
        lifecycle=lifecycle,
    )


@dataclass(frozen=True)
class CallResult:
    """One execute as Journey Builder saw it: the last status (None: no answer), the
    out-arguments of a 2xx answer, tries made and the time taken."""

    code: int | None
    out: dict[str, Any]
    tries: int
    ms: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def sign(body: dict[str, Any], secret: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pyjwt.warnings.InsecureKeyLengthWarning)
        return pyjwt.encode(body, secret.encode(), algorithm="HS256")


class ActivityCaller:
    """Calls one custom activity; at most ``concurrentRequests`` executes at a time."""

    def __init__(
        self, activity: Activity, policy: CallPolicy, http: httpx.AsyncClient, jwt_secret: str
    ) -> None:
        self.activity = activity
        self.policy = policy
        self._http = http
        self._secret = jwt_secret
        self._slots = asyncio.Semaphore(policy.concurrent_requests)

    @classmethod
    async def load(
        cls,
        activity: Activity,
        http: httpx.AsyncClient,
        jwt_secret: str,
        client_for: ClientFor | None = None,
    ) -> ActivityCaller:
        try:
            answer = await http.get(activity.config_url, timeout=30)
        except httpx.HTTPError as error:
            raise JourneyProblem(
                f"activity {activity.key}: config.json at {activity.config_url} did not "
                f"answer ({type(error).__name__})"
            ) from error
        if answer.status_code != 200:
            raise JourneyProblem(
                f"activity {activity.key}: config.json at {activity.config_url} answered "
                f"{answer.status_code}"
            )
        try:
            config = answer.json()
        except ValueError as error:
            raise JourneyProblem(f"activity {activity.key}: config.json is not JSON") from error
        policy = call_policy(config, activity)
        return cls(activity, policy, client_for(policy) if client_for else http, jwt_secret)

    async def lifecycle(self, bodies: dict[str, Any]) -> None:
        """save, validate and publish, in that order; a non-2xx answer stops the publish."""
        for step in LIFECYCLE:
            if step not in self.policy.lifecycle:
                continue
            url, use_jwt = self.policy.lifecycle[step]
            body = {**bodies, "isPublished": step == "publish"}
            try:
                answer = await self._post(url, body, use_jwt, 30.0)
            except httpx.HTTPError as error:
                raise JourneyProblem(
                    f"activity {self.activity.key}: {step} did not answer ({type(error).__name__})"
                ) from error
            if not 200 <= answer.status_code < 300:
                raise JourneyProblem(
                    f"activity {self.activity.key}: {step} answered {answer.status_code}: "
                    f"{answer.text[:200]}"
                )

    async def execute(self, body: dict[str, Any]) -> CallResult:
        """One contact's execute, retried as Journey Builder retries it."""
        policy = self.policy
        tries = 0
        code: int | None = None
        error = ""
        async with self._slots:
            started = time.perf_counter()  # the call's own time, not its turn in the queue
            while True:
                tries += 1
                try:
                    answer = await self._post(
                        policy.url, body, policy.use_jwt, policy.timeout_seconds
                    )
                    code, error = answer.status_code, ""
                    if 200 <= code < 300:
                        return CallResult(code, _out(answer), tries, _ms(started))
                    error = answer.text[:200]
                    retry = code >= 500
                except httpx.TimeoutException:
                    code, error, retry = None, "timeout", True
                except httpx.TransportError as failed:
                    code, error, retry = None, type(failed).__name__, True
                if not retry or tries > policy.retry_count:
                    return CallResult(code, {}, tries, _ms(started), error)
                await asyncio.sleep(policy.retry_delay_seconds)

    async def _post(
        self, url: str, body: dict[str, Any], use_jwt: bool, seconds: float
    ) -> httpx.Response:
        if use_jwt:
            return await self._http.post(
                url,
                content=sign(body, self._secret),
                headers={"Content-Type": "application/jwt"},
                timeout=seconds,
            )
        return await self._http.post(url, json=body, timeout=seconds)


def _out(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(answer.content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
