"""Cron expressions: parse the five fields, and find the due times around an instant.

Names kept in this module: ``expr`` is the text an administrator typed; a
``CronSchedule`` is its parsed, immutable value; ``instant`` and the due times
returned are aware datetimes (returned in UTC); ``tz`` is the time zone whose
wall clock the expression is read in (the installation's ``TIME_ZONE``).

The syntax is the classic one of Vixie cron and cronie, which administrators
know: ``minute hour day-of-month month day-of-week``, each a ``*`` or a
comma-separated list of values and ranges, each optionally with a ``/step``;
month and weekday names (``jan``, ``mon-fri``); weekday 0 and 7 both Sunday;
the macros ``@hourly``, ``@daily``/``@midnight``, ``@weekly``, ``@monthly``,
``@yearly``/``@annually``. As in cron, when both day fields are restricted
(neither starts with ``*``) a day matches if either does; otherwise both must.

Daylight saving time, decided here once: a wall-clock time that a change to
summer time skips is due at the same instant as the wall clock shifted forward
by the gap (02:30 on a day that jumps from 02:00 to 03:00 is due at 03:30), and
a wall-clock time that happens twice when the clocks go back is due once, the
first time. Two matching wall-clock times that fall on the same instant are one
due time.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from profilesync.errors import InvalidSetting

EXAMPLE = '"0 */3 * * *" (minute 0 of every third hour)'
FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTH_NAMES = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAY_NAMES = {name: number for number, name in enumerate(
    ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}

# A leap day recurs at most 8 years apart (2096 -> 2104); every valid expression is due
# at least once in this many days, so a search that finds nothing here is a bug.
_SEARCH_DAYS = 366 * 9


class InvalidCronExpression(InvalidSetting):
    """A cron expression that cannot be used; ``field`` names the part at fault."""

    def __init__(self, expr: str, field: str, problem: str):
        self.expr = expr
        self.field = field
        self.problem = problem
        super().__init__("schedule", f"{field}: {problem} in {expr!r}; for example {EXAMPLE}")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTH_NAMES),
    _Field("day-of-week", 0, 7, _DAY_NAMES),
)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression. Weekdays are 0 (Sunday) to 6; 7 is folded into 0."""

    expr: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def runs_on(self, day: date) -> bool:
        """Whether the expression has due times on this calendar day."""
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return by_day or by_weekday
        return by_day and by_weekday

    def due_times_on(self, day: date, tz: tzinfo) -> list[datetime]:
        """The instants (UTC, ascending, distinct) due on ``day`` by the wall clock of ``tz``."""
        if not self.runs_on(day):
            return []
        # fold=0 gives the first of a repeated wall-clock time, and places a skipped
        # one after the gap: the daylight saving rules in the module docstring.
        instants = {
            datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)
            for hour in self.hours for minute in self.minutes
        }
        return sorted(instants)

    def next_after(self, instant: datetime, tz: tzinfo) -> datetime:
        """The first due time strictly after ``instant``."""
        # Start a day early: a wall-clock time of the previous local day can only be
        # later than the instant around a daylight saving change, but it costs little.
        day = instant.astimezone(tz).date() - timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            later = [due for due in self.due_times_on(day, tz) if due > instant]
            if later:
                return later[0]
            day += timedelta(days=1)
        raise AssertionError(f"cron expression {self.expr!r} is never due")  # refused by parse

    def latest_at_or_before(self, instant: datetime, tz: tzinfo) -> datetime:
        """The last due time at or before ``instant``: the slot that is due now."""
        day = instant.astimezone(tz).date() + timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            earlier = [due for due in self.due_times_on(day, tz) if due <= instant]
            if earlier:
                return earlier[-1]
            day -= timedelta(days=1)
        raise AssertionError(f"cron expression {self.expr!r} is never due")  # refused by parse

    def upcoming(self, instant: datetime, tz: tzinfo) -> Iterator[datetime]:
        """Every due time after ``instant``, in order, without end."""
        while True:
            instant = self.next_after(instant, tz)
            yield instant


def parse(expr: str) -> CronSchedule:
    """Parse ``expr`` or raise ``InvalidCronExpression`` naming the field at fault."""
    text = " ".join(expr.split())
    if text.startswith("@"):
        if text.lower() not in MACROS:
            known = ", ".join(MACROS)
            raise InvalidCronExpression(expr, "macro", f"unknown macro {text!r} (known: {known})")
        text = MACROS[text.lower()]
    parts = text.split(" ") if text else []
    if len(parts) != len(_FIELDS):
        raise InvalidCronExpression(
            expr, "expression",
            f"expected 5 fields ({' '.join(FIELD_NAMES)}), got {len(parts)}")
    values = [_parse_field(expr, field, part) for field, part in zip(_FIELDS, parts, strict=True)]
    minutes, hours, days, months, weekdays = values
    schedule = CronSchedule(
        expr=text,
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(d % 7 for d in weekdays),
        days_restricted=not parts[2].startswith("*"),
        weekdays_restricted=not parts[4].startswith("*"),
    )
    if schedule.days_restricted and not schedule.weekdays_restricted:
        _require_a_real_day(expr, schedule)
    return schedule


def _require_a_real_day(expr: str, schedule: CronSchedule) -> None:
    # Leap year 2000: February has its 29th, so "29 2" is accepted (due every leap year).
    if not any(day <= calendar.monthrange(2000, month)[1]
               for month in schedule.months for day in schedule.days):
        months = ",".join(str(m) for m in sorted(schedule.months))
        days = ",".join(str(d) for d in sorted(schedule.days))
        raise InvalidCronExpression(
            expr, "day-of-month", f"day {days} never occurs in month {months}, so it would never run")


def _parse_field(expr: str, field: _Field, text: str) -> set[int]:
    chosen: set[int] = set()
    for element in text.split(","):
        chosen.update(_parse_element(expr, field, element))
    return chosen


def _parse_element(expr: str, field: _Field, element: str) -> range:
    if not element:
        raise InvalidCronExpression(expr, field.name, "an empty list item")
    base, slash, step_text = element.partition("/")
    step = 1
    if slash:
        if not _is_number(step_text) or int(step_text) == 0:
            raise InvalidCronExpression(
                expr, field.name, f"step {step_text!r} in {element!r} is not a whole number above 0")
        step = int(step_text)
    if base == "*":
        first, last = field.low, field.high
        if field.name == "day-of-week":
            last = 6  # "*" is every day once, 7 would repeat Sunday
    elif "-" in base:
        low_text, _, high_text = base.partition("-")
        first, last = _value(expr, field, low_text), _value(expr, field, high_text)
        if first > last:
            raise InvalidCronExpression(
                expr, field.name, f"range {base!r} runs backwards (write it as two ranges)")
    else:
        first = _value(expr, field, base)
        # "5/15" is "5-59/15", as cronie and most tools read it.
        last = field.high if slash else first
    return range(first, last + 1, step)


def _value(expr: str, field: _Field, text: str) -> int:
    if field.names and text.lower() in field.names:
        return field.names[text.lower()]
    if not _is_number(text):
        hint = ""
        if field.names:
            hint = f" or a name ({', '.join(list(field.names)[:3])}, ...)"
        raise InvalidCronExpression(
            expr, field.name, f"{text!r} is not a number{hint}")
    number = int(text)
    if not field.low <= number <= field.high:
        raise InvalidCronExpression(
            expr, field.name, f"{number} is out of range {field.low}-{field.high}")
    return number


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()
