"""Storing the search columns outside the sync's bulk writer.

The sync writer computes them with the values it writes (``sync/writer.py``).
Everything else goes through here:

* a profile saved through the ORM (the edit dialog, write-back) gets its
  columns recomputed right after the save, in the same transaction;
* a change to which fields are searched or filtered on (a field created,
  deleted, made searchable, turned into a select, restricted to some roles)
  recomputes every profile's search text, in the same transaction.

The functions take the model classes, so the data migration can pass its
historical models.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from .bulk import update_many
from .text import SearchFields, search_columns

BATCH_SIZE = 2000


def load_search_fields(field_model=None) -> SearchFields:
    if field_model is None:
        from profilesync.profiles.models import ProfileField as field_model
    return SearchFields.of(field_model.objects.order_by("position", "key").only(
        "key", "type", "searchable", "shown_in_profile", "visible_to"))


def refresh_search_columns(pks: Iterable[int] | None = None, *, fields: SearchFields | None = None,
                           profile_model=None, field_model=None) -> int:
    """Recompute the search columns of the profiles ``pks`` (all when None); return how many
    changed. Reads and writes in batches by id, so memory stays flat at any size."""
    if profile_model is None:
        from profilesync.profiles.models import Profile as profile_model
    if fields is None:
        fields = load_search_fields(field_model)
    queryset = profile_model.objects.order_by("pk")
    if pks is not None:
        queryset = queryset.filter(pk__in=list(pks))
    changed = 0
    last_pk = 0
    while True:
        rows = list(queryset.filter(pk__gt=last_pk).values_list(
            "pk", "display_name", "username", "values", "local_values", "search_text",
            "sort_name")[:BATCH_SIZE])
        if not rows:
            return changed
        last_pk = rows[-1][0]
        texts, both = [], []
        for pk, display_name, username, values, local_values, text, name in rows:
            new_text, new_name = search_columns(display_name, username, values, local_values,
                                                fields)
            if new_name != name:
                both.append([new_text, new_name, pk])
            elif new_text != text:
                texts.append([new_text, pk])
        _store(profile_model, ("search_text",), texts)
        _store(profile_model, ("search_text", "sort_name"), both)
        changed += len(texts) + len(both)


def _store(profile_model, columns: tuple[str, ...], updates: list[list]) -> None:
    """Write rows of ``[*columns, pk]``; a column left alone keeps its index entries."""
    if not updates:
        return
    quote = connection.ops.quote_name
    meta = profile_model._meta
    with connection.cursor() as cursor:
        update_many(cursor, quote(meta.db_table), [quote(meta.get_field(c).column) for c in columns],
                    quote(meta.pk.column), updates)
