"""Deletions through RFC 4533 syncrepl (OpenLDAP with syncprov), and its BER decoding."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from profilesync.directories.services import update_directory
from profilesync.ldapclient.ber import BOOLEAN, ENUMERATED, OCTET_STRING, SEQUENCE, SET, encode_tlv
from profilesync.ldapclient.syncrepl import Refresh as SyncRefresh
from profilesync.ldapclient.syncrepl import SyncDone, SyncRequest, SyncState, _read_sync_info
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import DirectorySyncState, RunStatus, SyncMode
from profilesync.sync.runner import run_sync
from profilesync.testing.ldif import PEOPLE_OU, person_ldif
from profilesync.testing.slapd import SlapdServer

pytestmark = pytest.mark.django_db

# -- the wire format (no server) --------------------------------------------


def test_sync_request_asks_for_refresh_only_with_the_cookie():
    """The request control carries mode refreshOnly (1) and the stored cookie."""
    assert SyncRequest(b"rid=000,csn=1").encodeControlValue() == (
        b"\x30\x12\x0a\x01\x01\x04\x0drid=000,csn=1")
    assert SyncRequest(None).encodeControlValue() == b"\x30\x03\x0a\x01\x01"


def test_sync_state_gives_the_entry_uuid_in_its_text_form():
    """A state control's 16 raw bytes become the entryUUID string profiles are keyed by."""
    entry_uuid = uuid.uuid4()
    value = encode_tlv(SEQUENCE, encode_tlv(ENUMERATED, b"\x03")
                       + encode_tlv(OCTET_STRING, entry_uuid.bytes)
                       + encode_tlv(OCTET_STRING, b"cookie"))
    state = SyncState()
    state.decodeControlValue(value)
    assert (state.state, state.entry_uuid, state.cookie) == ("delete", str(entry_uuid), b"cookie")


def test_sync_done_defaults_to_present_phase():
    """Without refreshDeletes the server used the present phase."""
    done = SyncDone()
    done.decodeControlValue(encode_tlv(SEQUENCE, encode_tlv(OCTET_STRING, b"c")))
    assert (done.cookie, done.refresh_deletes) == (b"c", False)
    done.decodeControlValue(encode_tlv(SEQUENCE, encode_tlv(BOOLEAN, b"\xff")))
    assert done.refresh_deletes is True


def test_sync_id_set_with_refresh_deletes_lists_deleted_entries():
    """A syncIdSet flagged refreshDeletes names deleted entries, not present ones."""
    gone = [uuid.uuid4(), uuid.uuid4()]
    body = (encode_tlv(OCTET_STRING, b"new") + encode_tlv(BOOLEAN, b"\xff")
            + encode_tlv(SET, b"".join(encode_tlv(OCTET_STRING, u.bytes) for u in gone)))
    refresh = SyncRefresh()
    named: set[str] = set()
    _read_sync_info(encode_tlv(0xA3, body), refresh, named)
    assert refresh.deleted == {str(u) for u in gone}
    assert (named, refresh.cookie) == (set(), b"new")


# -- against slapd with syncprov ----------------------------------------------

def only_result(report):
    (result,) = report.results
    return result


def turn_on_incremental() -> None:
    set_setting("incremental_sync", "on")


def directory_on(server: SlapdServer, make_directory):
    return make_directory(None, urls=[server.ldap_uri], bind_dn=server.root_dn,
                          bind_password=server.root_pw, base_dn=server.suffix)


FIVE = ("ann", "ben", "cid", "dot", "eli")


@pytest.fixture
def five_people(tmp_path, make_directory):
    """Five people in a private slapd with syncprov, synced once, incremental sync on."""
    server = SlapdServer(run_dir=tmp_path / "slapd")
    old = timezone.now() - dt.timedelta(hours=1)
    server.load(PEOPLE_OU + "".join(person_ldif(uid, old) for uid in FIVE))
    with server:
        directory = directory_on(server, make_directory)
        run_sync([directory])
        turn_on_incremental()
        yield directory, server


def dn(uid: str) -> str:
    return f"uid={uid},ou=people,dc=example,dc=org"


def test_deleted_person_is_deactivated_by_the_next_incremental_run(five_people, profiles):
    """Someone deleted from the directory shows as deactivated after the next incremental run,
    without waiting for a reconciliation; their profile is kept."""
    directory, server = five_people
    first = only_result(run_sync([directory]))  # takes the first cookie
    server.delete(dn("ann"))

    result = only_result(run_sync([directory]))

    assert (first.status, result.status, result.mode) == (RunStatus.SUCCEEDED,
                                                          RunStatus.SUCCEEDED, SyncMode.INCREMENTAL)
    assert result.deletions_source.startswith("syncrepl")
    assert result.deactivated == 1
    assert {u: p.active for u, p in profiles(directory).items()} == {
        "ann": False, "ben": True, "cid": True, "dot": True, "eli": True}


def test_deletion_before_the_first_cookie_is_found_too(five_people, profiles):
    """The first incremental run has no cookie yet; the present phase still finds deletions."""
    directory, server = five_people
    server.delete(dn("ben"))

    result = only_result(run_sync([directory]))

    assert result.deactivated == 1
    assert not profiles(directory)["ben"].active
    assert DirectorySyncState.objects.get(directory=directory).syncrepl_cookie


def test_deletion_after_a_directory_restart_is_found(five_people, profiles):
    """After slapd restarts (its session log is gone) the server falls back to the present
    phase, and a person deleted meanwhile is still deactivated."""
    directory, server = five_people
    only_result(run_sync([directory]))
    server.stop()
    server.start()
    server.delete(dn("cid"))

    result = only_result(run_sync([directory]))

    assert result.deactivated == 1
    assert not profiles(directory)["cid"].active


def test_syncrepl_deletions_respect_the_deactivation_guard(five_people, profiles):
    """Deleting more than the allowed share stops the run before anyone is deactivated and
    keeps the cookie, so the deletions are reported again on the next try."""
    directory, server = five_people
    update_directory(directory, {"deactivation_floor": 0})  # five people: no floor here
    only_result(run_sync([directory]))
    cookie_before = bytes(DirectorySyncState.objects.get(directory=directory).syncrepl_cookie)
    for uid in ("ann", "ben"):
        server.delete(dn(uid))

    result = only_result(run_sync([directory]))

    assert result.status == RunStatus.FAILED
    assert "2 of 5" in result.errors[0]["message"]
    assert all(p.active for p in profiles(directory).values())
    state = DirectorySyncState.objects.get(directory=directory)
    assert bytes(state.syncrepl_cookie) == cookie_before
    forced = only_result(run_sync([directory], force=True))
    assert forced.deactivated == 2


def test_without_syncprov_deletions_are_found_by_a_sweep_of_unique_ids(tmp_path, make_directory,
                                                                         profiles):
    """A directory that lists the sync control but cannot serve it (no syncprov) still syncs
    incrementally, and a deletion is found by the next run, by a paged search of unique IDs;
    the report says so and why."""
    server = SlapdServer(run_dir=tmp_path / "slapd", syncprov=False)
    server.load(PEOPLE_OU + "".join(person_ldif(uid, dt.datetime.now(dt.UTC))
                                    for uid in ("ann", "ben")))
    with server:
        directory = directory_on(server, make_directory)
        run_sync([directory])
        turn_on_incremental()
        server.delete(dn("ben"))
        result = only_result(run_sync([directory]))

    assert (result.status, result.mode) == (RunStatus.SUCCEEDED, SyncMode.INCREMENTAL)
    assert result.deletions_source.startswith("paged search of unique IDs (syncrepl refused")
    assert result.deactivated == 1
    assert {u: p.active for u, p in profiles(directory).items()} == {"ann": True, "ben": False}
