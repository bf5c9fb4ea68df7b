"""A private Samba Active Directory domain controller as a context manager.

Samba speaks the AD dialect of LDAP (objectGUID, userAccountControl,
whenChanged, thumbnailPhoto, 1,000-entry pages, no assertion control), so the
tests and the demo prove the Active Directory code paths against it.

Why it looks the way it does:

- Samba binds the standard ports (389, 636, 88, 445, ...) of the addresses it
  serves, so there is one DC per loopback address. :func:`claim_loopback_address`
  takes the first 127.0.0.N (N from 2) whose lock file it can hold and whose
  ports are free, so concurrent test runs and the demo never collide. Only
  root may bind those ports, hence :class:`SambaNotAvailable` for others.
- Provisioning takes about 7 s. Nothing in a provisioned domain names the host
  address or the folder except ``etc/smb.conf`` (the DNS backend is NONE, so no
  address records exist), so one provisioned *template* is kept in the temp
  folder, keyed by :data:`TEMPLATE_VERSION` and the Samba version, copied per
  DC and given a freshly written smb.conf. Copies share the domain's SID and
  the DC's invocationId: ``SambaDC(use_template=False)`` provisions a DC of its
  own when a test needs two DCs that differ.
- Samba's self-made certificate names ``DC1.example.test``, which no resolver on
  a test machine maps to 127.0.0.N, so LDAPS and StartTLS with certificate and
  host-name checks (as a careful administrator runs them) could not succeed.
  Each DC gets a certificate for its address from a CA of its own instead,
  written where Samba keeps its own (``private/tls/ca.pem``): :attr:`ca_file`.
- ``ldb:nosync`` skips fsync on every write: a test DC needs no durability
  across power loss. Only the LDAP service runs (no SMB, Kerberos, NetBIOS).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import ldap
import ldap.modlist

SAMBA = shutil.which("samba") or "/usr/sbin/samba"
SAMBA_TOOL = shutil.which("samba-tool") or "/usr/bin/samba-tool"

# Bump when the provisioning below changes, so stale cached templates are not reused.
TEMPLATE_VERSION = "1"

REALM = "EXAMPLE.TEST"
DOMAIN = "EXAMPLE"
DNS_DOMAIN = "example.test"
BASE_DN = "DC=example,DC=test"
USERS_DN = f"CN=Users,{BASE_DN}"
ADMIN_DN = f"CN=Administrator,{USERS_DN}"
ADMIN_PASSWORD = "Admin-pw-4711!"
HOST_NAME = "dc1"

# Every port a DC binds on its address that another DC on the same address would want.
DC_PORTS = (88, 389, 445, 464, 636, 3268, 3269)

# userAccountControl of test users: NORMAL_ACCOUNT | PASSWD_NOTREQD, and that plus ACCOUNTDISABLE.
ENABLED_ACCOUNT = 544
DISABLED_ACCOUNT = 546

LOCK_DIR = Path(tempfile.gettempdir()) / "profilesync-samba-locks"

Attributes = dict[str, str | bytes | list[str | bytes]]


class SambaNotAvailable(RuntimeError):
    """Samba cannot run here: not installed (scripts/bootstrap installs it) or not root."""


def samba_unavailable_reason() -> str | None:
    """Why a private DC cannot run on this machine, or None when it can."""
    if not (os.path.exists(SAMBA) and os.path.exists(SAMBA_TOOL)):
        return "Samba is not installed (scripts/bootstrap installs samba and samba-ad-dc)"
    if os.geteuid() != 0:
        return "a Samba DC binds the privileged LDAP ports (389, 636), which needs root"
    return None


def samba_version() -> str:
    result = subprocess.run([SAMBA, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


# -- one loopback address per DC -------------------------------------------------

def _port_answers(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def _port_bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


@dataclass
class LoopbackClaim:
    """A loopback address held for one DC: the lock file stays locked while it lives."""

    host: str
    _lock_fd: int

    def release(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def claim_loopback_address(first: int = 2, last: int = 254) -> LoopbackClaim:
    """The first free 127.0.0.N: its lock held by us and none of the DC ports in use.

    The lock file keeps two DCs of this code apart (several test runs and the
    demo on one machine); the port checks keep out of the way of anything else.
    """
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    for n in range(first, last + 1):
        host = str(ipaddress.IPv4Address(f"127.0.0.{n}"))
        fd = os.open(LOCK_DIR / f"{host}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if any(_port_answers(host, port) or not _port_bindable(host, port) for port in DC_PORTS):
            os.close(fd)
            continue
        return LoopbackClaim(host, fd)
    raise SambaNotAvailable(f"no free loopback address between 127.0.0.{first} and 127.0.0.{last}")


# -- provisioning and the cached template ------------------------------------------

def _dir_options(run_dir: Path) -> dict[str, str]:
    """Every folder and socket Samba would otherwise put under /var or /run."""
    return {
        "private dir": f"{run_dir}/private",
        "binddns dir": f"{run_dir}/bind-dns",
        "state directory": f"{run_dir}/state",
        "cache directory": f"{run_dir}/cache",
        "lock directory": f"{run_dir}/lock",
        "pid directory": f"{run_dir}/run",
        "ncalrpc dir": f"{run_dir}/run/ncalrpc",
        "winbindd socket directory": f"{run_dir}/run/winbindd",
        "ntp signd socket directory": f"{run_dir}/run/ntp_signd",
        "log file": f"{run_dir}/log/samba.log",
    }


def smb_conf(run_dir: Path, host: str, *, require_strong_auth: bool = True) -> str:
    """The DC's whole smb.conf: written fresh for every copy of the template."""
    options = {
        "netbios name": HOST_NAME.upper(),
        "realm": REALM,
        "workgroup": DOMAIN,
        "server role": "active directory domain controller",
        "idmap_ldb:use rfc2307": "yes",
        # An address alone is looked up among the interfaces' own addresses (only
        # 127.0.0.1 here); with a netmask Samba takes it as given.
        "interfaces": f"{host}/8",
        "bind interfaces only": "yes",
        # LDAP is all profilesync speaks; no SMB, NetBIOS, Kerberos or replication.
        "server services": "ldap",
        "ldb:nosync": "true",
        "tls enabled": "yes",
        "tls keyfile": f"{run_dir}/private/tls/key.pem",
        "tls certfile": f"{run_dir}/private/tls/cert.pem",
        "tls cafile": f"{run_dir}/private/tls/ca.pem",
        # Samba's default ("yes") refuses simple binds without TLS, as AD with LDAP
        # signing enforced does; "no" is there for tests that want plain LDAP.
        "ldap server require strong auth": "yes" if require_strong_auth else "no",
        **_dir_options(run_dir),
    }
    lines = "".join(f"\t{name} = {value}\n" for name, value in options.items())
    return f"[global]\n{lines}"


def _provision(target: Path) -> None:
    """``samba-tool domain provision`` into ``target`` (about 7 s)."""
    target.mkdir(parents=True)
    empty = target / "empty.conf"
    empty.write_text("")  # so the machine's own /etc/samba/smb.conf is never read or copied
    command = [
        SAMBA_TOOL, "domain", "provision", "-s", str(empty), f"--targetdir={target}",
        f"--realm={REALM}", f"--domain={DOMAIN}", "--server-role=dc", "--dns-backend=NONE",
        "--use-rfc2307", f"--adminpass={ADMIN_PASSWORD}", f"--host-name={HOST_NAME}",
        "--host-ip=127.0.0.1", "--option=interfaces=127.0.0.1/8",
        "--option=bind interfaces only=yes",
        *(f"--option={name}={value}" for name, value in _dir_options(target).items()),
    ]
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"samba-tool domain provision failed: {result.stderr.strip()[-2000:]}")
    # Test passwords need no history and may be changed again at once.
    result = subprocess.run(
        [SAMBA_TOOL, "domain", "passwordsettings", "set", "-s", str(target / "etc/smb.conf"),
         "-H", str(target / "private/sam.ldb"), "--history-length=0", "--min-pwd-age=0",
         "--max-pwd-age=0"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"samba-tool domain passwordsettings failed: {result.stderr.strip()}")
    # Samba makes its own certificate on first start; each copy gets one for its address.
    shutil.rmtree(target / "private/tls", ignore_errors=True)


def template_dir() -> Path:
    """A provisioned domain in the temp folder, made once per template and Samba version."""
    key = hashlib.sha256(f"{TEMPLATE_VERSION} {samba_version()}".encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir())
    template = root / f"profilesync-samba-template-{key}"
    if (template / "private/sam.ldb").exists():
        return template
    # One provisioning at a time per machine; the others wait and then reuse it.
    with open(root / f"profilesync-samba-template-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "private/sam.ldb").exists():
            partial = Path(tempfile.mkdtemp(prefix=f"profilesync-samba-template-{key}-", dir=root))
            partial.rmdir()
            try:
                _provision(partial)
                os.rename(partial, template)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
    return template


def _certificate_names(cert_path: Path, host: str) -> bool:
    """Whether the certificate at ``cert_path`` exists and names the address ``host``."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    return ipaddress.IPv4Address(host) in names.get_values_for_type(x509.IPAddress)


def _write_certificates(tls_dir: Path, host: str) -> None:
    """A CA and a server certificate for ``host`` and the DC's DNS name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"profilesync test CA {host}")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    fqdn = f"{HOST_NAME}.{DNS_DOMAIN}"
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, fqdn)]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(fqdn), x509.IPAddress(ipaddress.IPv4Address(host))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls_dir.mkdir(parents=True, exist_ok=True)
    (tls_dir / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (tls_dir / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # Samba refuses a key file that others may read.
    fd = os.open(tls_dir / "key.pem", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))


# -- entries -------------------------------------------------------------------------

def _encode(values: str | bytes | int | list[str | bytes]) -> list[bytes]:
    if not isinstance(values, list):
        values = [values]
    return [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values]


def user_entry(sam: str, *, enabled: bool = True, **attributes: str | bytes | list[str | bytes]
               ) -> dict[str, list[bytes]]:
    """An AD user ``sam`` with ``sam@example.test`` as UPN, enabled without a password.

    Users added without a password must say "password not required" (544), or
    Samba refuses them; 546 is the same account disabled.
    """
    entry: Attributes = {
        "objectClass": ["top", "person", "organizationalPerson", "user"],
        "cn": sam,
        "sAMAccountName": sam,
        "userPrincipalName": f"{sam}@{DNS_DOMAIN}",
        "givenName": sam,
        "sn": sam,
        "displayName": f"Person {sam}",
        "userAccountControl": str(ENABLED_ACCOUNT if enabled else DISABLED_ACCOUNT),
    }
    entry.update(attributes)
    return {name: _encode(value) for name, value in entry.items()}


def unicode_pwd(password: str) -> bytes:
    """AD's write-only password attribute: the password in quotes, UTF-16-LE."""
    return f'"{password}"'.encode("utf-16-le")


# -- the domain controller -------------------------------------------------------------

class SambaDC:
    """One private Samba AD DC. Use as ``with SambaDC() as dc: ...``.

    ``run_dir`` is made (a copy of the cached template, or a fresh provision
    with ``use_template=False``) unless it already holds a provisioned domain,
    which is how the demo keeps its DC between starts.
    """

    base_dn = BASE_DN
    users_dn = USERS_DN
    admin_dn = ADMIN_DN
    admin_password = ADMIN_PASSWORD
    realm = REALM
    dns_domain = DNS_DOMAIN

    def __init__(self, run_dir: str | os.PathLike | None = None, *, use_template: bool = True,
                 require_strong_auth: bool = True) -> None:
        reason = samba_unavailable_reason()
        if reason:
            raise SambaNotAvailable(reason)
        self._own_dir = run_dir is None
        self.run_dir = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="profilesync-samba-"))
        self.use_template = use_template
        self.require_strong_auth = require_strong_auth
        self.host = ""
        self._claim: LoopbackClaim | None = None
        self.process: subprocess.Popen | None = None

    # -- addresses -----------------------------------------------------------
    @property
    def ldap_uri(self) -> str:
        return f"ldap://{self.host}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://{self.host}"

    @property
    def ca_file(self) -> str:
        """The CA that signed the DC's certificate: the directory setting ``ca_file``."""
        return str(self.run_dir / "private/tls/ca.pem")

    @property
    def sam_ldb(self) -> str:
        return str(self.run_dir / "private/sam.ldb")

    @property
    def smb_conf_path(self) -> Path:
        return self.run_dir / "etc/smb.conf"

    # -- life cycle ----------------------------------------------------------
    def provision(self) -> None:
        """Make the domain in ``run_dir`` unless it is there already."""
        if (self.run_dir / "private/sam.ldb").exists():
            return
        if self.run_dir.exists():
            if any(self.run_dir.iterdir()):
                raise RuntimeError(f"{self.run_dir} is not empty and holds no provisioned domain")
            self.run_dir.rmdir()  # copytree and samba-tool make it themselves
        if self.use_template:
            shutil.copytree(template_dir(), self.run_dir, symlinks=True)
        else:
            _provision(self.run_dir)

    def start(self, timeout: float = 60.0) -> SambaDC:
        self.provision()
        stop_leftover_samba(self.run_dir)
        if self._claim is None:
            self._claim = claim_loopback_address()
            self.host = self._claim.host
        for folder in ("run", "log", "lock", "cache", "state"):
            (self.run_dir / folder).mkdir(parents=True, exist_ok=True)
        self.smb_conf_path.write_text(
            smb_conf(self.run_dir, self.host, require_strong_auth=self.require_strong_auth))
        if not _certificate_names(self.run_dir / "private/tls/cert.pem", self.host):
            # Kept across restarts, so a CA file copied elsewhere stays valid.
            _write_certificates(self.run_dir / "private/tls", self.host)
        self.process = subprocess.Popen(
            [SAMBA, "-F", "-s", str(self.smb_conf_path)],
            stdin=subprocess.DEVNULL,  # samba -i would quit at end of input; -F just runs
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped as a whole
        )
        self._wait_ready(timeout)
        return self

    def stop(self) -> None:
        """Stop the DC and every helper it forked (they hold the ports for a while)."""
        if self.process is None:
            return
        pgid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 10
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._claim is not None:
            self._claim.release()
            self._claim = None
        if self._own_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> SambaDC:
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    # -- connections -----------------------------------------------------------
    def connect(self, bind_dn: str | None = None, password: str | None = None
                ) -> ldap.ldapobject.LDAPObject:
        """A connection over LDAPS (checked against :attr:`ca_file`), bound as the administrator."""
        conn = ldap.initialize(self.ldaps_uri, bytes_mode=False)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, self.ca_file)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.simple_bind_s(bind_dn or self.admin_dn,
                           self.admin_password if password is None else password)
        return conn

    @contextlib.contextmanager
    def admin(self) -> Iterator[ldap.ldapobject.LDAPObject]:
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.unbind_s()

    # -- entries ---------------------------------------------------------------
    def add(self, dn: str, attributes: Attributes,
            conn: ldap.ldapobject.LDAPObject | None = None) -> str:
        encoded = {name: _encode(values) for name, values in attributes.items()}
        if conn is not None:
            conn.add_s(dn, ldap.modlist.addModlist(encoded))
            return dn
        with self.admin() as own:
            own.add_s(dn, ldap.modlist.addModlist(encoded))
        return dn

    def add_ou(self, name: str, parent_dn: str | None = None,
               conn: ldap.ldapobject.LDAPObject | None = None) -> str:
        dn = f"OU={ldap.dn.escape_dn_chars(name)},{parent_dn or self.base_dn}"
        return self.add(dn, {"objectClass": ["top", "organizationalUnit"], "ou": name}, conn)

    def add_user(self, sam: str, parent_dn: str | None = None, *, enabled: bool = True,
                 password: str | None = None, conn: ldap.ldapobject.LDAPObject | None = None,
                 **attributes: str | bytes | list[str | bytes]) -> str:
        """Add ``sam`` (CN=sam) under ``parent_dn`` (default CN=Users); return its DN."""
        dn = f"CN={ldap.dn.escape_dn_chars(str(attributes.get('cn', sam)))},{parent_dn or self.users_dn}"
        entry = user_entry(sam, enabled=enabled, **attributes)
        if conn is not None:
            conn.add_s(dn, ldap.modlist.addModlist(entry))
        else:
            with self.admin() as own:
                own.add_s(dn, ldap.modlist.addModlist(entry))
        if password is not None:
            self.set_password(dn, password)
        return dn

    def add_users(self, users: Iterable[tuple[str, Attributes]], parent_dn: str | None = None,
                  *, window: int = 64) -> list[str]:
        """Add many users over one connection; ``users`` yields ``(sAMAccountName, attributes)``.

        Requests are pipelined (up to ``window`` outstanding), so the round trip
        is paid once per window rather than per user; Samba still commits each
        add on its own (about 100 to 200 per second here).
        """
        parent = parent_dn or self.users_dn
        added: list[str] = []
        pending: list[int] = []
        with self.admin() as conn:
            for sam, attributes in users:
                attributes = dict(attributes)
                enabled = bool(attributes.pop("enabled", True))
                dn = f"CN={ldap.dn.escape_dn_chars(str(attributes.get('cn', sam)))},{parent}"
                entry = user_entry(sam, enabled=enabled, **attributes)
                pending.append(conn.add(dn, ldap.modlist.addModlist(entry)))
                added.append(dn)
                if len(pending) >= window:
                    conn.result(pending.pop(0))
            for msgid in pending:
                conn.result(msgid)
        return added

    def modify(self, dn: str, **changes: str | bytes | int | list[str | bytes] | None) -> None:
        """Replace each attribute's values; None deletes the attribute."""
        mods = [(ldap.MOD_DELETE, name, None) if values is None
                else (ldap.MOD_REPLACE, name, _encode(values))
                for name, values in changes.items()]
        with self.admin() as conn:
            conn.modify_s(dn, mods)

    def delete(self, dn: str) -> None:
        with self.admin() as conn:
            conn.delete_s(dn)

    def delete_tree(self, dn: str) -> None:
        """Delete ``dn`` and everything under it (the tree-delete control)."""
        tree_delete = ldap.controls.LDAPControl("1.2.840.113556.1.4.805", True)
        with self.admin() as conn:
            conn.delete_ext_s(dn, serverctrls=[tree_delete])

    def rename(self, dn: str, new_rdn: str, new_superior_dn: str | None = None) -> str:
        with self.admin() as conn:
            conn.rename_s(dn, new_rdn, newsuperior=new_superior_dn, delold=1)
        return f"{new_rdn},{new_superior_dn or dn.split(',', 1)[1]}"

    def set_password(self, dn: str, password: str) -> None:
        """Set a user's password over LDAPS (``unicodePwd`` needs an encrypted connection)."""
        with self.admin() as conn:
            conn.modify_s(dn, [(ldap.MOD_REPLACE, "unicodePwd", [unicode_pwd(password)])])

    def change_admin_password(self, password: str) -> None:
        """Give the administrator a password of its own (the template's is in this file).

        AD's complexity rules apply: three of upper case, lower case, digits, symbols.
        """
        self.set_password(self.admin_dn, password)
        self.admin_password = password

    def read(self, dn: str, *attributes: str) -> dict[str, list[bytes]]:
        with self.admin() as conn:
            ((_, found),) = conn.search_s(dn, ldap.SCOPE_BASE, attrlist=list(attributes) or None)
        return found

    # -- internals -------------------------------------------------------------
    def _log_tail(self) -> str:
        try:
            return (self.run_dir / "log/samba.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"samba exited at start: {self._log_tail()}")
            try:
                conn = ldap.initialize(self.ldap_uri)
                conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 0.5)
                conn.search_s("", ldap.SCOPE_BASE, attrlist=["currentTime"])
                conn.unbind_s()
                if os.path.exists(self.ca_file):
                    return
            except ldap.SERVER_DOWN:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"samba did not answer on {self.ldap_uri} within {timeout} s: "
                           f"{self._log_tail()}")


def stop_leftover_samba(run_dir: Path, timeout: float = 10.0) -> int | None:
    """Stop a samba still serving ``run_dir`` after its owner was killed; return its PID.

    Two samba processes on one sam.ldb would corrupt it, and the old one would
    keep its loopback address. Only a samba process that has this run
    directory's sam.ldb open is touched, with its whole process group. (Samba
    rewrites its command line to "samba: root process", so that cannot tell.)
    """
    try:
        pid = int((run_dir / "run/samba.pid").read_text().split()[0])
        if Path(f"/proc/{pid}/exe").resolve() != Path(SAMBA).resolve():
            return None
        open_files = [os.readlink(link) for link in Path(f"/proc/{pid}/fd").iterdir()]
    except (OSError, ValueError, IndexError):
        return None
    if not any(name.startswith(f"{run_dir}/private/") for name in open_files):
        return None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return pid


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
