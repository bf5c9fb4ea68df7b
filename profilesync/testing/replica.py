"""A read-only slapd consumer that replicates a provider and refers writes to it.

What an organisation's read-only replica looks like to profilesync: searches
answer, and every write is answered with a referral to the provider's URL
(``olcUpdateref``). The consumer starts empty and fills itself by syncrepl
(``refreshAndPersist``), so its entries are the provider's, entryUUIDs included.
"""

from __future__ import annotations

import time

import ldap

from .slapd import SLAPADD, SlapdServer, _config_ldif


class ReadOnlyReplica(SlapdServer):
    """``with ReadOnlyReplica(provider, access=...) as replica:`` a consumer of ``provider``."""

    def __init__(self, provider: SlapdServer, **kwargs) -> None:
        kwargs.setdefault("suffix", provider.suffix)
        super().__init__(**kwargs)
        self.provider = provider

    def configure(self) -> None:
        if self._configured or (self.run_dir / "slapd.d").exists():
            self._configured = True
            return
        (self.run_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.run_dir / "slapd.d").mkdir(exist_ok=True)
        replication = (
            f'olcSyncrepl: rid=001 provider={self.provider.ldap_uri} bindmethod=simple '
            f'binddn="{self.provider.root_dn}" credentials={self.provider.root_pw} '
            f'searchbase="{self.suffix}" type=refreshAndPersist retry="1 +" timeout=3\n'
            f"olcUpdateref: {self.provider.ldap_uri}\n")
        config = _config_ldif(self.run_dir, self.suffix, self.root_dn, self.root_pw, self.limits,
                              False, self.access)
        config = config.replace(f"olcSuffix: {self.suffix}\n",
                                f"olcSuffix: {self.suffix}\n{replication}", 1)
        path = self.run_dir / "config.ldif"
        path.write_text(config)
        self._run([SLAPADD, "-n0", "-F", str(self.run_dir / "slapd.d"), "-l", str(path)])
        self._configured = True

    def _wait_ready(self, timeout: float) -> None:
        """Ready once the server answers and the provider's suffix has arrived."""
        super()._wait_ready(timeout)
        try:
            self.wait_for_entry(self.suffix, timeout)
        except RuntimeError:
            self.stop()
            raise

    def wait_for_entry(self, dn: str, timeout: float = 10.0) -> None:
        """Wait until ``dn`` (added at the provider) has been replicated here."""
        deadline = time.monotonic() + timeout
        conn = self.connect()
        try:
            while True:
                try:
                    conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
                    return
                except ldap.NO_SUCH_OBJECT:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"{dn} did not reach the replica within {timeout} s") from None
                    time.sleep(0.05)
        finally:
            conn.unbind_s()
