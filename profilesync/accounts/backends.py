"""Login with directory credentials: find the user with the service account, bind as them.

The user name goes into the search filter escaped, so ``*`` or ``)(`` cannot
widen the search. Active Directory users may also type their userPrincipalName
(``ann@example.com``); it finds the same entry, hence the same profile and
account, whose user name stays the sAMAccountName. Directories are tried in their configured order; the first
that knows the user name decides (a wrong password there is a wrong password,
not a reason to try the next directory). An empty password is refused before
anything is sent: LDAP treats it as an anonymous bind, which "succeeds".
"""

from __future__ import annotations

import logging
from dataclasses import replace

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import connected, open_connection
from profilesync.ldapclient.errors import BindFailed, DirectoryError
from profilesync.profiles.models import Profile
from profilesync.sync.one_person import find_user_entry, store_entry

from .deactivation import restore_login

log = logging.getLogger(__name__)


class DirectoryBackend(BaseBackend):
    def authenticate(self, request, username: str | None = None, password: str | None = None,
                     **kwargs):
        if not username or not password:
            return None
        for directory in Directory.objects.all():
            if directory.sync_refusal() is not None:
                continue
            try:
                profile = self._login_in(directory, username, password)
            except DirectoryError as exc:
                log.warning("directory login unavailable directory=%s error=%s",
                            directory.name, exc)
                continue
            if profile is False:
                return None  # found there, wrong password
            if profile is not None:
                return user_for_profile(profile)
        return None

    def _login_in(self, directory: Directory, username: str, password: str):
        """The profile on success, None if the directory does not know the user, False
        if it knows the user and refused the password."""
        settings = directory.connection_settings()
        with connected(settings) as conn:
            entries = find_user_entry(conn, directory, username, for_login=True)
        if len(entries) != 1:
            if len(entries) > 1:
                log.warning("ambiguous user name directory=%s", directory.name)
            return None
        dn = entries[0][0]
        try:
            open_connection(replace(settings, bind_dn=dn, bind_password=password)).unbind_s()
        except BindFailed:
            return False
        return store_entry(directory, entries[0])

    def get_user(self, user_id):
        """The signed-in login of a session, unless it or its profile is inactive: a sync
        that deactivates the profile ends the session on the next request."""
        return (get_user_model().objects.filter(pk=user_id, is_active=True)
                .exclude(profile__active=False).first())


def user_for_profile(profile: Profile):
    """The Django user of a directory person, created at their first login.

    A directory user never has a usable local password. When a local account
    already has the name, the directory user gets ``name@directory`` instead,
    so a directory entry can never take over a local administrator.
    """
    if profile.user_id is not None:
        user = profile.user
    else:
        users = get_user_model().objects
        name = profile.username
        if users.filter(username=name).exists():
            name = f"{profile.username}@{profile.directory.name}"
        user = users.create_user(username=name)
        user.set_unusable_password()
        user.save()
        profile.user = user
        profile.save(update_fields=["user"])
    if not profile.active:
        return None
    if not user.is_active and not restore_login(user):
        return None  # deactivated by an operator, not by the directory
    return user
