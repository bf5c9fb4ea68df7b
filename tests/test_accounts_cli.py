"""`profilesync account`: roles and local logins from the command line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from profilesync.accounts.roles import Role, role_of

pytestmark = pytest.mark.django_db


def run(*argv: str) -> str:
    out = StringIO()
    call_command("account", *argv, stdout=out)
    return out.getvalue()


def test_create_local_login_with_a_role_and_change_it(tmp_path):
    """An administrator creates a local login from a password file and changes its role."""
    password = tmp_path / "pw"
    password.write_text("long-enough-pw\n")

    run("create-local", "helpdesk", "--password-file", str(password), "--role", "administrator")
    run("role", "helpdesk", "system-administrator")

    user = get_user_model().objects.get(username="helpdesk")
    assert user.check_password("long-enough-pw")
    assert role_of(user) == Role.SYSTEM_ADMINISTRATOR
    assert "helpdesk\tsystem-administrator\tlocal" in run("list")


def test_role_of_an_unknown_login_exits_2():
    with pytest.raises(CommandError) as refused:
        run("role", "nobody", "user")
    assert refused.value.returncode == 2 and "nobody" in str(refused.value)


def test_short_password_is_refused(tmp_path):
    password = tmp_path / "pw"
    password.write_text("short\n")
    with pytest.raises(CommandError) as refused:
        run("create-local", "x", "--password-file", str(password))
    assert refused.value.returncode == 2 and "--password-file" in str(refused.value)
    assert not get_user_model().objects.filter(username="x").exists()
