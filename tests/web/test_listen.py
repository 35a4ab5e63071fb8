"""The socket ``peoplesync serve`` listens on."""

from __future__ import annotations

import socket

from peoplesync.web.server import listen


def test_accepted_connections_send_without_waiting_for_acks() -> None:
    # Without TCP_NODELAY, a response written as headers and then body waits on the client's
    # delayed ACK: about 40 ms for every request after the first on a kept-alive connection.
    listener = listen("127.0.0.1", 0)
    try:
        client = socket.create_connection(listener.getsockname()[:2])
        accepted, _ = listener.accept()
        try:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            accepted.close()
            client.close()
    finally:
        listener.close()
