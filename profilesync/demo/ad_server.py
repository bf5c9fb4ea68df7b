"""The demo's private Samba Active Directory DC: made and filled once, then reused.

``profilesync demo --directory ad`` runs the demo against Active Directory's
dialect instead of OpenLDAP's. The first start copies a provisioned domain
(see :mod:`profilesync.testing.samba`), gives the administrator a password of
its own and adds the generated people over LDAPS (about 150 per second: Samba
has no offline bulk load that is faster). Later starts reuse the domain as it
is. ``demo.json`` is written last and marks a DC as complete: a run directory
without it (the first start was interrupted) is thrown away and made again.

The DC needs root and the samba packages (scripts/bootstrap installs them);
:class:`~profilesync.testing.samba.SambaNotAvailable` says which is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from profilesync.testing.directory_links import set_dn_values
from profilesync.testing.samba import (
    SambaDC,
    SambaNotAvailable,
    samba_unavailable_reason,
    stop_leftover_samba,
    unicode_pwd,
)

from .directory_server import STATE_FILE, write_state  # demo.json, 0600, written atomically
from .people import generate_people, org_levels, org_managers, with_org_titles

PEOPLE_OU = "people"
# AD's password rules want three kinds of characters, so not the OpenLDAP demo's password.
DEMO_AD_USER_PASSWORD = "Demo-pass-2026"
NORMAL_ACCOUNT = 512  # enabled, with a password


@dataclass(frozen=True)
class DemoDCState:
    """What must survive between starts: how many people and the administrator's password."""

    people: int
    admin_password: str


@dataclass
class DemoDC:
    dc: SambaDC
    state: DemoDCState
    loaded_now: bool  # True on the start that generated and added the people

    @property
    def url(self) -> str:
        return self.dc.ldaps_uri

    @property
    def people_dn(self) -> str:
        return f"OU={PEOPLE_OU},{self.dc.base_dn}"

    def stop(self) -> None:
        """Stop the DC and give its loopback address back; its data stays for the next start."""
        self.dc.cleanup()


def read_state(run_dir: Path) -> DemoDCState | None:
    try:
        data = json.loads((run_dir / STATE_FILE).read_text())
        return DemoDCState(int(data["people"]), str(data["admin_password"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _ad_people(count: int) -> Iterator[tuple[str, dict]]:
    """The generated people as AD users, each with the demo password and enabled."""
    password = unicode_pwd(DEMO_AD_USER_PASSWORD)
    managers = org_managers(count)
    levels = org_levels(managers)
    leads = {manager for manager in managers if manager is not None}
    for index, person in enumerate(generate_people(count)):
        person = with_org_titles(person, levels[index], index in leads)
        attributes: dict = {
            "cn": person.uid,
            "givenName": person.given_name,
            "sn": person.family_name,
            "displayName": person.display_name,
            "title": person.title,
            "department": person.department,
            "telephoneNumber": person.phone,
            "mail": f"{person.uid}@example.test",
            "unicodePwd": password,
            "userAccountControl": str(NORMAL_ACCOUNT),
        }
        if person.photo:
            attributes["thumbnailPhoto"] = person.photo
        yield person.uid, attributes


def _admin_password() -> str:
    # token_urlsafe has letters and digits; the suffix guarantees AD's complexity rules.
    return secrets.token_urlsafe(18) + "-Aa1"


def start_demo_dc(run_dir: Path, people: int) -> DemoDC:
    """Start the demo's DC, provisioning and filling it first if there is none yet."""
    reason = samba_unavailable_reason()
    if reason:
        raise SambaNotAvailable(reason)
    run_dir = run_dir.resolve()
    stop_leftover_samba(run_dir)
    state = read_state(run_dir)
    loaded_now = state is None
    if state is None and run_dir.exists():
        shutil.rmtree(run_dir)
    dc = SambaDC(run_dir=run_dir)
    if state is not None:
        dc.admin_password = state.admin_password
    try:
        dc.start()
        if state is None:
            os.chmod(run_dir, 0o700)
            state = DemoDCState(people=people, admin_password=_admin_password())
            dc.change_admin_password(state.admin_password)
            dc.add_ou(PEOPLE_OU)
            added = dc.add_users(_ad_people(people), f"OU={PEOPLE_OU},{dc.base_dn}")
            # Managers once everyone exists: AD refuses a manager that does not.
            with dc.admin() as conn:
                set_dn_values(conn, "manager", ((added[i], added[m]) for i, m in
                                                enumerate(org_managers(people)) if m is not None))
            write_state(run_dir, state)
    except BaseException:
        dc.cleanup()  # interrupted or failed: do not leave samba running
        raise
    return DemoDC(dc=dc, state=state, loaded_now=loaded_now)
