"""Timestamp patterns (Java ``SimpleDateFormat`` style) and the "last LDAP sync date".

The seed product writes its watermark into the incremental filter with a
per-directory pattern such as ``yyyyMMddHHmmss.Z``. We accept the same
patterns, but parse them once into tokens so a pattern is validated before it
is ever used, and so the exact filter value can be previewed.

Letters understood: ``y M d H m s S Z X``; text in single quotes is literal
(``''`` is a quote); every other non-letter is literal. Values are always
written in UTC, so ``Z`` gives ``+0000`` and ``X`` gives ``Z``, like Java with
a UTC time zone.

Literal text goes into a search filter, so it is held to what a timestamp
needs: a literal with ``*``, ``(``, ``)``, a backslash or NUL is refused (``'*'``
would turn the comparison into a presence test, ``'Z)(uid=*'`` would add a
filter of its own), and so is a literal that looks like a UTC offset
(``'-0500'``), which would move the watermark by hours because the value
is written in UTC. What remains is escaped when the filter is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from profilesync.errors import InvalidSetting

LAST_SYNC_FORMAT = "dd-MM-yyyy HH:mm:ss"
LAST_SYNC_EXAMPLE = "23-05-2016 15:00:00"
_LAST_SYNC_RE = re.compile(r"^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})$")

_KNOWN_LETTERS = set("yMdHmsSZX")
# Filter syntax (RFC 4515's specials) that no literal of a timestamp may carry.
_FILTER_SPECIALS = set("*()\\\0")
# A sign followed by two digits (+05, -0500, +05:30): an offset, whatever surrounds it.
_OFFSET = re.compile(r"[+-]\d{2}")
_REQUIRED = {"y": "year (yyyy)", "M": "month (MM)", "d": "day (dd)", "H": "hour (HH)",
             "m": "minute (mm)", "s": "second (ss)"}

@dataclass(frozen=True)
class Token:
    """A run of one pattern letter (``letter`` and ``width``) or a literal (``letter`` is '')."""

    letter: str
    width: int = 0
    literal: str = ""

def parse_pattern(pattern: str, setting: str = "timestamp_pattern") -> tuple[Token, ...]:
    """Split ``pattern`` into tokens, refusing unknown letters and missing fields."""
    tokens: list[Token] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = i + 1
            text = []
            while True:
                if end >= len(pattern):
                    raise InvalidSetting(setting, f"{pattern!r} has an unclosed quote")
                if pattern[end] == "'":
                    if end + 1 < len(pattern) and pattern[end + 1] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            tokens.append(Token("", literal="".join(text) if text or end > i + 1 else "'"))
            i = end + 1
        elif char.isascii() and char.isalpha():
            if char not in _KNOWN_LETTERS:
                raise InvalidSetting(
                    setting,
                    f"{pattern!r} uses the letter {char!r}, which is not supported; use "
                    "y M d H m s S Z X, and quote literal text like 'T'",
                )
            width = 1
            while i + width < len(pattern) and pattern[i + width] == char:
                width += 1
            tokens.append(Token(char, width))
            i += width
        else:
            tokens.append(Token("", literal=char))
            i += 1
    _check_literals(pattern, tokens, setting)
    present = {t.letter for t in tokens}
    missing = [label for letter, label in _REQUIRED.items() if letter not in present]
    if missing:
        raise InvalidSetting(
            setting,
            f"{pattern!r} has no {', '.join(missing)}; a watermark needs all of year, month, "
            "day, hour, minute and second, e.g. yyyyMMddHHmmssZ",
        )
    return tuple(tokens)

def _check_literals(pattern: str, tokens: list[Token], setting: str) -> None:
    """Refuse literal text that could change the filter or the instant it stands for."""
    runs: list[str] = []
    current = ""
    for token in tokens:
        if token.letter:
            if current:
                runs.append(current)
            current = ""
        else:
            current += token.literal
    if current:
        runs.append(current)
    for text in runs:
        bad = sorted(_FILTER_SPECIALS & set(text))
        if bad:
            shown = ", ".join("NUL" if c == "\0" else repr(c) for c in bad)
            raise InvalidSetting(
                setting, f"{pattern!r} has the literal text {text!r} with {shown}, which would "
                "change the search filter; a timestamp pattern may quote only plain text such "
                "as 'Z' or '.0Z'")
        if _OFFSET.search(text):
            raise InvalidSetting(
                setting, f"{pattern!r} has the literal text {text!r}, which reads as a UTC "
                "offset; values are always written in UTC, so a literal offset would move the "
                "watermark by hours. Use the letter Z (+0000) or X (Z) instead")


def format_timestamp(moment: datetime, pattern: str | tuple[Token, ...]) -> str:
    """Write ``moment`` (converted to UTC) with ``pattern``."""
    tokens = parse_pattern(pattern) if isinstance(pattern, str) else pattern
    utc = moment.astimezone(UTC)
    parts: list[str] = []
    for token in tokens:
        if not token.letter:
            parts.append(token.literal)
        elif token.letter == "y":
            year = utc.year % 100 if token.width == 2 else utc.year
            parts.append(str(year).zfill(token.width))
        elif token.letter == "S":
            millis = utc.microsecond // 1000
            parts.append(str(millis).zfill(max(token.width, 3))[: max(token.width, 3)])
        elif token.letter == "Z":
            parts.append("+0000")
        elif token.letter == "X":
            parts.append("Z")
        else:
            value = {"M": utc.month, "d": utc.day, "H": utc.hour, "m": utc.minute,
                     "s": utc.second}[token.letter]
            parts.append(str(value).zfill(token.width))
    return "".join(parts)

def parse_last_sync_date(text: str, zone: tzinfo, setting: str = "last_ldap_sync_date") -> datetime | None:
    """Read ``dd-MM-yyyy HH:mm:ss`` in ``zone``; empty means "no date: next run is full"."""
    text = text.strip()
    if not text:
        return None
    match = _LAST_SYNC_RE.match(text)
    if match:
        day, month, year, hour, minute, second = (int(g) for g in match.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=zone)
        except ValueError:
            pass
    raise InvalidSetting(
        setting,
        f"{text!r} is not a date in the format {LAST_SYNC_FORMAT}, e.g. {LAST_SYNC_EXAMPLE}; "
        "leave it empty to force one full sync",
    )

def format_last_sync_date(moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        return ""
    return moment.astimezone(zone).strftime("%d-%m-%Y %H:%M:%S")

_GENERALIZED = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$"
)

def parse_generalized_time(value: str) -> datetime:
    """Read an LDAP generalized time (``20261127095856Z``, ``20261127092236.0Z``)."""
    match = _GENERALIZED.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a generalized time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute or 0),
                      int(second or 0), tzinfo=UTC)
    if fraction:
        moment = moment.replace(microsecond=int((fraction + "000000")[:6]))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1

        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return moment
