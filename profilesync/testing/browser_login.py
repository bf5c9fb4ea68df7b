"""People with a role and a password, for browser tests that sign in through the login form.

The ``log_in`` fixture (tests/conftest.py) fills the form; this makes the account it
signs in to. One module-wide password per test module keeps each test about what the
person does, not about their credentials.
"""

from __future__ import annotations

from collections.abc import Callable

from profilesync.accounts.roles import Role, set_role


def login_maker(user_model, password: str) -> Callable[[str, Role], object]:
    """``make(name, role)`` creates user ``name`` with ``password`` and ``role``."""

    def make(name: str, role: Role):
        user = user_model.objects.create_user(name, password=password)
        set_role(user, role)
        return user

    return make
