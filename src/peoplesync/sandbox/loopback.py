"""Running a sandbox's uvicorn server on a bound socket until told to stop; shared by the
sandboxes' ``serve`` functions."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it a response written as headers, then
    # body, waits on the client's delayed ACK (40 ms a request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


async def run_until_stopped(
    server: uvicorn.Server,
    sock: socket.socket,
    on_started: Callable[[], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Serve on ``sock``; call ``on_started`` once it listens; return when ``stop`` is set,
    the server ends or the caller is cancelled (then wait up to 5 s for it), closing ``sock``."""
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.02)
        on_started()
        if stop is not None:
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            server.should_exit = True
        await task
    finally:
        if not task.done():
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), timeout=5)
        sock.close()


async def serve_app(
    app: Starlette,
    host: str,
    port: int,
    describe: Callable[[str], dict[str, str]],
    on_ready: Callable[[dict[str, str]], None],
    stop: asyncio.Event | None = None,
    tls: tuple[Path, Path, Path] | None = None,
) -> None:
    """Serve ``app`` on loopback (HTTPS with ``tls``: CA, certificate and key files) until
    ``stop``; ``on_ready`` gets ``describe(base_url)``, plus ``ca_cert`` with ``tls``."""
    sock = bind(host, port)
    base_url = f"{'https' if tls else 'http'}://{host}:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            access_log=False,
            ssl_certfile=str(tls[1]) if tls else None,
            ssl_keyfile=str(tls[2]) if tls else None,
            # A client holding a keep-alive connection must not hold up a shutdown.
            timeout_graceful_shutdown=2,
        )
    )
    info = describe(base_url)
    if tls:
        info["ca_cert"] = str(tls[0])
    await run_until_stopped(server, sock, lambda: on_ready(info), stop)
