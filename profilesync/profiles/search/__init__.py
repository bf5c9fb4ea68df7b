"""The people search: what a profile stores to be found, the index, and the queries.

Rooms:

* :mod:`.text`: pure functions from a profile's names and values to its search
  text and sort name, and from what a person types to query words;
* :mod:`.index`: the database's own index over the search text (SQLite FTS5,
  PostgreSQL GIN over a tsvector), created by a migration and checked after
  every ``migrate``;
* :mod:`.bulk`: writing many profile rows in few statements (FTS5's sake);
* :mod:`.columns`: computing and storing the search columns outside the sync
  (a profile saved through the ORM, a change of which fields are searchable);
* :mod:`.signals`: the receivers that call it, and the check after ``migrate``;
* :mod:`.query`: a search, as a page of profiles and a count;
* :mod:`.choices`: the values a select field's filter offers.

docs/performance.md ("People search") explains the design with its measurements.

Naming kept here: a *word* is folded text (lower case, accents removed) between
separators; a *token* is what the index stores: words, one filter token per
value of a filterable field, and on SQLite the active marker.
"""
