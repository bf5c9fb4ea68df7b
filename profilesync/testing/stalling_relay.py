"""A TCP relay in front of a real server that can hold back the server's answers.

Tests use it as a slow network between profilesync and the real slapd: while the
relay holds, a sync has started (its run recorded, its request sent) and waits
for the directory, so a test can look at a run in the middle, or kill the
process doing it, without timing anything. Nothing is faked: every byte that
reaches the client comes from the real server, only later.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_CHUNK = 65536


class StallingRelay:
    """``with StallingRelay(host, port) as relay:`` relays ``relay.uri`` to host:port."""

    def __init__(self, target_host: str, target_port: int, *, holding: bool = False):
        self.target = (target_host, target_port)
        self._flowing = threading.Event()
        if not holding:
            self._flowing.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True, name="relay-accept")]

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def hold(self) -> None:
        """From now on, keep the server's answers until ``release``."""
        self._flowing.clear()

    def release(self) -> None:
        """Pass on what was held, and everything after it."""
        self._flowing.set()

    def __enter__(self) -> StallingRelay:
        self._threads[0].start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closed.set()
        self._flowing.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
                self.connections += 1
            for source, sink, held in ((client, server, False), (server, client, True)):
                thread = threading.Thread(target=self._pump, args=(source, sink, held), daemon=True,
                                          name="relay-pump")
                thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket, held: bool) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data or not self._forward(data, sink, held):
                    break
        except OSError:
            pass
        finally:
            # One side went away (a killed client, a stopped server): end the other too.
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _forward(self, data: bytes, sink: socket.socket, held: bool) -> bool:
        """Pass ``data`` on (the server's answers, ``held``, only while flowing); False ends
        this connection. The hook a relay that cuts the stream (write_cut_relay) overrides."""
        while held and not self._flowing.wait(0.1):
            if self._closed.is_set():
                return False
        sink.sendall(data)
        return True
