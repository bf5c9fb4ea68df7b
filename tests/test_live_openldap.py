"""Live updates from OpenLDAP: changes pushed by syncrepl refreshAndPersist into a running worker.

Every test has its own slapd (with syncprov) so it can be killed and
restarted, and real ``profilesync worker`` subprocesses on the test database.
No scheduled run happens in these tests: whatever arrives, arrives through
the listener. Tests wait for states with deadlines; none asserts a duration.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import pytest
from django.utils import timezone

from profilesync.directories.services import update_directory
from profilesync.live.models import LiveListener
from profilesync.profiles.models import Profile
from profilesync.scheduling.lease import read_lease
from profilesync.sync.models import DirectorySyncState, RunStatus, SyncRun
from profilesync.sync.runner import run_sync
from profilesync.testing.ldif import PEOPLE_OU, person_ldif
from profilesync.testing.live import (
    WorkerProcess,
    Workers,
    imported_directory,
    slapd_with_people,
)
from profilesync.testing.slapd import SlapdServer

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = ("ann", "ben", "cid", "dot", "eli")


def dn(uid: str) -> str:
    return f"uid={uid},ou=people,dc=example,dc=org"


@pytest.fixture
def slapd(tmp_path) -> Iterator[SlapdServer]:
    with slapd_with_people(tmp_path / "slapd", PEOPLE) as server:
        yield server


@pytest.fixture
def directory(slapd, make_directory):
    """The five people, imported once by a run (as after installation)."""
    return imported_directory(slapd, make_directory)


@pytest.fixture
def start_worker(tmp_path, profilesync_env) -> Iterator[Callable[[str], WorkerProcess]]:
    with Workers(tmp_path, profilesync_env) as workers:
        yield workers.start


def listener(directory) -> LiveListener:
    return LiveListener.objects.get(directory=directory)


def profile(directory, username: str) -> Profile | None:
    return Profile.objects.filter(directory=directory, username=username).first()


def title_of(directory, username: str) -> str | None:
    found = profile(directory, username)
    return None if found is None else found.values.get("title")


def wait_connected(directory, wait_for, worker: WorkerProcess | None = None) -> LiveListener:
    def connected():
        if worker is not None:
            assert worker.alive(), worker.output
        row = LiveListener.objects.filter(directory=directory).first()
        return row if row is not None and row.state == "connected" else None

    return wait_for(connected, what="the listener to connect", timeout=60)


def runs_other_than_live() -> int:
    return SyncRun.objects.exclude(trigger="live").count()


def test_changes_renames_deletions_and_new_users_arrive_without_a_run(
        slapd, directory, start_worker, wait_for):
    """With a worker running, a changed title, a rename, a new person and a deletion show up in
    the profiles by themselves; no run besides the first import is started."""
    worker = start_worker("w1")
    row = wait_connected(directory, wait_for, worker)
    assert (row.method, row.holder) == ("syncrepl", "worker w1")

    slapd.modify(dn("ann"), {"title": ["Head of Tea"]})
    wait_for(lambda: title_of(directory, "ann") == "Head of Tea", what="ann's new title")

    slapd.rename(dn("ben"), "uid=benjamin")
    wait_for(lambda: profile(directory, "benjamin") is not None, what="ben's new name")
    assert profile(directory, "ben") is None  # the same profile, renamed, not a second one

    slapd.add("uid=fay,ou=people,dc=example,dc=org",
              {"objectClass": ["inetOrgPerson"], "uid": ["fay"], "cn": ["fay"], "sn": ["fay"],
               "title": ["New starter"]})
    wait_for(lambda: title_of(directory, "fay") == "New starter", what="fay to arrive")

    slapd.delete(dn("cid"))
    wait_for(lambda: not profile(directory, "cid").active, what="cid to be deactivated")

    assert runs_other_than_live() == 1  # the first import only
    assert listener(directory).last_change_at is not None
    # The change history names each change, as for a run, under the live runs.
    from profilesync.sync.models import PersonChange

    history = {(c.username, c.action) for c in PersonChange.objects.filter(run__trigger="live")}
    assert {("ann", "update"), ("benjamin", "update"), ("fay", "create"),
            ("cid", "deactivate")} <= history
    ann = PersonChange.objects.get(run__trigger="live", username="ann")
    assert ann.fields["title"] == {"old": "Engineer", "new": "Head of Tea"}
    assert {p.username: p.active for p in Profile.objects.filter(directory=directory)} == {
        "ann": True, "benjamin": True, "cid": False, "dot": True, "eli": True, "fay": True}
    # The cookie moved with the changes, so the next scheduled run starts from there.
    assert DirectorySyncState.objects.get(directory=directory).syncrepl_cookie
    assert worker.stop() == 0
    assert listener(directory).state == "off"


def test_killing_slapd_mid_stream_loses_nothing(slapd, directory, start_worker, wait_for):
    """slapd killed while the listener listens: it reports reconnecting, and once slapd is back
    the changes made before and after the kill all arrive."""
    worker = start_worker("w1")
    wait_connected(directory, wait_for, worker)
    slapd.modify(dn("ann"), {"title": ["Before the crash"]})
    slapd.process.kill()
    slapd.process.wait()
    slapd.process = None
    wait_for(lambda: listener(directory).state == "reconnecting", what="reconnecting")
    assert listener(directory).message  # says why

    slapd.start()
    slapd.modify(dn("ben"), {"title": ["After the crash"]})
    slapd.delete(dn("dot"))

    wait_for(lambda: title_of(directory, "ben") == "After the crash", what="ben's change")
    wait_for(lambda: not profile(directory, "dot").active, what="dot's deletion")
    assert title_of(directory, "ann") == "Before the crash"
    assert runs_other_than_live() == 1
    assert worker.alive(), worker.output


def test_a_dead_worker_is_taken_over_and_nothing_is_lost(slapd, directory, start_worker,
                                                         wait_for):
    """Two workers run one listener. The one holding it is killed; changes made while nobody
    listens, across a slapd restart, arrive through the other, which resumes from the cookie
    the dead one stored."""
    first = start_worker("w1")
    second = start_worker("w2")
    row = wait_connected(directory, wait_for, first)
    holder = row.holder
    assert holder in ("worker w1", "worker w2")
    assert read_lease(f"live:{directory.pk}").holder == holder
    dying, survivor = (first, second) if holder == "worker w1" else (second, first)

    slapd.modify(dn("ann"), {"title": ["Seen live"]})
    wait_for(lambda: title_of(directory, "ann") == "Seen live", what="ann's change")
    # One listener: with both workers looking every 0.2 s, the lease was acquired once only.
    assert read_lease(f"live:{directory.pk}").generation == 1

    dying.kill()
    slapd.restart()
    slapd.modify(dn("eli"), {"title": ["While nobody listened"]})
    slapd.delete(dn("ben"))

    wait_for(lambda: listener(directory).holder == survivor.holder
             and listener(directory).state == "connected", what="the takeover", timeout=60)
    wait_for(lambda: title_of(directory, "eli") == "While nobody listened", what="eli's change")
    wait_for(lambda: not profile(directory, "ben").active, what="ben's deletion")
    assert read_lease(f"live:{directory.pk}").holder == survivor.holder
    assert runs_other_than_live() == 1
    assert survivor.alive(), survivor.output


def test_a_stale_cookie_falls_back_with_the_reason_shown(slapd, directory, start_worker,
                                                         wait_for, cli):
    """A cookie older than anything the server's session log holds: the listener catches up from
    the server's full list (finding a deletion no cookie could have reported) and says why."""
    DirectorySyncState.objects.filter(directory=directory).update(
        syncrepl_cookie=b"rid=000,csn=20000101000000.000000Z#000000#000#000000")
    slapd.delete(dn("eli"))
    worker = start_worker("w1")

    wait_connected(directory, wait_for, worker)
    wait_for(lambda: not profile(directory, "eli").active, what="eli's deletion")
    code, out, _ = cli("directory", "show", directory.name, "--json")
    live = json.loads(out)["live"]
    assert (code, live["state"], live["method"]) == (0, "connected", "syncrepl")
    assert "could not resume from the stored cookie" in live["message"]
    assert live["since"] and live["last_change_at"]
    # The sync report says it too, on the live run that caught up.
    (caught_up,) = [r for run in SyncRun.objects.filter(trigger="live") for r in run.results.all()
                    if any("could not resume" in note for note in r.notes)]
    assert caught_up.deactivated == 1


def test_a_burst_past_the_guard_stops_and_reports(slapd, directory, start_worker, wait_for):
    """Deleting most people at once: the guard stops the listener before it deactivates past the
    limit, the live run is recorded as failed with who would have gone, and the state says so."""
    update_directory(directory, {"deactivation_floor": 1})
    worker = start_worker("w1")
    wait_connected(directory, wait_for, worker)

    for uid in ("ann", "ben", "cid", "dot"):
        slapd.delete(dn(uid))

    wait_for(lambda: listener(directory).state == "off", what="the guard to stop the listener")
    assert "deactivation guard" in listener(directory).message
    failed = SyncRun.objects.filter(trigger="live", status=RunStatus.FAILED).first()
    assert failed is not None
    (result,) = failed.results.all()
    assert result.would_deactivate and "stopped before deactivating anyone" in (
        result.errors[0]["message"])
    inactive = Profile.objects.filter(directory=directory, active=False).count()
    assert inactive <= 1  # at most the floor went before the guard stopped the rest
    assert worker.alive(), worker.output


def test_live_switched_off_stops_the_listener(slapd, directory, start_worker, wait_for, cli):
    """`profilesync directory set NAME --live off` stops the listener; a change then waits for a
    run. Switched back on, the listener resumes from its cookie and the change arrives."""
    worker = start_worker("w1")
    wait_connected(directory, wait_for, worker)

    assert cli("directory", "set", directory.name, "--live", "off")[0] == 0
    wait_for(lambda: listener(directory).state == "off", what="the listener to stop")
    slapd.modify(dn("ann"), {"title": ["Changed while off"]})
    code, out, _ = cli("directory", "show", directory.name, "--json")
    assert json.loads(out)["live"]["setting"] == "off"
    assert title_of(directory, "ann") == "Engineer"

    assert cli("directory", "set", directory.name, "--live", "on")[0] == 0
    wait_for(lambda: title_of(directory, "ann") == "Changed while off", what="the change")
    wait_connected(directory, wait_for, worker)


def test_a_change_waits_for_a_run_writing_the_directory(slapd, directory, start_worker, wait_for):
    """While a sync run holds the sync lease (it is writing), a pushed change waits and the
    state says for whom; once the run is done the change is applied."""
    from datetime import timedelta

    from profilesync.scheduling.exclusive import SYNC_LEASE
    from profilesync.scheduling.lease import acquire, release

    worker = start_worker("w1")
    wait_connected(directory, wait_for, worker)
    run_lease = acquire(SYNC_LEASE, "schedule on testhost pid 1", duration=timedelta(minutes=5))
    try:
        slapd.modify(dn("ann"), {"title": ["After the run"]})
        wait_for(lambda: "waits for the sync run held by schedule on testhost pid 1"
                 in listener(directory).message, what="the listener to say it waits")
        assert title_of(directory, "ann") == "Engineer"
    finally:
        release(run_lease)
    wait_for(lambda: title_of(directory, "ann") == "After the run", what="the change after the run")
    wait_for(lambda: "waits" not in listener(directory).message, what="the message to clear")


def test_a_refresh_in_many_batches_names_everyone_present(slapd):
    """Without a cookie the server sends every entry; handed over a few at a time, the last
    batch still names all of them as present, so nobody is taken for gone (this once
    deactivated everyone but the last batch at 2,000 users)."""
    from profilesync.ldapclient.connection import ConnectionSettings, connected
    from profilesync.ldapclient.persist import PersistentSearch

    settings = ConnectionSettings(urls=(slapd.ldap_uri,), bind_dn=slapd.root_dn,
                                  bind_password=slapd.root_pw)
    with connected(settings) as conn:
        search = PersistentSearch(conn, slapd.suffix, "(objectClass=inetOrgPerson)",
                                  ["uid"], None)
        sent, batches = set(), 0
        while True:
            batch = search.poll(5.0, max_entries=2)
            batches += 1
            sent |= {attrs["uid"][0].decode() for _dn, attrs in batch.entries.values()}
            if batch.refresh_done:
                break
        search.abandon()

    assert batches >= 3
    assert sent == set(PEOPLE)
    assert batch.present is not None and len(batch.present) == len(PEOPLE)


def test_without_push_live_is_off_by_default_and_polls_when_switched_on(tmp_path, make_directory,
                                                                        start_worker, wait_for,
                                                                        cli):
    """A server that cannot push (no syncprov): the listener says live is off by default and
    why; switched on, it polls and a change arrives without a scheduled run."""
    from profilesync.live.status import set_live

    server = SlapdServer(run_dir=tmp_path / "plain", syncprov=False)
    old = timezone.now() - dt.timedelta(hours=1)
    server.load(PEOPLE_OU + "".join(person_ldif(uid, old) for uid in ("ann", "ben")))
    with server:
        plain = make_directory(None, urls=[server.ldap_uri], bind_dn=server.root_dn,
                               bind_password=server.root_pw, base_dn=server.suffix)
        run_sync([plain])
        set_live(plain, poll_seconds=1)
        worker = start_worker("w1")
        wait_for(lambda: LiveListener.objects.get(directory=plain).message.startswith(
            "off by default"), what="the listener to decide", timeout=60)
        assert listener(plain).state == "off" and listener(plain).method == "poll"

        assert cli("directory", "set", plain.name, "--live", "on")[0] == 0
        wait_for(lambda: listener(plain).state == "polling", what="polling", timeout=60)
        server.modify(dn("ann"), {"title": ["Polled"]})
        wait_for(lambda: title_of(plain, "ann") == "Polled", what="the polled change")
        assert runs_other_than_live() == 1
        assert worker.alive(), worker.output
