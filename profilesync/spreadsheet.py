"""Cells a spreadsheet shows as text: every CSV export passes its values through here.

Values come from the directory and from people's own edits, so a title such as
``=HYPERLINK(...)`` must reach a spreadsheet as text, not as a formula it runs (OWASP,
"CSV injection"). The web download and the command-line exports share this one rule so
they cannot drift apart.
"""

from __future__ import annotations

# A cell a spreadsheet would read as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text_cell(value: object) -> object:
    """``=1+1`` -> ``'=1+1``: the apostrophe makes a spreadsheet show the text as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
