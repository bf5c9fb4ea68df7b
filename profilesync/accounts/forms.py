"""The login form: one answer for a wrong password and an unknown user, and a throttle."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm

from . import throttle

WRONG = "User name and password did not match."


class ThrottledLoginForm(AuthenticationForm):
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": WRONG}

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        # Counted before the password is checked, so parallel guesses cannot outrun it.
        wait = throttle.reserve_attempt(username, address)
        if wait:
            minutes = (wait + 59) // 60
            raise forms.ValidationError(
                f"Too many failed logins. Try again in {minutes} minute{'s' * (minutes != 1)}.",
                code="throttled")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        throttle.attempt_succeeded(username, address)
        return self.cleaned_data
