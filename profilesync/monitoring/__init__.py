"""Operators' view of profilesync: metrics, health, alerts and the log format.

The rooms, one job each:

- ``metrics_collector``: the figures computed from the database at scrape time (runs,
  profiles, write-backs, guard trips, heartbeats), the same whichever node is scraped;
- ``process_metrics`` and ``middleware``: the per-process counters (HTTP requests by route
  and status, latency), added up over every process by prometheus-client's multiprocess mode;
- ``metrics_access`` and ``views``: who may read ``/metrics``, and the ``/metrics``,
  ``/healthz`` and ``/readyz`` answers;
- ``health``: the readiness checks shared by ``/readyz`` and ``profilesync check``;
- ``heartbeat``: each worker's "still alive" row;
- ``rules``: the alert conditions true now; ``incidents``: one incident per condition,
  opened and resolved, each told once; ``messages``: what an alert says;
- ``recipients``: who is told (the CLI's and the Notifications page's one service);
  ``mail_sender`` and ``webhook_sender``: how;
- ``tasks``: the scheduled job that evaluates the rules in the worker;
- ``json_logs``: ``PROFILESYNC_LOG_FORMAT=json``.
"""
