"""Errors about input, shared by the CLI, the web pages and the API."""

from __future__ import annotations


class InvalidSetting(ValueError):
    """A value given for a setting cannot be used.

    ``setting`` is the name the user typed it under (an option or form field),
    and the message says what is wrong and what would be right.
    """

    def __init__(self, setting: str, message: str):
        self.setting = setting
        self.message = message
        super().__init__(f"{setting}: {message}")
