"""Live updates: a change in the directory shows up in seconds, not at the next scheduled run.

One listener per directory runs inside some ``profilesync worker`` (a lease
decides which): OpenLDAP pushes changes by syncrepl refreshAndPersist
(:mod:`profilesync.ldapclient.persist`); elsewhere the directory is polled
every ``live_poll_seconds``. Changes go through the importer of a run and
advance the same cookie or USN. See docs/architecture.md, "Live updates".
"""
