"""Managers from the directory's ``manager`` attribute, resolved to profiles (real slapd).

What an organisation notices: the manager field names a person, whichever page
or run brings them in, within the same directory only; a manager who is not in
profilesync stays a DN; renames and loops do not break anything.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from profilesync.profiles.person_links import dn_key, relink_directory
from profilesync.profiles.reporting_lines import chain_of, direct_reports, manager_of, top_people
from profilesync.sync.models import RunStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer():
    return get_user_model().objects.create_user("viewer", password="pw-for-viewer-1")


def test_dn_key_folds_case_and_blanks_but_keeps_escapes():
    assert dn_key("CN=Ann Lee, OU=People , DC=Example") == "cn=ann lee,ou=people,dc=example"
    assert dn_key(r"cn=Lee\, Ann,ou=x") == r"cn=lee\, ann,ou=x"
    assert dn_key(r"cn=Lee\ ,ou=x") != dn_key("cn=Lee,ou=x")


def test_manager_on_a_later_page_is_resolved(subtree, make_directory, sync_directory, profiles,
                                             viewer):
    """Entries arrive before their manager (page size 2): every manager is found anyway."""
    # uid order puts reports on the first pages and the manager on the last.
    boss = f"uid=zed,{subtree.people_dn}"
    for uid in ("amy", "ben", "cat"):
        subtree.add_person(uid, manager=boss, title="Engineer")
    subtree.add_person("zed", title="Chief")
    directory = make_directory(subtree, page_size=2)

    result = sync_directory(directory)

    assert result.status == RunStatus.SUCCEEDED, result.errors
    people = profiles(directory)
    for uid in ("amy", "ben", "cat"):
        assert manager_of(people[uid], viewer).person.pk == people["zed"].pk
    reports = direct_reports(people["zed"], viewer)
    assert sorted(r.person.name for r in reports) == ["Person amy", "Person ben", "Person cat"]
    assert [r.person.name for r in top_people(viewer)] == ["Person zed"]
    assert top_people(viewer)[0].leads == 3


def test_missing_manager_stays_a_dn(subtree, make_directory, sync_directory, profiles, viewer):
    gone = f"uid=nobody,{subtree.people_dn}"
    subtree.add_person("amy", manager=gone)
    directory = make_directory(subtree)

    sync_directory(directory)

    manager = manager_of(profiles(directory)["amy"], viewer)
    assert manager.person is None and manager.dn == gone
    chain = chain_of(profiles(directory)["amy"], viewer)
    assert chain.people == [] and chain.outside_dn == gone
    # A manager outside profilesync puts the person at the top of the org chart.
    assert [r.person.name for r in top_people(viewer)] == ["Person amy"]


def test_manager_arriving_in_a_later_run_is_resolved(subtree, make_directory, sync_directory,
                                                     profiles, viewer):
    boss = f"uid=boss,{subtree.people_dn}"
    subtree.add_person("amy", manager=boss)
    directory = make_directory(subtree)
    sync_directory(directory)
    assert manager_of(profiles(directory)["amy"], viewer).person is None

    subtree.add_person("boss", title="Head")
    sync_directory(directory)

    assert manager_of(profiles(directory)["amy"], viewer).person.pk == profiles(directory)["boss"].pk


def test_no_resolution_across_directories(make_subtree, make_directory, sync_directory, profiles,
                                          viewer):
    """A DN names a person of the same directory only, even if another holds that DN."""
    left, right = make_subtree(), make_subtree()
    shared_boss = f"uid=boss,{right.people_dn}"
    left.add_person("amy", manager=shared_boss)
    right.add_person("boss")
    right.add_person("bob", manager=shared_boss)
    first = make_directory(left, name="left")
    second = make_directory(right, name="right")
    sync_directory(first)
    sync_directory(second)

    assert manager_of(profiles(first)["amy"], viewer).person is None
    assert manager_of(profiles(second)["bob"], viewer).person.pk == profiles(second)["boss"].pk


def test_renamed_manager_is_followed(subtree, make_directory, sync_directory, profiles, viewer):
    """The manager is renamed and the report's manager attribute follows (as refint does)."""
    boss = subtree.add_person("boss")
    amy = subtree.add_person("amy", manager=boss)
    directory = make_directory(subtree, user_dn="")
    sync_directory(directory)
    boss_pk = profiles(directory)["boss"].pk

    # Moved to another branch (the filter's user DN is the whole subtree here).
    renamed = subtree.rename(boss, "uid=boss", subtree.add_ou("staff"))
    sync_directory(directory)  # boss renamed; amy still names the old DN
    assert manager_of(profiles(directory)["amy"], viewer).person is None

    # Another spelling of the same DN (case): still the same person.
    subtree.modify(amy, manager=renamed.replace("uid=boss,ou=staff", "UID=boss, OU=Staff"))
    sync_directory(directory)
    assert manager_of(profiles(directory)["amy"], viewer).person.pk == boss_pk


def test_renamed_to_a_dn_someone_names_resolves_them(subtree, make_directory, sync_directory,
                                                     profiles, viewer):
    future = f"uid=lead,{subtree.people_dn}"
    subtree.add_person("amy", manager=future)
    someone = subtree.add_person("someone")
    directory = make_directory(subtree)
    sync_directory(directory)
    assert manager_of(profiles(directory)["amy"], viewer).person is None
    someone_pk = profiles(directory)["someone"].pk

    subtree.rename(someone, "uid=lead")  # the same person (entryUUID), now user "lead"
    sync_directory(directory)

    assert manager_of(profiles(directory)["amy"], viewer).person.pk == someone_pk


def test_loops_and_self_references_end(subtree, make_directory, sync_directory, profiles, viewer):
    a = f"uid=a,{subtree.people_dn}"
    b = f"uid=b,{subtree.people_dn}"
    c = f"uid=c,{subtree.people_dn}"
    subtree.add_person("a", manager=b)
    subtree.add_person("b", manager=c)
    subtree.add_person("c", manager=a)
    subtree.add_person("me", manager=f"uid=me,{subtree.people_dn}")
    directory = make_directory(subtree)
    sync_directory(directory)
    people = profiles(directory)

    chain = chain_of(people["a"], viewer)
    assert [p.name for p in chain.people] == ["Person b", "Person c"]
    assert chain.loop_to.pk == people["a"].pk
    own = chain_of(people["me"], viewer)
    assert own.self_reference and own.people == []
    assert [r.person.name for r in direct_reports(people["me"], viewer)] == []
    # Someone who manages only themselves is at the top; a pure loop has no top.
    assert [r.person.name for r in top_people(viewer)] == ["Person me"]


def test_deactivated_manager_hidden_from_people(subtree, make_directory, sync_directory, profiles,
                                                viewer):
    boss = subtree.add_person("boss")
    subtree.add_person("amy", manager=boss)
    subtree.add_person("ben")
    directory = make_directory(subtree)
    sync_directory(directory)
    subtree.delete(boss)
    sync_directory(directory, force=True)

    manager = manager_of(profiles(directory)["amy"], viewer)
    assert manager.person is None and manager.dn == boss
    assert {r.person.name for r in top_people(viewer)} == {"Person amy", "Person ben"}
    # Administrators see the deactivated manager on amy's profile, and amy at the top of
    # the chart, which lists active people only.
    from profilesync.accounts.roles import Role, set_role

    admin = get_user_model().objects.create_user("admin1", password="pw-for-admin-1")
    set_role(admin, Role.ADMINISTRATOR)
    assert manager_of(profiles(directory)["amy"], admin).person.name == "Person boss"
    assert {r.person.name for r in top_people(admin)} == {"Person amy", "Person ben"}


def test_relink_builds_links_for_profiles_imported_before(subtree, make_directory, sync_directory,
                                                          profiles, viewer):
    """Relinking links people whose pages were written before the field existed."""
    from profilesync.profiles.models import PersonLink

    boss = subtree.add_person("boss")
    subtree.add_person("amy", manager=boss)
    directory = make_directory(subtree)
    sync_directory(directory)
    PersonLink.objects.all().delete()
    assert manager_of(profiles(directory)["amy"], viewer) is None

    assert relink_directory(directory.pk) == 2
    assert manager_of(profiles(directory)["amy"], viewer).person.name == "Person boss"


def test_export_names_the_manager(subtree, make_directory, sync_directory, cli):
    """``profiles export`` adds the manager's user name (null when not in profilesync),
    also after ``profiles relink`` rebuilt the links from scratch."""
    from profilesync.profiles.models import PersonLink

    boss = subtree.add_person("boss")
    subtree.add_person("amy", manager=boss)
    subtree.add_person("ben", manager=f"uid=ghost,{subtree.people_dn}")
    sync_directory(make_directory(subtree))
    PersonLink.objects.all().delete()

    relinked = StringIO()
    call_command("profiles", "relink", stdout=relinked)  # (cli() closes the database)
    assert relinked.getvalue() == "Reporting lines rebuilt for 3 people.\n"
    code, out, _ = cli("profiles", "export")

    rows = {row["username"]: row for row in map(json.loads, out.splitlines())}
    assert code == 0
    assert rows["amy"]["manager"] == "boss"
    assert rows["ben"]["manager"] is None
    assert rows["boss"]["manager"] is None
