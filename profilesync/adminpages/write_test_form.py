"""The write-back test panel's inputs."""

from __future__ import annotations

from django import forms


class TestPanelForm(forms.Form):
    """The "Save and test connection" panel's inputs (posted, and shown again after a check)."""

    directory = forms.ModelChoiceField(queryset=None, label="User directory", empty_label=None)
    username = forms.CharField(label="User name", max_length=255,
                               help_text="A user of that directory (not a local account).")
    attribute = forms.CharField(label="LDAP attribute", max_length=100,
                                help_text="e.g. telephoneNumber")

    def __init__(self, *args, directories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["directory"].queryset = directories
