"""The demo's private OpenLDAP server: made and filled once, then reused.

The first start builds a cn=config and bulk-loads the generated people with
``slapadd`` (seconds, even for many thousands); later starts reuse the run
directory and its data as they are, so what a sync imported stays valid and
a second sync finds everything unchanged. ``demo.json`` in the run directory
is written last and marks a server as complete: a run directory without it
(the first start was interrupted) is thrown away and made again.

The port is kept in ``demo.json`` too and reused when it is free, so the
directory's configured URL stays valid; when it is taken, the server gets a
new one and the caller updates the URL (see ``demo.directory_config``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from profilesync.testing.slapd import SlapdServer, free_port

from .people import write_people_ldif

SUFFIX = "dc=example,dc=org"
STATE_FILE = "demo.json"


@dataclass(frozen=True)
class DemoServerState:
    """What must survive between starts: how many people, where, and the admin password."""

    people: int
    port: int
    root_password: str


@dataclass
class DemoServer:
    slapd: SlapdServer
    state: DemoServerState
    loaded_now: bool  # True on the start that generated and loaded the people

    @property
    def url(self) -> str:
        return self.slapd.ldap_uri

    def stop(self) -> None:
        self.slapd.stop()


def read_state(run_dir: Path) -> DemoServerState | None:
    try:
        data = json.loads((run_dir / STATE_FILE).read_text())
        return DemoServerState(int(data["people"]), int(data["port"]), str(data["root_password"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(run_dir: Path, state: object) -> None:
    """Write ``demo.json`` (mode 0600: it holds the server's admin password) atomically.

    ``state`` is a dataclass: this module's :class:`DemoServerState`, or the AD demo's.
    """
    partial = run_dir / (STATE_FILE + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(state), handle)
    os.replace(partial, run_dir / STATE_FILE)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as slapd does
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stop_leftover_slapd(run_dir: Path, timeout: float = 10.0) -> int | None:
    """Stop a slapd still serving ``run_dir`` after a demo was killed; return its PID.

    Only a process whose command line names this run directory is touched.
    """
    try:
        pid = int((run_dir / "slapd.pid").read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    if not cmdline or not cmdline[0].endswith(b"slapd") or str(run_dir).encode() not in b" ".join(cmdline):
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _running(pid):
        os.kill(pid, signal.SIGKILL)
    return pid


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting for its new parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


# Every demo person logs in with this password (printed in the banner); nobody can
# read it back from the directory.
DEMO_USER_PASSWORD = "demo-password"
DEMO_ACCESS = ("to attrs=userPassword by self write by anonymous auth by * none",
               "to * by * read")


def _build(run_dir: Path, people: int) -> DemoServerState:
    """Make a new server in ``run_dir`` and load ``people`` generated people into it."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, mode=0o700)
    state = DemoServerState(people=people, port=free_port(), root_password=secrets.token_urlsafe(18))
    slapd = SlapdServer(suffix=SUFFIX, root_pw=state.root_password, run_dir=run_dir,
                        access=DEMO_ACCESS)
    slapd.configure()
    ldif = write_people_ldif(run_dir / "people.ldif", people, suffix=SUFFIX,
                             user_password=DEMO_USER_PASSWORD, with_managers=True)
    slapd.load(ldif)
    ldif.unlink()
    write_state(run_dir, state)
    return state


def start_demo_server(run_dir: Path, people: int) -> DemoServer:
    """Start the demo's slapd, building and loading it first if there is none yet."""
    run_dir = run_dir.resolve()
    stop_leftover_slapd(run_dir)
    state = read_state(run_dir)
    loaded_now = state is None
    if state is None:
        state = _build(run_dir, people)
    if not port_is_free(state.port):
        state = DemoServerState(state.people, free_port(), state.root_password)
        write_state(run_dir, state)
    slapd = SlapdServer(suffix=SUFFIX, root_pw=state.root_password, run_dir=run_dir)
    slapd.port = state.port
    try:
        slapd.start()
    except BaseException:
        slapd.stop()  # interrupted while waiting for it to answer: do not leave it running
        raise
    return DemoServer(slapd=slapd, state=state, loaded_now=loaded_now)
