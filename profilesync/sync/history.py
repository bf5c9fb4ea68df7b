"""The change history: per person a run touched, what changed (see ``models.PersonChange``).

A run's rows are written like its profile rows, a page at a time in bulk
(:func:`page_job`, ``COPY`` on PostgreSQL) through the same ``write`` as the
page, inside the directory's own transaction, so a part that rolls back
(guard, failure, a dry run) leaves no history either. Only people who changed
get a row: an unchanged re-sync writes none and computes nothing more than
before (the comparison that finds a change already happens in the importer).
Deactivations, found as primary keys, are copied by one ``INSERT … SELECT``
per batch.

The counts of a part equal its rows per action: ``created`` the ``create``
rows, ``updated`` the ``update`` and ``reactivate`` rows, ``deactivated`` the
``deactivate`` rows. A person two passes of one part touched (an incremental
pass, then syncrepl deletions or a field fill) is merged into one row by
:func:`merge_duplicates` at the end of the part, and counted once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from profilesync.profiles.models import Profile
from profilesync.profiles.search.bulk import insert_many
from profilesync.spreadsheet import as_text_cell

from .models import ChangeAction, PersonChange, SyncPreview
from .writer import ProfileRow

# The columns a run's rows fill, in this order.
_COLUMNS = ("run", "directory", "directory_name", "unique_id", "username", "action", "fields",
            "actor", "outcome", "at")
_DEACTIVATED_FIELDS = {"active": {"old": True, "new": False}}


@dataclass(frozen=True, slots=True)
class ChangeLog:
    """Where one directory's part of a run records its changes."""

    run_id: int
    directory_id: int
    directory_name: str


@dataclass(slots=True)
class Change:
    unique_id: str
    username: str
    action: str
    fields: dict


def picture_hash(name: str) -> str:
    """The SHA-256 a stored picture's name carries (``pictures/ab/<sha256>.jpg``), or ``""``."""
    if not name:
        return ""
    return name.rsplit("/", 1)[-1].split(".", 1)[0]


def _core(username: str, display_name: str, dn: str, picture: str, active: bool) -> dict:
    return {"username": username, "display_name": display_name, "dn": dn,
            "picture": picture_hash(picture), "active": active}


def created_change(row: ProfileRow) -> Change:
    """A created person: every field with a value, ``old`` None."""
    fields = {key: {"old": None, "new": value}
              for key, value in _core(row.username, row.display_name, row.dn, row.picture,
                                      row.active).items() if value not in ("", None)}
    fields.update({key: {"old": None, "new": value} for key, value in row.values.items()})
    return Change(row.unique_id, row.username, ChangeAction.CREATE, fields)


def updated_change(stored_dn: str, stored_active: bool, stored: tuple, row: ProfileRow) -> Change:
    """The fields ``row`` changes of the stored ``(username, display_name, values, picture, …)``."""
    username, display_name, values, picture = stored[:4]
    old = _core(username, display_name, stored_dn, picture, stored_active)
    new = _core(row.username, row.display_name, row.dn, row.picture, row.active)
    fields = {key: {"old": old[key], "new": new[key]} for key in old if old[key] != new[key]}
    fields.update(value_changes(values or {}, row.values))
    if stored_active and not row.active:
        action = ChangeAction.DEACTIVATE
    elif row.active and not stored_active:
        action = ChangeAction.REACTIVATE
    else:
        action = ChangeAction.UPDATE
    return Change(row.unique_id, row.username, action, fields)


def value_changes(old: dict, new: dict) -> dict:
    """``{key: {"old", "new"}}`` for every field value that differs (absent is None)."""
    return {key: {"old": old.get(key), "new": new.get(key)}
            for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def page_job(log: ChangeLog, changes: list[Change], now: datetime):
    """A job writing ``changes`` for ``log`` (built here, run by the page's ``write``)."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    dumps = json.dumps
    rows = [[log.run_id, log.directory_id, log.directory_name, c.unique_id, c.username,
             c.action, dumps(c.fields), "", "", stamp] for c in changes]
    table, columns = _table(), _quoted(_COLUMNS)
    return lambda cursor: insert_many(cursor, table, columns, rows)


def record_deactivations(log: ChangeLog | None, pks: list[int], now: datetime) -> None:
    """One ``deactivate`` row per profile of ``pks``, copied from the profiles in one statement."""
    if log is None or not pks:
        return
    quote = connection.ops.quote_name
    profile = {f: quote(Profile._meta.get_field(f).column)
               for f in ("id", "unique_id", "username")}
    sql = (f"INSERT INTO {_table()} ({', '.join(_quoted(_COLUMNS))}) "
           f"SELECT %s, %s, %s, {profile['unique_id']}, {profile['username']}, %s, %s, '', '', %s "
           f"FROM {quote(Profile._meta.db_table)} "
           f"WHERE {profile['id']} IN ({', '.join(['%s'] * len(pks))})")
    with connection.cursor() as cursor:
        cursor.execute(sql, [log.run_id, log.directory_id, log.directory_name,
                             ChangeAction.DEACTIVATE, json.dumps(_DEACTIVATED_FIELDS),
                             connection.ops.adapt_datetimefield_value(now), *pks])


def record_changes(log: ChangeLog | None, changes: list[Change]) -> None:
    """Write ``changes`` now (passes that write synchronously, e.g. the field fill)."""
    if log is None or not changes:
        return
    with connection.cursor() as cursor:
        page_job(log, changes, timezone.now())(cursor)


_ORDER = {ChangeAction.CREATE: 0, ChangeAction.REACTIVATE: 1, ChangeAction.UPDATE: 1,
          ChangeAction.DEACTIVATE: 2}


def merge_duplicates(log: ChangeLog | None, counts) -> int:
    """Merge the rows of a person recorded twice in one part; fix ``counts``; return merges.

    Kept: ``create`` when the person was created, else the later action; the
    fields are the union, each with its first ``old`` and last ``new``.
    """
    if log is None:
        return 0
    mine = PersonChange.objects.filter(run_id=log.run_id, directory_id=log.directory_id)
    twice = list(mine.values("unique_id").annotate(n=Count("id")).filter(n__gt=1)
                 .values_list("unique_id", flat=True))
    merged = 0
    for unique_id in twice:
        rows = list(mine.filter(unique_id=unique_id).order_by("id"))
        keep, rest = rows[0], rows[1:]
        fields = dict(keep.fields)
        action = keep.action
        for row in rest:
            for key, change in row.fields.items():
                first = fields.get(key, change)["old"]
                fields[key] = {"old": first, "new": change["new"]}
            if action != ChangeAction.CREATE and _ORDER[row.action] >= _ORDER[action]:
                action = row.action
        fields = {k: v for k, v in fields.items() if v["old"] != v["new"]}
        for row in rows:
            _uncount(counts, row.action)
        _count(counts, action)
        keep.action, keep.fields, keep.username = action, fields, rest[-1].username
        keep.save(update_fields=["action", "fields", "username"])
        PersonChange.objects.filter(pk__in=[r.pk for r in rest]).delete()
        merged += 1
    return merged


def _count_attr(action: str) -> str:
    return {ChangeAction.CREATE: "created", ChangeAction.DEACTIVATE: "deactivated"}.get(
        action, "updated")


def _uncount(counts, action: str) -> None:
    name = _count_attr(action)
    setattr(counts, name, getattr(counts, name) - 1)


def _count(counts, action: str) -> None:
    name = _count_attr(action)
    setattr(counts, name, getattr(counts, name) + 1)


def record_edit(*, directory_id: int | None, directory_name: str, unique_id: str, username: str,
                key: str, old: str, new: str, actor: str, outcome: str,
                at: datetime | None = None) -> PersonChange:
    """A person's own edit of one field and what its write-back came to."""
    return PersonChange.objects.create(
        run=None, directory_id=directory_id, directory_name=directory_name, unique_id=unique_id,
        username=username, action=ChangeAction.EDIT, fields={key: {"old": old, "new": new}},
        actor=actor, outcome=outcome, at=at or timezone.now())


def retention_days() -> int:
    return settings.PROFILESYNC_CHANGE_HISTORY_DAYS


def prune(now: datetime | None = None, days: int | None = None) -> int:
    """Delete history older than the retention; return how many rows went."""
    days = retention_days() if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = PersonChange.objects.filter(at__lt=cutoff).delete()
    SyncPreview.objects.filter(requested_at__lt=cutoff).delete()  # what a preview found, too
    return deleted


def for_person(profile: Profile):
    """The history of ``profile``'s person, newest first."""
    return PersonChange.objects.filter(directory_id=profile.directory_id,
                                       unique_id=profile.unique_id)


def filtered(changes, action: str | None = None, field: str | None = None):
    """``changes`` of ``action`` and touching ``field`` (either may be empty)."""
    if action:
        changes = changes.filter(action=action)
    if field:
        changes = changes.filter(fields__has_key=field)
    return changes


def as_lines(changes: Iterable[PersonChange]) -> Iterator[dict]:
    """One export object per row, as ``sync report --changes`` and a dry run write them."""
    for change in changes:
        yield {"run": change.run_id, "directory": change.directory_name,
               "username": change.username, "unique_id": change.unique_id,
               "action": change.action, "fields": change.fields,
               "at": change.at.isoformat(), **({"actor": change.actor, "outcome": change.outcome}
                                              if change.action == ChangeAction.EDIT else {})}


CSV_COLUMNS = ("run", "at", "directory", "username", "unique_id", "action", "field", "old", "new",
               "actor", "outcome")


def as_csv_rows(changes: Iterable[PersonChange]) -> Iterator[list]:
    """One CSV row per changed field (values as JSON); no cell starts a spreadsheet formula,
    since names and values come from the directory."""
    for change in changes:
        for key, value in sorted(change.fields.items()) or [("", {"old": None, "new": None})]:
            row = [change.run_id or "", change.at.isoformat(), change.directory_name,
                   change.username, change.unique_id, change.action, key,
                   json.dumps(value["old"], ensure_ascii=False),
                   json.dumps(value["new"], ensure_ascii=False), change.actor, change.outcome]
            yield [as_text_cell(cell) for cell in row]


def _table() -> str:
    return connection.ops.quote_name(PersonChange._meta.db_table)


def _quoted(names: Iterable[str]) -> list[str]:
    return [connection.ops.quote_name(PersonChange._meta.get_field(n).column) for n in names]
