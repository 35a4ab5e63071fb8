"""The sync under the sandbox's fault knobs: 503s, slow 504s, lock errors and access tokens
that expire every two seconds. It completes, ends equal to a sync of a healthy org, and keeps
following changes."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
from pathlib import Path
from typing import Any

from tests.e2e.test_sync_crash import API, picture, sync_once
from tests.served_org import PEOPLESYNC, call, connect, environment, login, served_org


def steady_call(info: dict[str, Any], path: str, **options: Any) -> Any:
    """A call of the test itself, retried through the faults it injected."""
    for _ in range(20):
        try:
            return call(info, path, login(info), **options)
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise
    raise AssertionError(f"{path} kept failing")


def cities(data_dir: Path) -> set[str]:
    return {values[3] for values in picture(data_dir)[1].values()}


def test_sync_completes_under_faults_and_equals_a_healthy_run(tmp_path: Path) -> None:
    with served_org(
        tmp_path / "org",
        "--seed-leads",
        "900",
        "--seed-contacts",
        "300",
        "--seed-accounts",
        "60",
        "--seed",
        "11",
    ) as info:
        healthy = tmp_path / "healthy"
        healthy_env = environment(info, healthy)
        connect(info, healthy_env)
        expected = sync_once(healthy_env)

        faulty = tmp_path / "faulty"
        env = environment(info, faulty)
        connect(info, env)
        token = login(info)
        call(
            info,
            "/sandbox/admin/knobs",
            token,
            method="PUT",
            body={
                "rate_503": 0.15,
                "rate_timeout": 0.05,
                "timeout_seconds": 0.5,
                "rate_lock_error": 0.05,
                "token_lifetime_seconds": 2,
            },
        )
        before = len(call(info, "/sandbox/admin/requests?limit=100000", token))
        summary = sync_once(env)
        for step in ("Account", "Lead", "Contact"):
            assert summary[step]["read"] == expected[step]["read"], step
        assert (summary["persons"], summary["companies"]) == (
            expected["persons"],
            expected["companies"],
        )
        assert picture(faulty) == picture(healthy)
        # Continuous sync under the same faults: an edit still arrives.
        query = urllib.parse.quote("SELECT Id FROM Lead WHERE IsConverted = false LIMIT 1")
        lead = steady_call(info, f"{API}/query?q={query}")["records"][0]["Id"]
        follow = subprocess.Popen(
            [*PEOPLESYNC, "sync", "run", "--json", "--follow", "--reconcile-every", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert follow.stdout is not None
            json.loads(follow.stdout.readline())
            steady_call(
                info, f"{API}/sobjects/Lead/{lead}", method="PATCH", body={"City": "Faultless"}
            )
            deadline = time.monotonic() + 60
            while "Faultless" not in cities(faulty):
                assert follow.poll() is None
                assert time.monotonic() < deadline, "the edit never arrived"
                time.sleep(0.5)
            time.sleep(max(0.0, 8 - (time.monotonic() - deadline + 60)))  # a few more passes
            assert follow.poll() is None
        finally:
            follow.terminate()
            follow.wait(timeout=30)
            if follow.stdout is not None:
                follow.stdout.close()
        log = call(info, "/sandbox/admin/requests?limit=100000", login(info))
        statuses = [entry["status"] for entry in log[before:]]
        assert {503, 504, 401} <= set(statuses)  # the faults did happen, and were ridden out
