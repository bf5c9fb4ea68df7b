"""The scheduled job "Bulk profile update (LDAP sync)": cron schedule, due slots, one run at a time.

How the pieces fit, for several workers on several machines sharing one database:

- ``cron``: parse an administrator's cron expression, find the due times around an instant;
- ``jobs``: the scheduled jobs this installation knows and their default schedules;
- ``schedules``: a job's schedule as stored, read and changed by the CLI;
- ``scheduler``: claim each due slot exactly once (one conditional UPDATE) and queue the task;
- ``tasks``: the django-tasks task a worker runs for a claimed slot or a "run now";
- ``lease``: the lease row a running sync holds, renewed by a heartbeat, taken over on expiry;
- ``exclusive``: ``run_sync_exclusively``, the sync runner under that lease;
- ``worker``: the ``profilesync worker`` process, task worker plus scheduler loop.
"""
