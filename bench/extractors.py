"""Extractor conformance: widely used Salesforce extractors read every Contact from the sandbox.

Usage: python -m bench extractors [--contacts N] [--only tap|tap-bulk|airbyte|airbyte-bulk]
(``make conformance-extra`` installs the extractors into .conformance/ first.)

Singer's tap-salesforce (REST and BULK modes) and Airbyte's source-salesforce (its default
mode and ``force_use_bulk_api``) run unchanged in their own virtualenvs, against an org at its
default bulk pace; only the login host is changed, by a wrapper that
rewrites ``https://login.salesforce.com`` to the sandbox. Each must read as many Contacts as
the org holds (enough for a Bulk 2.0 query to need a second results page). Prints one JSON
line per run and exits 1 when any count differs or an extractor fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".conformance"

# Runs inside an extractor's virtualenv: every request to login.salesforce.com goes to the
# sandbox instead (at requests' Session.send, which both extractors go through); the rest of
# the extractor is untouched.
WRAPPER = """
import sys, requests
LOGIN = {login!r}
HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")
original = requests.Session.send
def send(self, request, **kwargs):
    for host in HOSTS:
        if request.url.startswith(host):
            request.url = LOGIN + request.url[len(host):]
    return original(self, request, **kwargs)
requests.Session.send = send
sys.argv = [{program!r}, *sys.argv[1:]]
{run}
"""


def start_org(data_dir: Path, contacts: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """The org as a separate process, seeded with ``contacts``, at its default bulk pace."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "peoplesync.cli.main",
            "sandbox",
            "salesforce",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            "--seed-contacts",
            str(contacts),
            "--seed-accounts",
            str(max(1, contacts // 20)),
            "--api-limit",
            "10000000",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def refresh_token(info: dict[str, Any]) -> str:
    """A refresh token from the web server flow (consent allowed, code exchanged)."""
    redirect = "https://localhost/callback"
    with httpx.Client(verify=info["ca_cert"], base_url=info["instance_url"]) as client:
        allowed = client.post(
            "/services/oauth2/authorize",
            data={
                "client_id": info["client_id"],
                "redirect_uri": redirect,
                "response_type": "code",
                "decision": "allow",
            },
        )
        code = urllib.parse.parse_qs(urllib.parse.urlparse(allowed.headers["Location"]).query)
        token = client.post(
            "/services/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code["code"][0],
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "redirect_uri": redirect,
            },
        ).json()
        info["access_token"] = token["access_token"]
        count = client.get(
            "/services/data/v59.0/query",
            params={"q": "SELECT COUNT() FROM Contact"},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ).json()
    info["contacts"] = int(count["totalSize"])
    return str(token["refresh_token"])


def result_pages(info: dict[str, Any]) -> int:
    """How many Bulk 2.0 query results pages the org has served so far (its request log)."""
    with httpx.Client(verify=info["ca_cert"], base_url=info["instance_url"]) as client:
        log = client.get(
            "/sandbox/admin/requests",
            params={"limit": "1000000"},
            headers={"Authorization": f"Bearer {info['access_token']}"},
        ).json()
    return sum(
        1 for r in log if r["method"] == "GET" and r["path"].rstrip("/").endswith("/results")
    )


def _run(
    venv: str, program: str, run: str, args: list[str], info: dict[str, Any], work: Path
) -> str:
    script = work / f"{venv}.py"
    script.write_text(WRAPPER.format(login=info["login_url"], program=program, run=run))
    env = {**os.environ, "REQUESTS_CA_BUNDLE": info["ca_cert"], "SSL_CERT_FILE": info["ca_cert"]}
    done = subprocess.run(
        [str(VENVS / venv / "bin" / "python"), str(script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=1800,
    )
    log = VENVS / f"{venv}-{args[-1].rsplit('/', 1)[-1]}.log"
    log.write_text(done.stderr + "\n--- stdout ---\n" + done.stdout[-20_000:])
    if done.returncode != 0:
        raise RuntimeError(
            f"{venv} {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}"
        )
    return done.stdout


def _records(output: str, stream: str) -> int:
    count = 0
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message.get("type") == "RECORD":
            # Singer names the stream on the message, Airbyte inside its record.
            named = message.get("stream") or message.get("record", {}).get("stream")
            count += named == stream
    return count


def tap_salesforce(info: dict[str, Any], token: str, api_type: str, work: Path) -> dict[str, Any]:
    """Singer's tap: discover, select Contact, sync; the Contact records it wrote."""
    config = work / f"tap-{api_type}.json"
    config.write_text(
        json.dumps(
            {
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "refresh_token": token,
                "start_date": "2000-01-01T00:00:00Z",
                "api_type": api_type,
                "select_fields_by_default": True,
            }
        )
    )
    run = "import tap_salesforce; tap_salesforce.main()"
    catalog = json.loads(
        _run(
            "tap-salesforce",
            "tap-salesforce",
            run,
            ["--config", str(config), "--discover"],
            info,
            work,
        )
    )
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "Contact"
    properties = work / f"catalog-{api_type}.json"
    properties.write_text(json.dumps(catalog))
    output = _run(
        "tap-salesforce",
        "tap-salesforce",
        run,
        ["--config", str(config), "--properties", str(properties)],
        info,
        work,
    )
    return {
        "extractor": "tap-salesforce 2.8.1",
        "mode": api_type,
        "read": _records(output, "Contact"),
    }


def source_salesforce(info: dict[str, Any], token: str, bulk: bool, work: Path) -> dict[str, Any]:
    """Airbyte's source, in its default mode (REST for objects with compound fields such as
    Contact) or with ``force_use_bulk_api`` (Bulk 2.0): the Contact records of a full-refresh
    read."""
    config = work / f"airbyte-{bulk}.json"
    config.write_text(
        json.dumps(
            {
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
                "refresh_token": token,
                "start_date": "2000-01-01T00:00:00Z",
                "is_sandbox": False,
                "force_use_bulk_api": bulk,
            }
        )
    )
    run = "from source_salesforce.run import run; run()"
    discovered = _run(
        "source-salesforce",
        "source-salesforce",
        run,
        ["discover", "--config", str(config)],
        info,
        work,
    )
    streams = next(
        json.loads(line)["catalog"]["streams"]
        for line in discovered.splitlines()
        if line.startswith("{") and json.loads(line).get("type") == "CATALOG"
    )
    (contact,) = [s for s in streams if s["name"] == "Contact"]
    catalog = work / f"airbyte-catalog-{bulk}.json"
    catalog.write_text(
        json.dumps(
            {
                "streams": [
                    {
                        "stream": contact,
                        "sync_mode": "full_refresh",
                        "destination_sync_mode": "overwrite",
                    }
                ]
            }
        )
    )
    output = _run(
        "source-salesforce",
        "source-salesforce",
        run,
        ["read", "--config", str(config), "--catalog", str(catalog)],
        info,
        work,
    )
    return {
        "extractor": "airbyte source-salesforce 2.10.3",
        "mode": "force_use_bulk_api" if bulk else "default",
        "read": _records(output, "Contact"),
    }


def main(argv: list[str]) -> None:
    """Run the extractors against a fresh org; exit 1 unless each read every Contact."""
    parser = argparse.ArgumentParser(prog="python -m bench extractors")
    parser.add_argument("--contacts", type=int, default=60_000)
    parser.add_argument("--only", choices=["tap", "tap-bulk", "airbyte", "airbyte-bulk"])
    args = parser.parse_args(argv)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="extractors-") as temp:
        work = Path(temp)
        process, info = start_org(work / "org", args.contacts)
        try:
            token = refresh_token(info)
            runs: list[Any] = []
            if args.only == "tap-bulk":
                runs.append(lambda: tap_salesforce(info, token, "BULK", work))
            if args.only in (None, "tap"):
                runs += [
                    lambda mode=mode: tap_salesforce(info, token, mode, work)
                    for mode in ("REST", "BULK")
                ]
            if args.only == "airbyte-bulk":
                runs.append(lambda: source_salesforce(info, token, True, work))
            if args.only in (None, "airbyte"):
                runs += [
                    lambda bulk=bulk: source_salesforce(info, token, bulk, work)
                    for bulk in (False, True)
                ]
            for run in runs:
                started, pages = time.perf_counter(), result_pages(info)
                try:
                    result = run()
                except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
                    result = {"error": str(exc)[-2000:]}
                result["bulk2_result_pages"] = result_pages(info) - pages
                result.update(
                    org_contacts=info["contacts"], seconds=round(time.perf_counter() - started, 1)
                )
                result["ok"] = result.get("read") == info["contacts"]
                failures += not result["ok"]
                print(json.dumps(result), flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
    if failures:
        raise SystemExit(1)
