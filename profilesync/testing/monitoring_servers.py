"""Real servers for the monitoring tests: an SMTP server, a webhook receiver, a private PostgreSQL.

Each is a context manager on a free loopback port that cleans up after itself,
like ``slapd.py``: the alert tests talk to real servers, never to mocks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from glob import glob
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<free port>; ``messages`` holds every mail it accepted."""

    def __init__(self, port: int | None = None) -> None:
        self.messages: list[Message] = []
        self.port = port or free_port()
        self._controller = None

    def __enter__(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_DATA(self, smtp_server, session, envelope):  # noqa: N802
                message = message_from_bytes(envelope.original_content or envelope.content,
                                             policy=policy.default)
                message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
                server.messages.append(message)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def bodies(self) -> list[str]:
        return [m.get_content() for m in self.messages]


@dataclass
class ReceivedPost:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        timestamp = self.headers.get("X-Profilesync-Timestamp", "")
        expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + self.body,
                                        hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Profilesync-Signature", ""))


@dataclass
class WebhookReceiver:
    """An HTTP server that records every POST and answers with the next status in ``answers``
    (200 once they run out)."""

    answers: list[int] = field(default_factory=list)
    posts: list[ReceivedPost] = field(default_factory=list)

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.posts.append(ReceivedPost(dict(self.headers.items()), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/profilesync/alert"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class PostgresUnavailable(Exception):
    pass


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb in a temporary folder, run as user postgres,
    free port) that a test may stop and start: never the machine's shared server."""

    def __init__(self) -> None:
        binaries = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise PostgresUnavailable("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = Path(binaries[-1]).parent
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="profilesync-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, check=check,
                              stdin=subprocess.DEVNULL, timeout=120)

    def __enter__(self) -> PrivatePostgres:
        self.socket_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        try:
            self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                              "-A", "trust", "--no-sync", "-E", "UTF8")
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            shutil.rmtree(self.root, ignore_errors=True)
            raise PostgresUnavailable(f"initdb failed: {getattr(exc, 'stderr', exc)}") from exc
        self.start()
        return self

    def start(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                          "-l", str(self.root / "log"), "-o",
                          f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                          "-c fsync=off", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast",
                          "stop", check=False)

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def wait_until(condition, *, timeout: float = 30.0, what: str = "a condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.1)
