"""Run the WSGI app (``profilesync.wsgi``) under gunicorn in the foreground.

gunicorn runs as a child process rather than inside this one, for two reasons:
its workers are forked from the master, and a fork of a process that also
supervises a private slapd (the demo) would carry that duty into every worker;
and gunicorn installs its own signal and SIGCHLD handlers, which would reap
children it does not own. So this process only forwards the stop signals and
waits.

Names: a ``bind`` is gunicorn's ``HOST:PORT`` string.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import gunicorn

from profilesync.errors import InvalidSetting

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def default_workers() -> int:
    """gunicorn's rule of thumb, two per core plus one, kept small for SQLite."""
    return min(2 * (os.cpu_count() or 1) + 1, 9)


def parse_bind(bind: str, setting: str = "bind") -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidSetting(setting, f"{bind!r} is not HOST:PORT, e.g. 127.0.0.1:8000")
    return host.strip("[]"), int(port)


def public_url(bind: str) -> str:
    """The address to open in a browser for ``bind`` (a wildcard host means this machine)."""
    host, port = parse_bind(bind)
    if host in ("0.0.0.0", "::", "*"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def check_bind_free(bind: str, setting: str = "bind") -> None:
    """Fail now, with the fix, rather than after gunicorn's five retries."""
    host, port = parse_bind(bind, setting)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InvalidSetting(
                setting, f"cannot listen on {bind} ({exc.strerror}); another program uses it? "
                f"pass another address, e.g. --{setting} {host}:{port + 1}") from None


def gunicorn_argv(bind: str, workers: int, log_level: str = "info") -> list[str]:
    argv = [
        sys.executable, "-m", "gunicorn", "profilesync.wsgi:application",
        "--bind", bind,
        "--workers", str(workers),
        "--log-level", log_level,
        # Above SQLite's 30 s lock timeout, so a request that waits for a sync's
        # write lock gets its answer instead of a killed worker.
        "--timeout", "60",
        "--graceful-timeout", "10",
    ]
    if log_level == "debug":
        argv += ["--access-logfile", "-"]
    if gunicorn.version_info >= (25, 1):
        # Otherwise each server opens ~/.gunicorn/gunicorn.ctl: a file outside the
        # data dir, and a clash between two servers on one machine.
        argv.append("--no-control-socket")
    return argv


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies (Linux), so a
    killed ``serve`` or ``demo`` does not leave gunicorn serving on its own."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve_forever(bind: str, workers: int, log_level: str = "info") -> int:
    """Run gunicorn until it stops; forward SIGTERM/SIGINT/SIGQUIT; return an exit code.

    SIGTERM makes gunicorn finish the requests in flight (up to the graceful
    timeout); SIGINT (Ctrl-C) and SIGQUIT stop it at once. gunicorn runs in its
    own process group, so a Ctrl-C in the terminal reaches it once, through
    here. A stop that was asked for returns 0.
    """
    check_bind_free(bind)
    child = subprocess.Popen(gunicorn_argv(bind, workers, log_level), stdin=subprocess.DEVNULL,
                             process_group=0, preexec_fn=_die_with_parent)
    stop_requested = False

    def forward(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        returncode = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    if stop_requested:
        return 0
    return 128 - returncode if returncode < 0 else returncode
