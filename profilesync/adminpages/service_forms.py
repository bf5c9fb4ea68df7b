"""Forms whose checks are the service layer's, so the pages and the CLI refuse alike.

A service raises :class:`~profilesync.errors.InvalidSetting` naming the setting
as the CLI spells it; ``SETTING_FIELDS`` maps those names to form fields where
they differ, and anything unknown becomes an error of the whole form.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms

from profilesync.errors import InvalidSetting


class ServiceForm(forms.Form):
    SETTING_FIELDS: dict[str, str] = {}

    def add_setting_error(self, exc: InvalidSetting) -> None:
        name = self.SETTING_FIELDS.get(exc.setting, exc.setting)
        self.add_error(name if name in self.fields else None, exc.message)

    def check_each(self, check: Callable[[str, object], None]) -> None:
        """Run ``check(name, value)`` for every cleaned field and put its refusal at the field."""
        for name, value in list(self.cleaned_data.items()):
            try:
                check(name, value)
            except InvalidSetting as exc:
                if name in self.cleaned_data:
                    self.add_error(name, exc.message)
