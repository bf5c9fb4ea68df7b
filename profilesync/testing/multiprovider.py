"""Two private OpenLDAP providers replicating to each other (multi-provider, "mirror mode").

Built on :class:`profilesync.testing.slapd.SlapdServer`: each provider is one
with a server ID, the ``syncprov`` overlay and a ``refreshAndPersist`` consumer
of the other (``olcMultiProvider``). Each consumer reaches its peer through a
:class:`~profilesync.testing.stalling_relay.StallingRelay`, so a test can make
one provider *lag*: ``hold_changes_to(p)`` keeps the other's changes from
reaching ``p`` until ``release_changes_to(p)``, as a slow or broken replication
link would. Providers can also be stopped and started (same port, same data).

Only the first provider is loaded (``slapadd -S 1 -w``: its entries carry server
ID 1 and it has a ``contextCSN``); the second starts empty and receives
everything by replication. ``start`` then writes once on the second provider, so
both server IDs appear in both servers' ``contextCSN``, as on any multi-provider
installation whose providers have all taken writes.

    with MultiProvider() as pair:
        first, second = pair.providers
        ...
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ldap

from .slapd import SLAPADD, SlapdServer, _config_ldif
from .stalling_relay import StallingRelay

REPLICATION_TIMEOUT = 30.0


class Provider(SlapdServer):
    """One provider of the pair: a ``SlapdServer`` with a server ID and a consumer of its peer."""

    def __init__(self, server_id: int, *, seed: bool, **kwargs: object):
        super().__init__(syncprov=True, **kwargs)
        self.server_id = server_id
        self.seed = seed
        self.peer_uri = ""  # where this provider's consumer reads its peer (a relay)

    def configure(self) -> None:
        if self._configured or (self.run_dir / "slapd.d").exists():
            self._configured = True
            return
        if not self.peer_uri:
            raise RuntimeError("a provider needs its peer's URL before it is configured")
        (self.run_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.run_dir / "slapd.d").mkdir(exist_ok=True)
        config = self.run_dir / "config.ldif"
        config.write_text(self._replicating(_config_ldif(
            self.run_dir, self.suffix, self.root_dn, self.root_pw, self.limits, self.syncprov,
            self.access)))
        self._run([SLAPADD, "-n0", "-F", str(self.run_dir / "slapd.d"), "-l", str(config)])
        self._configured = True
        if self.seed:
            top = self.suffix.split(",")[0].split("=", 1)[1]
            path = self.run_dir / "seed.ldif"
            path.write_text(f"dn: {self.suffix}\nobjectClass: dcObject\n"
                            f"objectClass: organization\ndc: {top}\no: {top}\n")
            self._run([SLAPADD, "-q", "-w", "-S", str(self.server_id), "-n1",
                       "-F", str(self.run_dir / "slapd.d"), "-l", str(path)])

    def _replicating(self, config: str) -> str:
        """``config`` with this provider's server ID and its consumer of the peer."""
        global_marker = "olcLogLevel: none\n"
        database_marker = "olcDbIndex: uid,cn,mail eq\n"
        if global_marker not in config or database_marker not in config:
            raise RuntimeError("slapd.py's cn=config changed; update multiprovider.py")
        consumer = (
            f"olcSyncrepl: rid={self.server_id:03d} provider={self.peer_uri} "
            f'bindmethod=simple binddn="{self.root_dn}" credentials={self.root_pw} '
            f'searchbase="{self.suffix}" type=refreshAndPersist retry="1 +" '
            "timeout=2 network-timeout=2 keepalive=5:2:1\n"
            "olcMultiProvider: TRUE\n")
        return (config
                .replace(global_marker, f"{global_marker}olcServerID: {self.server_id}\n", 1)
                .replace(database_marker, database_marker + consumer, 1))

    def entry(self, dn: str, attributes: list[str] | None = None) -> dict[str, list[bytes]] | None:
        """``dn``'s attributes as this provider has them now (None if it has no such entry)."""
        conn = self.connect()
        try:
            found = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", attributes)
        except ldap.NO_SUCH_OBJECT:
            return None
        finally:
            conn.unbind_s()
        return {name.lower(): values for name, values in found[0][1].items()}

    def context_csns(self) -> list[str]:
        """This provider's ``contextCSN`` values: one per server ID whose changes it has."""
        values = (self.entry(self.suffix, ["contextCSN"]) or {}).get("contextcsn", [])
        return sorted(v.decode("ascii") for v in values)


class MultiProvider:
    """Two providers replicating to each other through relays; a context manager."""

    def __init__(self, suffix: str = "dc=example,dc=org", root_pw: str = "admin-secret"):
        self.providers = (Provider(1, seed=True, suffix=suffix, root_pw=root_pw),
                          Provider(2, seed=False, suffix=suffix, root_pw=root_pw))
        first, second = self.providers
        # Each consumer reads its peer through a relay in this process.
        self._links = {first.server_id: StallingRelay("127.0.0.1", second.port),
                       second.server_id: StallingRelay("127.0.0.1", first.port)}
        first.peer_uri = self._links[first.server_id].uri
        second.peer_uri = self._links[second.server_id].uri

    # -- life cycle --------------------------------------------------------
    def start(self) -> MultiProvider:
        for link in self._links.values():
            link.__enter__()
        first, second = self.providers
        first.start()
        second.start()
        self.wait_until(lambda: second.entry(first.suffix) is not None,
                        what="the second provider to receive the suffix")
        marker = f"ou=replication-check,{first.suffix}"
        second.add(marker, {"objectClass": ["organizationalUnit"], "ou": ["replication-check"]})
        self.wait_until(lambda: first.entry(marker) is not None,
                        what="the first provider to receive the second's write")
        self.wait_until(lambda: len(second.context_csns()) == 2 == len(first.context_csns()),
                        what="both server IDs in both providers' contextCSN")
        return self

    def cleanup(self) -> None:
        for provider in self.providers:
            provider.cleanup()
        for link in self._links.values():
            link.__exit__(None, None, None)

    def __enter__(self) -> MultiProvider:
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    # -- replication -------------------------------------------------------
    def hold_changes_to(self, provider: Provider) -> None:
        """Keep the peer's changes from reaching ``provider`` (it lags) until released."""
        self._links[provider.server_id].hold()

    def release_changes_to(self, provider: Provider) -> None:
        self._links[provider.server_id].release()

    def wait_until_replicated(self, provider: Provider, dn: str, attribute: str,
                              value: str) -> None:
        """Wait until ``provider`` has ``value`` in ``dn``'s ``attribute``."""
        def arrived() -> bool:
            entry = provider.entry(dn, [attribute]) or {}
            return value.encode() in entry.get(attribute.lower(), [])

        self.wait_until(arrived, what=f"{attribute}={value!r} of {dn} on server ID "
                        f"{provider.server_id}")

    @staticmethod
    def wait_until(condition: Callable[[], object], *, what: str,
                   timeout: float = REPLICATION_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")
            time.sleep(0.05)
