"""Serving the web app: a listening socket, and the app served on it with the sync workers
and the transfer jobs beside it (``peoplesync serve`` and the demo)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import uvicorn

from peoplesync.errors import ConfigurationError
from peoplesync.messaging.links.devices import warm_up
from peoplesync.observability.log_format import LogFormat, configure_logging
from peoplesync.web.app import create_app
from peoplesync.web.journey.only import JourneyOnly
from peoplesync.web.messaging_hooks import RedactTokens
from peoplesync.web.salesforce_connect import Connector
from peoplesync.wiring import Services
from peoplesync.workers.report_sync import UnitPasses
from peoplesync.workers.sends import message_sends
from peoplesync.workers.supervisor import SyncWorkers

T = TypeVar("T")


def run_served(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` (a coroutine that serves) to its end on uvloop's event loop where uvloop
    is installed (Linux, macOS), else asyncio's: uvloop's C loop and socket transports cost
    a Journey Builder execute call about a tenth of its CPU less (docs/benchmarks.md)."""
    # The objects made while importing live as long as the process: out of the collector's
    # way (freeze), and collections made rarer. A server's requests allocate many short-lived
    # objects, and each collection with the default thresholds stalled the requests in
    # flight: Journey Builder execute p99 102 -> 59 ms at 2,000 calls/s (docs/benchmarks.md).
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows has no uvloop
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one); its address is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it, a response written as headers and then
    # body waits on the client's delayed ACK: about 40 ms a request on a kept-alive connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({error.strerror})",
            hint="choose another --port (0 picks a free one)",
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def address_of(sock: socket.socket) -> str:
    """The http:// address a listening socket serves."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def serve_web(
    services: Services,
    listener: socket.socket,
    *,
    workers: bool = True,
    secure_cookies: bool = True,
    sync_interval: float = 60.0,
    say: Callable[[str], object],
    log_level: str | None = None,
    log_format: LogFormat = "text",
    access_log: bool = True,
) -> None:
    """Serve the web app and REST API of ``services`` on ``listener`` until a signal stops
    the server, with the sync workers of every integration and the message-send loop beside
    it (stopped before it returns).
    ``log_format`` json: every record (the workers' messages, uvicorn's) is one JSON line on
    stderr, with the integration and job id of the run it belongs to.
    ``access_log`` False: no line a request (a busy Journey Builder endpoint writes thousands a
    second); an explicit ``log_level`` turns it off too, as before."""
    settings = services.settings
    level = (log_level or settings.log_level).lower()
    if log_format == "json":
        configure_logging("json", level)
        say = logging.getLogger("peoplesync.serve").info
    running = (
        SyncWorkers(
            settings,
            services.people,
            services.statuses,
            say=say,
            sync_interval=sync_interval,
            sends=message_sends(settings, changes=services.provider_accounts.changes),
            reports=UnitPasses(
                services.units,
                by="serve",
                ca_cert=settings.mc_ca_cert,
                lease_seconds=settings.mc_sync_lease,
            ),
            report_interval=settings.mc_sync_interval,
        )
        if workers
        else None
    )
    connector = Connector(
        services.box,
        services.clock,
        on_connected=running.connected if running else None,
        running=running.running if running else None,
    )
    app = create_app(
        services,
        secure_cookies=secure_cookies,
        connector=connector,
        heartbeats=running.heartbeats if running else None,
    )
    if running is not None:
        app.router.lifespan_context = running.running_beside
    # Building a Config applies its logging configuration: for JSON, none (uvicorn's records
    # go to the root handler set up above). httptools (a C HTTP/1.1 parser) is a dependency;
    # "auto" falls back to h11 where it cannot be imported.
    logged = access_log and log_level is None
    config = (
        uvicorn.Config(
            app, log_level=level, access_log=logged, lifespan="on", log_config=None, http="auto"
        )
        if log_format == "json"
        else uvicorn.Config(app, log_level=level, access_log=logged, lifespan="on", http="auto")
    )
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())  # report receivers' tokens
    with_workers = (
        " with sync workers and message sends, and report write-back per business unit"
        if running
        else " (no workers)"
    )
    say(f"peoplesync is serving on {address_of(listener)}/{with_workers}")
    await asyncio.to_thread(warm_up)  # the user-agent rules, before the first click
    watcher = asyncio.create_task(app.state.transfers.watch())  # resumes interrupted
    try:
        await uvicorn.Server(config).serve(sockets=[listener])
    finally:
        watcher.cancel()
        await app.state.transfers.stop()


__all__ = ["address_of", "listen", "run_served", "serve_web"]


async def serve_journey(
    services: Services,
    listener: socket.socket,
    *,
    log_level: str | None = None,
    access_log: bool = True,
    parent: int | None = None,
) -> None:
    """Serve only Journey Builder's endpoints (``web/journey/only.py``) on ``listener``, a
    socket other processes serve too; no workers, no transfers. With ``parent``, stop once
    that process is gone (``serve --journey-processes`` spawned this one)."""
    settings = services.settings
    level = (log_level or settings.log_level).lower()
    app = JourneyOnly(create_app(services))
    config = uvicorn.Config(
        app, log_level=level, access_log=access_log and log_level is None, lifespan="off"
    )
    server = uvicorn.Server(config)
    watch = asyncio.create_task(_stop_when_gone(server, parent)) if parent else None
    try:
        await server.serve(sockets=[listener])
    finally:
        if watch is not None:
            watch.cancel()


async def _stop_when_gone(server: uvicorn.Server, parent: int) -> None:
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != parent:
            break
    server.should_exit = True  # the main serve process died: do not serve on alone


def spawn_journey_processes(
    listener: socket.socket, count: int, options: Sequence[str] = ()
) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` processes serving Journey Builder on ``listener`` (inherited by fd),
    each ``peoplesync serve --journey-fd FD`` with ``options`` (log format and level)."""
    fd = listener.fileno()
    command = [sys.executable, "-m", "peoplesync.cli.main", "serve", "--journey-fd", str(fd)]
    command += ["--journey-parent", str(os.getpid()), *options]
    # Our own interpreter and module; the arguments are numbers and fixed option words.
    return [subprocess.Popen(command, pass_fds=(fd,)) for _ in range(count)]  # noqa: S603


def stop_processes(processes: Sequence[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    """Ask ``processes`` to stop (SIGTERM), and kill those still running after ``timeout``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def inherited(fd: int) -> socket.socket:
    """The listening socket a parent ``serve`` passed as ``fd``."""
    try:
        return socket.socket(fileno=fd)
    except OSError as error:
        raise ConfigurationError(
            f"no listening socket at file descriptor {fd} ({error.strerror})",
            hint="--journey-fd is for the processes serve --journey-processes starts",
        ) from None
