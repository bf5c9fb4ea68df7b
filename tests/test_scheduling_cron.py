"""Cron expressions of the scheduled job: what is accepted, and when the job is due.

Pure tests: no database, no directory. Times are written as the administrator
reads them (wall clock of a named zone) and compared as instants.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profilesync.scheduling.cron import EXAMPLE, InvalidCronExpression, parse

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, tz=UTC) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def upcoming(expr: str, after: datetime, count: int, tz=UTC) -> list[datetime]:
    times = parse(expr).upcoming(after, tz)
    return [next(times).astimezone(tz) for _ in range(count)]


def test_default_schedule_runs_every_three_hours_on_the_hour():
    """The default "0 */3 * * *" is due at 00:00, 03:00, ... 21:00."""
    assert upcoming("0 */3 * * *", at("2026-11-27 10:14:58"), 5) == [
        at("2026-11-27 12:00"), at("2026-11-27 15:00"), at("2026-11-27 18:00"),
        at("2026-11-27 21:00"), at("2026-11-28 00:00")]


def test_next_due_time_is_strictly_after_the_instant():
    """At exactly 12:00 the next due time is 15:00; the slot due now is 12:00."""
    cron = parse("0 */3 * * *")
    assert cron.next_after(at("2026-11-27 12:00"), UTC) == at("2026-11-27 15:00")
    assert cron.latest_at_or_before(at("2026-11-27 12:00"), UTC) == at("2026-11-27 12:00")
    assert cron.latest_at_or_before(at("2026-11-27 11:59:59.999"), UTC) == at("2026-11-27 09:00")


def test_expression_is_read_in_the_configured_time_zone():
    """09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer."""
    cron = parse("0 9 * * *")
    assert cron.next_after(at("2026-01-10 00:00"), BERLIN) == at("2026-01-10 08:00")
    assert cron.next_after(at("2026-07-10 00:00"), BERLIN) == at("2026-07-10 07:00")


def test_time_skipped_by_summer_time_still_runs_once_after_the_gap():
    """02:30 does not exist in Berlin on 29 March 2026; the daily job runs at 03:30 instead."""
    assert upcoming("30 2 * * *", at("2026-03-28 12:00", BERLIN), 3, BERLIN) == [
        at("2026-03-29 03:30", BERLIN), at("2026-03-30 02:30", BERLIN),
        at("2026-03-31 02:30", BERLIN)]


def test_time_repeated_when_clocks_go_back_runs_once():
    """02:30 happens twice in Berlin on 25 October 2026; the daily job runs the first time only."""
    times = upcoming("30 2 * * *", at("2026-10-24 12:00", BERLIN), 2, BERLIN)
    assert [t.astimezone(UTC) for t in times] == [at("2026-10-25 00:30"), at("2026-10-26 01:30")]


def test_hourly_job_across_a_summer_time_change_never_repeats_an_instant():
    """An hourly job on the day clocks go forward: 23 runs, all distinct, in order."""
    times = upcoming("0 * * * *", at("2026-03-28 23:59", BERLIN), 23, BERLIN)
    assert len(set(times)) == 23 and times == sorted(times)
    assert times[-1] == at("2026-03-29 23:00", BERLIN)


def test_restricted_day_of_month_and_weekday_match_either():
    """As in cron: "1 * mon" is the 1st of the month and every Monday."""
    days = [t.date().isoformat() for t in upcoming("0 0 1 * mon", at("2026-11-27 00:00"), 4)]
    assert days == ["2026-11-30", "2026-12-01", "2026-12-07", "2026-12-14"]


def test_day_of_month_with_a_star_step_must_match_together_with_the_weekday():
    """As in cron: a day field starting with "*" is not a restriction, so both must match."""
    days = [t.date().isoformat() for t in upcoming("0 0 */2 * mon", at("2026-11-27 00:00"), 3)]
    assert days == ["2026-12-07", "2026-12-21", "2027-01-11"]


@pytest.mark.parametrize("expr", ["0 6 * * 0", "0 6 * * 7", "0 6 * * sun", "0 6 * * SUN"])
def test_sunday_is_0_7_or_its_name(expr):
    """Weekday 0, 7, "sun" and "SUN" all mean Sunday."""
    assert parse(expr).next_after(at("2026-11-27 00:00"), UTC) == at("2026-11-29 06:00")


def test_names_ranges_lists_and_steps_combine():
    """Every 20 minutes from 8 to 18 h, Monday to Friday, in June and December."""
    cron = parse("*/20 8-18 * jun,dec mon-fri")
    assert cron.minutes == (0, 20, 40)
    assert cron.hours == tuple(range(8, 19))
    assert cron.months == {6, 12} and cron.weekdays == {1, 2, 3, 4, 5}
    assert cron.next_after(at("2026-11-30 23:00"), UTC) == at("2026-12-01 08:00")


def test_value_with_a_step_counts_from_that_value():
    """"5/15" is 5, 20, 35, 50, as cronie reads it."""
    assert parse("5/15 * * * *").minutes == (5, 20, 35, 50)


@pytest.mark.parametrize(("macro", "same_as"), [
    ("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"), ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"), ("@HOURLY", "0 * * * *")])
def test_macros_mean_their_five_fields(macro, same_as):
    assert parse(macro) == parse(same_as)


def test_leap_day_is_found_years_ahead():
    """A job on 29 February runs on the next leap day, even eight years away."""
    assert parse("0 0 29 2 *").next_after(at("2026-03-01 00:00"), UTC) == at("2028-02-29 00:00")
    assert parse("0 0 29 2 *").next_after(at("2096-03-01 00:00"), UTC) == at("2104-02-29 00:00")


def test_extra_spaces_are_ignored():
    assert parse("  0   */3 * *  * ").expr == "0 */3 * * *"


@pytest.mark.parametrize(("expr", "field"), [
    ("0 25 * * *", "hour"),
    ("60 * * * *", "minute"),
    ("0 0 0 * *", "day-of-month"),
    ("0 0 32 * *", "day-of-month"),
    ("0 0 * 13 *", "month"),
    ("0 0 * foo *", "month"),
    ("0 0 * * 8", "day-of-week"),
    ("0 0 * * funday", "day-of-week"),
    ("*/0 * * * *", "minute"),
    ("*/x * * * *", "minute"),
    ("5-2 * * * *", "minute"),
    ("1,,2 * * * *", "minute"),
    ("0 \u0663 * * *", "hour"),  # an Arabic-Indic digit three
    ("0 -1 * * *", "hour"),
    ("0 0 31 2,4 *", "day-of-month"),
    ("* * * *", "expression"),
    ("0 */3 * * * *", "expression"),
    ("", "expression"),
    ("@reboot", "macro"),
])
def test_invalid_expression_names_the_field_and_shows_an_example(expr, field):
    """Every refusal says which field is wrong and shows a correct expression."""
    with pytest.raises(InvalidCronExpression) as caught:
        parse(expr)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")
    assert EXAMPLE in caught.value.message


# -- properties, against a minute-by-minute reference ----------------------

def _matches(cron, moment: datetime) -> bool:
    """A minute matches by the plain definition (UTC wall clock, no DST to consider)."""
    return (moment.minute in cron.minutes and moment.hour in cron.hours
            and cron.runs_on(moment.date()))


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    number = st.integers(low, high)
    return st.one_of(
        st.just("*"),
        number.map(str),
        st.tuples(number, number).map(lambda p: f"{min(p)}-{max(p)}"),
        st.integers(1, high - low + 1).map(lambda s: f"*/{s}"),
        st.lists(number, min_size=1, max_size=4).map(lambda v: ",".join(map(str, v))),
    )


expressions = st.tuples(_field(0, 59), _field(0, 23), _field(0, 7)).map(
    lambda f: f"{f[0]} {f[1]} * * {f[2]}")
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC))


@settings(max_examples=60, deadline=None)
@given(expressions, instants)
def test_next_due_time_is_the_first_matching_minute_after_the_instant(expr, instant):
    """No matching minute is skipped, and the one returned matches."""
    cron = parse(expr)
    due = cron.next_after(instant, UTC)
    assert due > instant and _matches(cron, due)
    minute = instant.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute < due:
        assert not _matches(cron, minute), minute
        minute += timedelta(minutes=1)


@settings(max_examples=100, deadline=None)
@given(expressions, instants)
def test_slot_due_now_and_next_due_time_enclose_the_instant(expr, instant):
    """The latest due time at or before an instant is followed directly by the next one."""
    cron = parse(expr)
    latest = cron.latest_at_or_before(instant, UTC)
    following = cron.next_after(instant, UTC)
    assert latest <= instant < following
    assert _matches(cron, latest)
    assert cron.next_after(latest, UTC) == following


@settings(max_examples=60, deadline=None)
@given(expressions, instants)
def test_due_times_in_a_summer_time_zone_are_distinct_and_ordered(expr, instant):
    """Around DST changes in Berlin the due times still only move forward, never repeat."""
    times = parse(expr).upcoming(instant, BERLIN)
    seen = [next(times) for _ in range(30)]
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
