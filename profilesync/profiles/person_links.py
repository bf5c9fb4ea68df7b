"""Resolving Person fields (``manager``) from the DN a directory gives to the profile it names.

A directory names a manager by DN, and entries may arrive before their manager
(another page, a later incremental run) or be renamed afterwards. So resolution
is not done per entry while mapping but after each page is written, over
:class:`~profilesync.profiles.models.PersonLink` rows:

* each written profile gets one row per Person field: its own DN and the DN the
  field names, both normalised (:func:`dn_key`);
* a row's ``target`` is the profile of the same directory whose own DN is that
  DN, looked up again for the page's people, for everyone who names one of the
  page's DNs (the manager arrived, or was renamed to it), and for everyone who
  pointed at one of the page's people (who may have been renamed away);
* a DN that no profile has keeps ``target`` null: shown as the DN, "not in
  profilesync".

The work is plain SQL on the cursor the sync's writes use (:func:`page_job`
returns a job for the sync's ``write``), so in a full pass it runs on the write
thread after the page's rows, in the run's transaction. Naming conventions: a
``*_dn`` is a DN as the directory sent it, a ``*_key`` the same DN normalised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from django.db import connection

from .models import FieldType, PersonLink, Profile, ProfileField
from .search.bulk import insert_many, update_many

CHUNK = 500  # ids per IN list: well under every database's parameter limit

Job = Callable[[object], None]


class WrittenRow(Protocol):
    """What a page's written profile rows offer (``sync.writer.ProfileRow``)."""

    unique_id: str
    dn: str
    values: dict


def dn_key(dn: str) -> str:
    """``dn`` in one spelling: lower case, no blanks around ``,`` ``+`` ``=`` (escapes kept).

    Directories compare DNs by their attribute types' matching rules; the
    ``manager`` value and the entry's own DN come from the same server and
    differ at most in case and spacing, which this folds (``CN=Ann Lee, OU=People``
    and ``cn=ann lee,ou=people`` are one key).
    """
    out: list[str] = []
    blanks = ""
    after_separator = True  # blanks at the start, or after , + =, are dropped
    escaped = False
    for char in dn.strip():
        if escaped:
            out.append(char)
            escaped = after_separator = False
        elif char == " ":
            blanks += char
        elif char in ",+=":
            out.append(char)
            blanks, after_separator = "", True
        else:
            if blanks and not after_separator:
                out.append(blanks)
            out.append(char)
            blanks, after_separator, escaped = "", False, char == "\\"
    return "".join(out).lower()


def person_field_keys() -> list[str]:
    return list(ProfileField.objects.filter(type=FieldType.PERSON).values_list("key", flat=True))


def page_job(directory_id: int, rows: Iterable[WrittenRow],
             keys: Sequence[str] | None = None) -> Job:
    """The job that links the people of one written page (a no-op without Person fields).

    Built in the caller's thread (the field list is read here), run by the
    sync's ``write`` after the page's own rows.
    """
    keys = person_field_keys() if keys is None else list(keys)
    people = [(row.unique_id, row.dn, row.values) for row in rows]
    if not keys or not people:
        return _nothing
    return lambda cursor: link_people(cursor, directory_id, people, keys)


def _nothing(cursor) -> None:
    return None


def link_people(cursor, directory_id: int, people: list[tuple[str, str, dict]],
                keys: Sequence[str]) -> None:
    """Rewrite the links of ``people`` (unique ID, DN, values) and resolve what they touch."""
    table = _quote(PersonLink._meta.db_table)
    profiles = _quote(Profile._meta.db_table)
    ids: dict[str, int] = {}
    unique_ids = [uid for uid, _, _ in people]
    for condition, params in _in("unique_id", unique_ids):
        cursor.execute(f"SELECT unique_id, id FROM {profiles} WHERE directory_id = %s "
                       f"AND {condition}", [directory_id, *params])
        ids.update(cursor.cursor.fetchall())
    pks = [ids[uid] for uid in unique_ids if uid in ids]
    for condition, params in _in("profile_id", pks):
        cursor.execute(f"DELETE FROM {table} WHERE {condition}", params)
    rows = []
    own_keys = set()
    for unique_id, dn, values in people:
        pk = ids.get(unique_id)
        if pk is None:
            continue
        own = dn_key(dn)
        own_keys.add(own)
        for key in keys:
            target_dn = values.get(key)
            target_dn = target_dn.strip()[:1000] if isinstance(target_dn, str) else ""
            rows.append([pk, key, directory_id, own[:1000], target_dn, dn_key(target_dn)[:1000],
                         None])
    insert_many(cursor, table, [_quote(c) for c in (
        "profile_id", "field_key", "directory_id", "own_key", "target_dn", "target_key",
        "target_id")], rows)
    if connection.vendor == "postgresql":
        _keep_statistics(cursor, table)
    _resolve(cursor, directory_id, pks, sorted(own_keys))


def _keep_statistics(cursor, table: str) -> None:
    """``ANALYZE`` the link table whenever it has doubled since PostgreSQL last looked.

    A first import fills it inside the run's one transaction, where autovacuum never
    sees it: without statistics the planner took a 100,000-row table for a tiny one
    and scanned it for every page's look-ups (86 s of links for 100,000 people,
    bench/search.py). ANALYZE inside the transaction counts its own new rows; doing
    it at each doubling costs a few runs of about 0.1 s. (The profile table's own
    ANALYZE, tried too, cost 6 s at 60,000 people: more than it saved.)
    """
    cursor.execute(f"SELECT (SELECT max(id) FROM {table}), reltuples FROM pg_class "
                   f"WHERE oid = %s::regclass", [PersonLink._meta.db_table])
    newest, counted = cursor.cursor.fetchone()
    if newest is not None and newest > 2 * max(counted or 0, 500):
        cursor.execute(f"ANALYZE {table}")


def _resolve(cursor, directory_id: int, pks: list[int], own_keys: list[str]) -> None:
    """Set ``target`` of the links the page touched: its people's own, those naming one of
    its DNs (the manager arrived, or was renamed to it) and those pointing at one of its
    people (who may have been renamed away).

    A target is the profile with that DN, an active one before a deactivated one (a
    person deleted and re-created keeps the DN under a new unique ID). Plain indexed
    look-ups and one bulk update, no correlated subquery: PostgreSQL plans a table
    filled in the same transaction without statistics, and a subquery per row took
    0.6 s a page of 1,000 at 3,000 people (bench/search.py).
    """
    table = _quote(PersonLink._meta.db_table)
    profiles = _quote(Profile._meta.db_table)
    links: dict[int, tuple[str, str, int | None]] = {}  # id: (field key, target key, target)
    # By profile (a primary key of one directory anyway): no directory condition, which
    # made PostgreSQL scan the (directory, target key) index for the whole directory.
    lookups = (("", "profile_id", pks), ("", "target_id", pks),
               ("directory_id = %s AND ", "target_key", own_keys))
    for in_directory, column, values in lookups:
        for condition, params in _in(column, list(values)):
            cursor.execute(f"SELECT id, field_key, target_key, target_id FROM {table} "
                           f"WHERE {in_directory}{condition}",
                           [directory_id, *params] if in_directory else params)
            links.update((row[0], tuple(row[1:])) for row in cursor.cursor.fetchall())
    wanted = sorted({key for _, key, _ in links.values() if key})
    best: dict[tuple[str, str], tuple[bool, int]] = {}
    for condition, params in _in("o.own_key", wanted):
        cursor.execute(f"SELECT o.field_key, o.own_key, o.profile_id, p.active FROM {table} o "
                       f"JOIN {profiles} p ON p.id = o.profile_id WHERE o.directory_id = %s "
                       f"AND {condition}", [directory_id, *params])
        for field_key, own_key, profile_id, active in cursor.cursor.fetchall():
            rank = (bool(active), profile_id)
            if best.get((field_key, own_key), (False, -1)) < rank:
                best[(field_key, own_key)] = rank
    changes = []
    for link_id, (field_key, key, target) in links.items():
        found = best.get((field_key, key)) if key else None
        new = found[1] if found else None
        if new != target:
            changes.append([new, link_id])
    if connection.vendor == "postgresql" and changes:
        # One statement of two arrays: COPY into a temporary table (update_many) cost
        # more than the few hundred changed rows of a page.
        cursor.execute(f"UPDATE {table} SET target_id = new.target FROM (SELECT "
                       f"unnest(%s::integer[]) AS target, unnest(%s::integer[]) AS id) AS new "
                       f"WHERE {table}.id = new.id",
                       [[target for target, _ in changes], [link for _, link in changes]])
    else:
        update_many(cursor, table, [_quote("target_id")], _quote("id"), changes)


def relink_directory(directory_id: int, batch: int = 2000) -> int:
    """Rebuild every link of one directory from its stored profiles; return how many people.

    For an installation that adds a Person field after its profiles were
    imported (a field-fill pass stores the values without a page being written):
    ``profilesync profiles relink``.
    """
    keys = person_field_keys()
    if not keys:
        return 0
    done = 0
    stored = (Profile.objects.filter(directory_id=directory_id).order_by("pk")
              .values_list("unique_id", "dn", "values"))
    people: list[tuple[str, str, dict]] = []
    for person in stored.iterator(chunk_size=batch):
        people.append(person)
        if len(people) >= batch:
            _link_now(directory_id, people, keys)
            done += len(people)
            people = []
    if people:
        _link_now(directory_id, people, keys)
        done += len(people)
    return done


def connect() -> None:
    """Relink a profile whose values are saved one at a time (a write-back stores the
    written values with ``Profile.save``), as a sync page would."""
    from django.db.models.signals import post_save

    post_save.connect(_profile_saved, sender=Profile, dispatch_uid="person-links")


def _profile_saved(sender, instance: Profile, created: bool, update_fields=None, **kwargs) -> None:
    if update_fields is not None and "values" not in update_fields:
        return  # a person's own edit (local_values) or a login: no DN changed
    keys = person_field_keys()
    if keys:
        _link_now(instance.directory_id, [(instance.unique_id, instance.dn, instance.values)],
                  keys)


def _link_now(directory_id: int, people: list[tuple[str, str, dict]], keys: list[str]) -> None:
    # Django's cursor offers what link_people uses of the sync's: execute with %s, .cursor.
    with connection.cursor() as cursor:
        link_people(cursor, directory_id, people, keys)


def _in(column: str, values: list) -> Iterable[tuple[str, list]]:
    """``column IN (…)`` in pieces: on PostgreSQL one ``= ANY`` of an array, bound once
    (500 separate parameters cost the server more than the look-up itself)."""
    if not values:
        return
    if connection.vendor == "postgresql":
        yield f"{column} = ANY(%s)", [values]
        return
    for chunk in _chunks(values):
        yield f"{column} IN ({_marks(chunk)})", chunk


def _chunks(items: list) -> Iterable[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _marks(chunk: list) -> str:
    return ", ".join(["%s"] * len(chunk))


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
