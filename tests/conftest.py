"""Shared fixtures: one private slapd per test session, a private subtree per test.

Naming kept in the tests: a name ending in ``_dn`` is a DN string; ``subtree``
is the test's own branch of the directory (``ou=tN,dc=example,dc=org``), so
tests never see each other's entries although they share one server.

Django's settings are loaded by pytest-django before this file is imported,
so paths are moved here after the fact: pictures go to a temporary
MEDIA_ROOT, and the test databases get names of their own per run (a SQLite
file in a temporary folder; ``test_<name>_<pid>`` on PostgreSQL, so two
engineers running the suite at once do not drop each other's database).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import ldap
import ldap.modlist
import pytest
from django.test.utils import override_settings

from profilesync.testing.availability import unavailable
from profilesync.testing.samba import SambaDC, samba_unavailable_reason
from profilesync.testing.slapd import SlapdNotAvailable, SlapdServer

# No example database in ./.hypothesis (a run writes nothing into the repository)
# and no per-example deadline: the suite asserts behaviour, never timing, and
# shares the machine with benchmarks.
hypothesis.settings.register_profile("profilesync", database=None, deadline=None)
hypothesis.settings.load_profile("profilesync")

Attributes = dict[str, str | bytes | list[str | bytes]]

_subtree_numbers = itertools.count(1)


# -- Django: private media folder and database names -----------------------

@pytest.fixture(scope="session", autouse=True)
def _private_media_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Pictures and cached sync progress land in temporary folders, never in ./var."""
    cache = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                         "LOCATION": str(tmp_path_factory.mktemp("cache"))}}
    override = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")), CACHES=cache)
    override.enable()
    yield
    override.disable()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from django.conf import settings

    config = settings.DATABASES["default"]
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # A file (not memory) so that a subprocess can open the same test database.
        config.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    else:
        config.setdefault("TEST", {})["NAME"] = f"test_{config['NAME']}_{os.getpid()}"
        _drop_databases_of_dead_runs(config)


def _drop_databases_of_dead_runs(config: dict) -> None:
    """Drop ``test_<name>_<pid>`` databases left by test runs that were killed.

    A run that ends normally drops its own; one killed by a timeout cannot. A database
    is dropped only when its process is gone from this machine and nobody is connected
    to it (no FORCE), so a run still going on here or elsewhere is never disturbed.
    """
    import re

    import psycopg

    pattern = re.compile(rf"test_{re.escape(config['NAME'])}_(\d+)")
    params = {"host": config.get("HOST") or None, "port": config.get("PORT") or None,
              "user": config.get("USER") or None, "password": config.get("PASSWORD") or None,
              "dbname": "postgres", "autocommit": True}
    try:
        with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as admin:
            names = [row[0] for row in admin.execute("SELECT datname FROM pg_database")]
            for name in names:
                match = pattern.fullmatch(name)
                if not match or _process_alive(int(match.group(1))):
                    continue
                try:
                    admin.execute(f'DROP DATABASE "{name}"')
                except psycopg.Error:
                    continue  # in use: not ours to take
    except psycopg.Error:
        return  # the suite's own connection reports what is wrong with the server


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- LDAP: one server, one subtree per test --------------------------------

def _encode(values: str | bytes | list[str | bytes]) -> list[bytes]:
    if not isinstance(values, list):
        values = [values]
    return [v if isinstance(v, bytes) else v.encode("utf-8") for v in values]


@dataclass
class Subtree:
    """A test's own branch ``ou=tN`` of the shared server, with ``ou=people`` in it."""

    server: SlapdServer
    conn: ldap.ldapobject.LDAPObject  # bound as the root DN
    dn: str

    @property
    def people_dn(self) -> str:
        return f"ou=people,{self.dn}"

    def add(self, dn: str, attributes: Attributes) -> str:
        self.conn.add_s(dn, ldap.modlist.addModlist({k: _encode(v) for k, v in attributes.items()}))
        return dn

    def add_ou(self, name: str) -> str:
        return self.add(f"ou={name},{self.dn}", {"objectClass": "organizationalUnit", "ou": name})

    def add_person(self, uid: str, *, rdn: str | None = None, parent_dn: str | None = None,
                   **attributes: str | bytes | list[str | bytes]) -> str:
        """Add an inetOrgPerson ``uid=UID`` (or ``rdn``) under ou=people; return its DN."""
        entry: Attributes = {
            "objectClass": "inetOrgPerson",
            "uid": uid,
            "cn": f"Person {uid}",
            "sn": uid,
            "displayName": f"Person {uid}",
        }
        entry.update(attributes)
        return self.add(f"{rdn or f'uid={uid}'},{parent_dn or self.people_dn}", entry)

    def add_people(self, count: int, prefix: str = "user") -> list[str]:
        return [self.add_person(f"{prefix}{i:03d}", title="Engineer") for i in range(count)]

    def modify(self, dn: str, **changes: str | bytes | list[str | bytes] | None) -> None:
        """Replace each attribute's values; None deletes the attribute."""
        mods = [(ldap.MOD_DELETE, name, None) if values is None
                else (ldap.MOD_REPLACE, name, _encode(values))
                for name, values in changes.items()]
        self.conn.modify_s(dn, mods)

    def delete(self, dn: str) -> None:
        self.conn.delete_s(dn)

    def rename(self, dn: str, new_rdn: str, new_superior_dn: str | None = None) -> str:
        self.conn.rename_s(dn, new_rdn, newsuperior=new_superior_dn, delold=1)
        parent = new_superior_dn or dn.split(",", 1)[1]
        return f"{new_rdn},{parent}"


@pytest.fixture(scope="session")
def slapd_server() -> Iterator[SlapdServer]:
    """One private OpenLDAP server for the whole session.

    slapd missing: a skip, but under CI a failure. slapd installed but not
    starting: an error everywhere (SlapdServer says why).
    """
    try:
        server = SlapdServer()
    except SlapdNotAvailable as exc:
        unavailable("a directory server (slapd)", str(exc))
    with server:
        yield server


@pytest.fixture(scope="session")
def ldap_admin(slapd_server: SlapdServer) -> Iterator[ldap.ldapobject.LDAPObject]:
    """A connection bound as the server's root DN, for arranging entries."""
    conn = slapd_server.connect()
    yield conn
    conn.unbind_s()


def new_subtree(server: SlapdServer, conn: ldap.ldapobject.LDAPObject) -> Subtree:
    subtree = Subtree(server, conn, f"ou=t{next(_subtree_numbers)},{server.suffix}")
    subtree.add(subtree.dn, {"objectClass": "organizationalUnit", "ou": subtree.dn[3:].split(",")[0]})
    subtree.add_ou("people")
    return subtree


@pytest.fixture(scope="session")
def make_subtree(slapd_server: SlapdServer,
                 ldap_admin: ldap.ldapobject.LDAPObject) -> Callable[[], Subtree]:
    """For fixtures wider than one test: ``make_subtree()`` gives a fresh branch."""
    return lambda: new_subtree(slapd_server, ldap_admin)


@pytest.fixture
def subtree(make_subtree: Callable[[], Subtree]) -> Subtree:
    """This test's own branch of the directory, with an empty ou=people."""
    return make_subtree()


# -- profilesync objects ---------------------------------------------------

@pytest.fixture
def directory_options(slapd_server: SlapdServer) -> Callable[..., dict]:
    """Options for ``create_directory`` pointing at a subtree, bound as the root DN."""

    def options(subtree: Subtree | None, **overrides: object) -> dict:
        values = {
            "urls": [slapd_server.ldap_uri],
            "bind_dn": slapd_server.root_dn,
            "bind_password": slapd_server.root_pw,
            "base_dn": subtree.dn if subtree is not None else slapd_server.suffix,
            "user_dn": "ou=people",
        }
        values.update(overrides)
        return values

    return options


@pytest.fixture
def fresh_install(db: None) -> None:
    """A database as `profilesync init` leaves it, default profile fields included.

    Transactional tests empty every table afterwards, the migration's default
    fields too; this puts them back so each test starts as a fresh install.
    """
    from profilesync.profiles.defaults import create_default_fields
    from profilesync.profiles.models import ProfileField

    create_default_fields(ProfileField)


@pytest.fixture
def make_directory(fresh_install: None,
                   directory_options: Callable[..., dict]) -> Callable[..., object]:
    """Create a Directory through the service the CLI uses (defaults: OpenLDAP, root bind)."""
    from profilesync.directories.services import create_directory

    def make(subtree: Subtree | None, name: str = "corp", **overrides: object):
        return create_directory(name, directory_options(subtree, **overrides))

    return make


@pytest.fixture
def sync_directory(db: None) -> Callable[..., object]:
    """Run a full sync (whatever the incremental setting) of one directory; return its result."""
    from profilesync.sync.runner import run_sync

    def sync(directory, *, force: bool = False):
        report = run_sync([directory], force=force, mode="full")
        (result,) = report.results
        return result

    return sync


def profiles_by_username(directory) -> dict:
    from profilesync.profiles.models import Profile

    return {p.username: p for p in Profile.objects.filter(directory=directory)}


@pytest.fixture
def profiles() -> Callable[..., dict]:
    """``profiles(directory)`` -> {username: Profile} as stored now."""
    return profiles_by_username


# -- the command line and subprocesses -------------------------------------

@pytest.fixture
def cli(capsys: pytest.CaptureFixture) -> Callable[..., tuple[int, str, str]]:
    """``cli(*argv)``: run `profilesync ARGV` in this process as the console script does.

    Returns (exit code, stdout, stderr).
    """
    from profilesync.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def profilesync_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for a `profilesync` subprocess working on this test's database.

    Same database, secret key (bind passwords stay readable), media folder and
    time zone as the test; a private data folder.
    """
    from urllib.parse import quote

    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        url = f"sqlite:///{db['NAME']}"
    else:
        credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        url = f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PROFILESYNC_DATABASE_URL": url,
            "PROFILESYNC_SECRET_KEY": settings.SECRET_KEY,
            "PROFILESYNC_DATA_DIR": str(tmp_path_factory.mktemp("data")),
            "PROFILESYNC_MEDIA_DIR": str(settings.MEDIA_ROOT),
            "PROFILESYNC_TIME_ZONE": settings.TIME_ZONE}


# -- waiting and slow networks (scheduling tests) --------------------------

@pytest.fixture
def wait_for() -> Callable[..., object]:
    """``wait_for(condition, what=..., timeout=30)``: poll until true, fail at the deadline.

    Tests of workers and leases wait for a state, never for a time: they assert
    what happened, and the deadline only turns a hang into a failure.
    """
    import time

    def wait(condition: Callable[[], object], *, what: str, timeout: float = 30.0) -> object:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"gave up after {timeout:g} s waiting for {what}")
            time.sleep(0.05)

    return wait


@pytest.fixture
def race() -> Callable[..., list]:
    """``race(count, action)``: run ``action`` in ``count`` threads released together.

    Returns their results. Each thread has its own database connection (so the
    test needs committed data: ``django_db(transaction=True)``) and closes it.
    """
    import threading

    from django.db import connections

    def run(count: int, action: Callable[[], object]) -> list:
        barrier = threading.Barrier(count)
        results: list = [None] * count
        errors: list[BaseException] = []

        def contender(index: int) -> None:
            try:
                barrier.wait(timeout=30)
                results[index] = action()
            except BaseException as exc:  # reported in the test's own thread below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=contender, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        return results

    return run


@pytest.fixture
def stalling_relay(slapd_server: SlapdServer) -> Iterator[object]:
    """A relay to the session slapd (``.uri``) whose answers a test can ``hold()`` and ``release()``."""
    from profilesync.testing.stalling_relay import StallingRelay

    with StallingRelay("127.0.0.1", slapd_server.port) as relay:
        yield relay


# -- the browser: Debian's chromium driven by Playwright ----------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"]

# Playwright's sync API runs an event loop in the test's thread; the test's own
# database calls are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for the session (never Playwright's own browser download).

    Under CI a chromium that is missing or does not start fails the test.
    """
    if not os.path.exists(CHROMIUM):
        unavailable("a browser (chromium)", "chromium is not installed; scripts/bootstrap "
                    "installs it")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        except PlaywrightError as exc:
            unavailable("a browser (chromium)", f"it did not start: {exc}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser tab (own cookies) at desktop width."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_page(browser) -> Iterator[object]:
    """A fresh browser tab at phone width."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def log_in() -> Callable[..., None]:
    """``log_in(page, live_server, username, password)`` through the login form."""

    def run(page, live_server, username: str, password: str) -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()

    return run


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where browser tests save screenshots of the main pages (``var/screenshots``)."""
    folder = Path(os.environ.get("PROFILESYNC_SCREENSHOT_DIR", "var/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- a directory with ACLs, for write-back ------------------------------------

SERVICE_DN = "cn=sync,dc=example,dc=org"
WRITE_ACCESS = (
    "to attrs=userPassword by self write by anonymous auth by * none",
    f'to attrs=title by dn.exact="{SERVICE_DN}" read by * read',
    f'to * by dn.exact="{SERVICE_DN}" write by * read',
)


@pytest.fixture
def acl_server(tmp_path) -> Iterator[SlapdServer]:
    """A private slapd whose service account cn=sync may write everything but ``title``,
    with one person, uid=ann (password ann-pw-1), title Engineer, phone +49 30 1111."""
    from profilesync.testing.ldif import PEOPLE_OU

    server = SlapdServer(run_dir=tmp_path / "acl-slapd", access=WRITE_ACCESS)
    server.load(
        "dn: cn=sync,dc=example,dc=org\nobjectClass: organizationalRole\n"
        "objectClass: simpleSecurityObject\ncn: sync\nuserPassword: sync-pw\n\n"
        + PEOPLE_OU
        + "dn: uid=ann,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: ann\n"
          "cn: Ann\nsn: A\ndisplayName: Ann Archer\ntitle: Engineer\n"
          "telephoneNumber: +49 30 1111\nuserPassword: ann-pw-1\n\n")
    with server:
        yield server


@pytest.fixture
def acl_directory(acl_server, make_directory):
    """Directory "corp" on ``acl_server``, bound as the service account."""
    return make_directory(None, name="corp", urls=[acl_server.ldap_uri], bind_dn=SERVICE_DN,
                          bind_password="sync-pw", base_dn=acl_server.suffix)


# -- Active Directory: one private Samba DC per session, one OU per test ---------

def _samba_unavailable(reason: str) -> None:
    """Skip, except under CI, where a silently skipped AD suite would prove nothing."""
    unavailable("a Samba AD domain controller", reason)


@pytest.fixture(scope="session")
def samba_dc() -> Iterator[SambaDC]:
    """One private Samba AD DC for the session, on a loopback address of its own.

    It refuses plain-LDAP simple binds (Samba's default), so directories reach it
    over LDAPS or StartTLS with its CA file, as a careful administrator would.
    """
    reason = samba_unavailable_reason()
    if reason:
        _samba_unavailable(reason)
    with SambaDC() as dc:
        yield dc


@dataclass
class ADSubtree:
    """A test's own ``OU=tN`` in the domain, with an empty ``OU=people`` in it.

    sAMAccountName and userPrincipalName are unique in the whole domain, so the
    ``ad_ou`` fixture deletes its OU afterwards and the next test may reuse names.
    """

    dc: SambaDC
    dn: str

    @property
    def people_dn(self) -> str:
        return f"OU=people,{self.dn}"

    def add_user(self, sam: str, *, parent_dn: str | None = None, enabled: bool = True,
                 password: str | None = None, **attributes: str | bytes | list[str | bytes]) -> str:
        """Add an AD user ``sam`` (UPN ``sam@example.test``) under OU=people; return its DN."""
        return self.dc.add_user(sam, parent_dn or self.people_dn, enabled=enabled,
                                password=password, **attributes)

    def add_users(self, count: int, prefix: str = "user", **attributes: str | bytes) -> list[str]:
        """``count`` enabled users ``prefix0000``... with the given attributes, pipelined."""
        return self.dc.add_users(((f"{prefix}{i:04d}", attributes) for i in range(count)),
                                 self.people_dn)

    def modify(self, dn: str, **changes: str | bytes | int | list[str | bytes] | None) -> None:
        self.dc.modify(dn, **changes)

    def rename(self, dn: str, new_rdn: str, new_superior_dn: str | None = None) -> str:
        return self.dc.rename(dn, new_rdn, new_superior_dn)

    def delete(self, dn: str) -> None:
        self.dc.delete(dn)

    def set_password(self, dn: str, password: str) -> None:
        self.dc.set_password(dn, password)

    def read(self, dn: str, *attributes: str) -> dict[str, list[bytes]]:
        return self.dc.read(dn, *attributes)


_ad_ou_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def make_ad_ou(samba_dc: SambaDC) -> Callable[[], ADSubtree]:
    """For fixtures wider than one test: ``make_ad_ou()`` gives a fresh OU (not deleted)."""

    def make() -> ADSubtree:
        ou = ADSubtree(samba_dc, samba_dc.add_ou(f"t{next(_ad_ou_numbers)}-{os.getpid()}"))
        samba_dc.add_ou("people", ou.dn)
        return ou

    return make


@pytest.fixture
def ad_ou(make_ad_ou: Callable[[], ADSubtree]) -> Iterator[ADSubtree]:
    """This test's own OU of the domain, with an empty OU=people; deleted afterwards."""
    ou = make_ad_ou()
    yield ou
    ou.dc.delete_tree(ou.dn)


@pytest.fixture
def ad_directory_options(samba_dc: SambaDC) -> Callable[..., dict]:
    """Options for ``create_directory``: vendor "ad", LDAPS with the DC's CA, Administrator."""

    def options(ou: ADSubtree | None, **overrides: object) -> dict:
        values = {
            "vendor": "ad",
            "urls": [samba_dc.ldaps_uri],
            "ca_file": samba_dc.ca_file,
            "bind_dn": samba_dc.admin_dn,
            "bind_password": samba_dc.admin_password,
            "base_dn": ou.dn if ou is not None else samba_dc.base_dn,
            "user_dn": "OU=people" if ou is not None else "",
        }
        values.update(overrides)
        return values

    return options


@pytest.fixture
def ad_directory(fresh_install: None, ad_directory_options: Callable[..., dict]) -> Callable[..., object]:
    """``ad_directory(ad_ou, name="ad", **overrides)``: a Directory on the Samba DC.

    Made through the service the CLI uses, so the vendor's defaults (objectGUID,
    sAMAccountName, whenChanged, thumbnailPhoto...) apply as for an administrator.
    """
    from profilesync.directories.services import create_directory

    def make(ou: ADSubtree | None, name: str = "ad", **overrides: object):
        return create_directory(name, ad_directory_options(ou, **overrides))

    return make
