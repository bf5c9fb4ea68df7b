"""Access ends with the directory: a deactivated profile's login stops working at once.

When a sync deactivates a profile (the entry is gone, left the filter, or is
disabled in Active Directory), its login becomes inactive, its sessions end and
its API tokens are deleted. When the person comes back (a later sync, or signing
in again), the login is active again, with no old session or token: those were
ended for good.

Two layers make "at once" true:

* every request checks it: ``DirectoryBackend.get_user`` and ``api.tokens`` refuse a
  login whose profile is inactive, the moment the profile row says so (a bulk
  ``update()`` in the sync sends no signal, so nothing else could notice in time);
* :func:`end_access_of_deactivated` then makes it lasting. It runs when a
  directory's part of a sync run is recorded (the ``post_save`` of
  ``DirectoryRunResult``, connected in ``AccountsConfig.ready``: no call inside the
  sync code), and can be called directly.

Sessions end by rotating the login's session hash: a directory login has no usable
password, and Django checks every session against a hash of the password field,
so setting a new unusable password invalidates every session of it, wherever the
sessions are stored, including after a reactivation.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from profilesync.api.models import ApiToken
from profilesync.profiles.models import Profile

from .models import DirectoryDeactivation

log = logging.getLogger(__name__)


@transaction.atomic
def end_access(user) -> None:
    """Make ``user`` inactive now, end every session and delete every API token."""
    now = timezone.now()
    user.is_active = False
    if not user.has_usable_password():
        user.set_unusable_password()  # a new hash: every session of this login is void
        user.save(update_fields=["is_active", "password"])
    else:
        user.save(update_fields=["is_active"])
        _delete_sessions_of(user.pk)
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    DirectoryDeactivation.objects.update_or_create(user=user, defaults={"deactivated_at": now})
    log.info("access ended user=%s tokens_deleted=%d", user.pk, deleted)


def restore_login(user) -> bool:
    """Let ``user`` sign in again if the directory (not an operator) deactivated them."""
    marks = DirectoryDeactivation.objects.filter(user=user)
    if user.is_active or not marks.exists():
        return False
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        marks.delete()
    log.info("login restored user=%s", user.pk)
    return True


def end_access_of_deactivated(directory_id: int | None = None) -> tuple[int, int]:
    """End the access of active logins whose profile is inactive, and restore the logins
    of profiles active again; (ended, restored). ``directory_id`` limits it to one."""
    profiles = Profile.objects.filter(user__isnull=False)
    if directory_id is not None:
        profiles = profiles.filter(directory_id=directory_id)
    users = get_user_model().objects
    ended = restored = 0
    for user in users.filter(is_active=True, profile__in=profiles.filter(active=False)):
        end_access(user)
        ended += 1
    for user in users.filter(is_active=False, profile__in=profiles.filter(active=True),
                             directory_deactivation__isnull=False):
        restored += restore_login(user)
    return ended, restored


def run_recorded(sender, instance, raw: bool = False, **kwargs) -> None:
    """``post_save`` of ``DirectoryRunResult``: a directory's part of a run has finished."""
    if raw or instance.finished_at is None or instance.directory_id is None:
        return
    try:
        ended, restored = end_access_of_deactivated(instance.directory_id)
    except Exception:  # the run is recorded; every request still refuses these logins
        log.exception("ending access after sync failed directory=%s", instance.directory_name)
        return
    if ended or restored:
        log.warning("logins after sync directory=%s ended=%d restored=%d",
                    instance.directory_name, ended, restored)


def _delete_sessions_of(user_id: int) -> None:
    """Database sessions of a login that has a password (a local account linked to a
    profile): their hash does not change, so they are deleted one by one."""
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            session.delete()
