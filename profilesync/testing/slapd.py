"""A private OpenLDAP server as a context manager.

Like python-ldap's ``slapdtest``: a free port, a private run directory, a
cn=config made with ``slapadd -n0``, readiness polled with a deadline, a fast
failure when slapd exits, and cleanup always. Unlike it, it can bulk-load data
offline with ``slapadd`` before starting, which is how the demo, the tests and
the benchmarks get thousands of entries (with chosen ``modifyTimestamp``
values when they want them) in seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import ldap
import ldap.modlist

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
MODULE_DIR = "/usr/lib/ldap"
SCHEMA_DIR = "/etc/ldap/schema"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


class SlapdNotAvailable(RuntimeError):
    """slapd is not installed; scripts/bootstrap installs it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config_ldif(run_dir: Path, suffix: str, root_dn: str, root_pw: str, limits: str,
                 syncprov: bool, access: tuple[str, ...]) -> str:
    schemas = "\n".join(f"include: file://{SCHEMA_DIR}/{name}.ldif" for name in SCHEMAS)
    limits_line = f"olcLimits: {limits}\n" if limits else ""
    access_lines = "".join(f"olcAccess: {{{i}}}{rule}\n" for i, rule in enumerate(access))
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {run_dir}/slapd.pid
olcLogLevel: none

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_DIR}
olcModuleLoad: back_mdb
olcModuleLoad: syncprov

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: unlimited

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: {root_dn}

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {suffix}
olcRootDN: {root_dn}
olcRootPW: {root_pw}
olcDbDirectory: {run_dir}/data
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcDbIndex: objectClass,entryUUID,entryCSN,modifyTimestamp eq
olcDbIndex: uid,cn,mail eq
{access_lines}{limits_line}{_SYNCPROV if syncprov else ""}"""


_SYNCPROV = """
dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpSessionlog: 10000
olcSpCheckpoint: 100 10
"""


class SlapdServer:
    """One private slapd. Use as ``with SlapdServer() as server: ...``.

    ``base_ldif`` (the suffix entry and anything else) and any LDIF passed to
    :meth:`load` before :meth:`start` are loaded offline with ``slapadd``.
    """

    def __init__(
        self,
        suffix: str = "dc=example,dc=org",
        root_pw: str = "admin-secret",
        run_dir: str | os.PathLike | None = None,
        limits: str = "",
        syncprov: bool = True,
        access: tuple[str, ...] = ("to * by * read",),
    ) -> None:
        if not os.path.exists(SLAPD):
            raise SlapdNotAvailable("slapd is not installed; run scripts/bootstrap")
        self.suffix = suffix
        self.root_dn = f"cn=admin,{suffix}"
        self.root_pw = root_pw
        self.limits = limits
        # Without syncprov there is no contextCSN and no syncrepl: a plain
        # RFC 4512 directory as far as incremental sync can tell.
        self.syncprov = syncprov
        # olcAccess rules in order, e.g. to let a service account write some
        # attributes and not others (the root DN is never limited by them).
        self.access = access
        self._own_dir = run_dir is None
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix="profilesync-slapd-"))
        self.port = free_port()
        self.socket_path = self.run_dir / "ldapi"
        self.process: subprocess.Popen | None = None
        self._configured = False

    # -- addresses ---------------------------------------------------------
    @property
    def ldap_uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldapi_uri(self) -> str:
        return "ldapi://" + urllib.parse.quote(str(self.socket_path), safe="")

    # -- life cycle --------------------------------------------------------
    def configure(self) -> None:
        """Write cn=config and the suffix entry; safe to call once per run dir."""
        if self._configured or (self.run_dir / "slapd.d").exists():
            self._configured = True
            return
        (self.run_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.run_dir / "slapd.d").mkdir(exist_ok=True)
        config = self.run_dir / "config.ldif"
        config.write_text(
            _config_ldif(self.run_dir, self.suffix, self.root_dn, self.root_pw, self.limits,
                         self.syncprov, self.access)
        )
        self._run([SLAPADD, "-n0", "-F", str(self.run_dir / "slapd.d"), "-l", str(config)])
        top = self.suffix.split(",")[0].split("=", 1)[1]
        self.load(f"dn: {self.suffix}\nobjectClass: dcObject\nobjectClass: organization\n"
                  f"dc: {top}\no: {top}\n")
        self._configured = True

    def load(self, ldif: str | os.PathLike) -> None:
        """Bulk-load LDIF (text or a file path) offline; slapd must be stopped."""
        if self.process is not None:
            raise RuntimeError("slapadd needs slapd stopped; call stop() first")
        if not self._configured and not (self.run_dir / "slapd.d").exists():
            self.configure()
        if isinstance(ldif, str) and "\n" in ldif:
            path = self.run_dir / "load.ldif"
            path.write_text(ldif, encoding="utf-8")
        else:
            path = Path(ldif)
        self._run([SLAPADD, "-q", "-n1", "-F", str(self.run_dir / "slapd.d"), "-l", str(path)])

    def start(self, timeout: float = 10.0) -> SlapdServer:
        self.configure()
        urls = f"{self.ldap_uri}/ {self.ldapi_uri}/"
        self.process = subprocess.Popen(
            [SLAPD, "-d", "0", "-F", str(self.run_dir / "slapd.d"), "-h", urls],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._wait_ready(timeout)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            if self.process.stderr:
                self.process.stderr.close()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> SlapdServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    # -- helpers for tests -------------------------------------------------
    def connect(self) -> ldap.ldapobject.LDAPObject:
        """A connection bound as the root DN (the directory's administrator)."""
        conn = ldap.initialize(self.ldap_uri, bytes_mode=False)
        conn.simple_bind_s(self.root_dn, self.root_pw)
        return conn

    def add(self, dn: str, attributes: dict[str, list[bytes | str]]) -> None:
        encoded = {k: [v if isinstance(v, bytes) else v.encode() for v in vs]
                   for k, vs in attributes.items()}
        conn = self.connect()
        try:
            conn.add_s(dn, ldap.modlist.addModlist(encoded))
        finally:
            conn.unbind_s()

    def modify(self, dn: str, changes: dict[str, list[bytes | str] | None]) -> None:
        """Replace each attribute's values (None deletes the attribute)."""
        mods = []
        for attr, values in changes.items():
            if values is None:
                mods.append((ldap.MOD_DELETE, attr, None))
            else:
                mods.append((ldap.MOD_REPLACE, attr,
                             [v if isinstance(v, bytes) else v.encode() for v in values]))
        conn = self.connect()
        try:
            conn.modify_s(dn, mods)
        finally:
            conn.unbind_s()

    def delete(self, dn: str) -> None:
        conn = self.connect()
        try:
            conn.delete_s(dn)
        finally:
            conn.unbind_s()

    def rename(self, dn: str, new_rdn: str, new_superior: str | None = None) -> None:
        conn = self.connect()
        try:
            conn.rename_s(dn, new_rdn, newsuperior=new_superior, delold=1)
        finally:
            conn.unbind_s()

    # -- internals ---------------------------------------------------------
    def _run(self, command: list[str]) -> None:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                self.process = None
                raise RuntimeError(f"slapd exited at start: {err.strip()}")
            try:
                conn = ldap.initialize(self.ldap_uri)
                conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 0.5)
                conn.simple_bind_s(self.root_dn, self.root_pw)
                conn.unbind_s()
                return
            except ldap.SERVER_DOWN:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"slapd did not answer on {self.ldap_uri} within {timeout} s")
