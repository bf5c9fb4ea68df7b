"""Full sync against a real slapd: what people see in their profiles after a run."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from ldap.dn import escape_dn_chars, str2dn

from profilesync.demo.people import make_photo
from profilesync.profiles.models import Profile
from profilesync.profiles.pictures import picture_bytes
from profilesync.profiles.services import create_field
from profilesync.sync.models import RunStatus, SyncRun
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db

ODD = '#"Odd" <One> =1; x=y\\ '


def parsed(dn: str) -> list[list[tuple[str, str]]]:
    """A DN as comparable parts: attribute types lower-cased, values unescaped."""
    return [[(t.lower(), v) for t, v, _ in rdn] for rdn in str2dn(dn)]


def test_first_sync_creates_a_profile_per_person(subtree, make_directory, sync_directory, profiles):
    """After the first sync, each person in the directory has a profile with their details."""
    subtree.add_person("alice", displayName="Alice Archer", title="Engineer",
                       departmentNumber="Research", telephoneNumber="+49 30 1234",
                       mail="alice@example.org")
    subtree.add_person("bob", displayName="Bob Baker", title="Accountant")
    directory = make_directory(subtree)

    result = sync_directory(directory)

    assert (result.status, result.created, result.failed) == (RunStatus.SUCCEEDED, 2, 0)
    alice = profiles(directory)["alice"]
    assert alice.active
    assert alice.display_name == "Alice Archer"
    assert alice.values == {"display_name": "Alice Archer", "title": "Engineer",
                            "department": "Research", "phone": "+49 30 1234",
                            "mail": "alice@example.org"}
    assert profiles(directory)["bob"].values["title"] == "Accountant"


def test_multi_valued_attribute_feeds_a_multiselect_with_all_values(
        subtree, make_directory, sync_directory, profiles):
    """A multi-select field shows every value of a multi-valued attribute; a text field the first."""
    create_field("skills", {"label": "Skills", "type": "multiselect",
                            "ldap_attribute": "businessCategory", "options": "Go,Python,Rust"})
    subtree.add_person("carol", businessCategory=["Python", "Go", "Rust"],
                       telephoneNumber=["+49 30 1111", "+49 30 2222"])
    directory = make_directory(subtree)

    sync_directory(directory)

    carol = profiles(directory)["carol"]
    assert carol.values["skills"] == ["Python", "Go", "Rust"]
    assert carol.values["phone"] == "+49 30 1111"


def test_photo_is_stored_byte_for_byte(subtree, make_directory, sync_directory, profiles):
    """A person's jpegPhoto becomes their profile picture, exactly as the directory holds it."""
    photo = make_photo(7)
    subtree.add_person("dora", jpegPhoto=photo)
    subtree.add_person("emil")
    directory = make_directory(subtree)

    sync_directory(directory)

    dora, emil = profiles(directory)["dora"], profiles(directory)["emil"]
    assert dora.picture
    assert picture_bytes(dora.picture) == photo
    assert emil.picture == ""


def test_photo_removed_in_the_directory_leaves_the_profile(
        subtree, make_directory, sync_directory, profiles):
    """When a photo is deleted in the directory, the profile no longer shows one."""
    dn = subtree.add_person("dora", jpegPhoto=make_photo(8))
    directory = make_directory(subtree)
    sync_directory(directory)
    subtree.modify(dn, jpegPhoto=None)

    result = sync_directory(directory)

    assert result.updated == 1
    assert profiles(directory)["dora"].picture == ""


def test_non_ascii_values_arrive_unchanged(subtree, make_directory, sync_directory, profiles):
    """Names and titles in any script show exactly as written in the directory."""
    subtree.add_person("zoe", rdn="cn=Zoë Łukasiewicz", displayName="Zoë Łukasiewicz-Øster 田中",
                       title="Geschäftsführerin", departmentNumber="Développement")
    directory = make_directory(subtree)

    sync_directory(directory)

    zoe = profiles(directory)["zoe"]
    assert zoe.display_name == "Zoë Łukasiewicz-Øster 田中"
    assert zoe.values["title"] == "Geschäftsführerin"
    assert zoe.values["department"] == "Développement"
    assert parsed(zoe.dn)[0] == [("cn", "Zoë Łukasiewicz")]


def test_dns_with_escaped_characters_are_imported_and_stay_unchanged(
        subtree, make_directory, sync_directory, profiles):
    """People whose DN has a comma, a multi-valued RDN or quotes are imported, and stay put."""
    subtree.add_person("jsmith", rdn=r"cn=Smith\, John", cn="Smith, John")
    subtree.add_person("ann", rdn="cn=Ann Lee+uid=ann", cn="Ann Lee")
    subtree.add_person("odd", rdn=f"cn={escape_dn_chars(ODD)}", cn=ODD)
    directory = make_directory(subtree)

    first = sync_directory(directory)
    second = sync_directory(directory)

    assert (first.created, first.failed) == (3, 0)
    people = [("ou", "people"), ("ou", subtree.dn.split(",")[0][3:])]
    stored = profiles(directory)
    assert parsed(stored["jsmith"].dn)[:3] == [[("cn", "Smith, John")], *[[p] for p in people]]
    assert sorted(parsed(stored["ann"].dn)[0]) == [("cn", "Ann Lee"), ("uid", "ann")]
    assert parsed(stored["odd"].dn)[0] == [("cn", ODD)]
    assert (second.unchanged, second.updated, second.created) == (3, 0, 0)


def test_entries_outside_the_user_dn_or_the_filter_are_not_imported(
        subtree, make_directory, sync_directory, profiles):
    """Only people under the additional user DN who match the user filter get a profile."""
    subtree.add_person("staff", employeeType="staff")
    subtree.add_person("former", employeeType="former")
    subtree.add(f"cn=Printer,{subtree.people_dn}",
                {"objectClass": "person", "cn": "Printer", "sn": "Printer"})
    contractors_dn = subtree.add_ou("contractors")
    subtree.add_person("contractor", parent_dn=contractors_dn, employeeType="staff")
    subtree.add_person("toplevel", parent_dn=subtree.dn, employeeType="staff")
    directory = make_directory(
        subtree, user_filter="(&(objectClass=inetOrgPerson)(!(employeeType=former)))")

    result = sync_directory(directory)

    assert set(profiles(directory)) == {"staff"}
    assert (result.created, result.failed) == (1, 0)


def test_renamed_entry_keeps_its_profile_with_the_new_dn(
        subtree, make_directory, sync_directory, profiles):
    """After a rename (modrdn) the person keeps the same profile, now under the new DN."""
    old_dn = subtree.add_person("alice", rdn="cn=Alice Old", cn="Alice Old")
    subtree.add_person("bob")
    directory = make_directory(subtree)
    sync_directory(directory)
    before = profiles(directory)["alice"]
    new_dn = subtree.rename(old_dn, "cn=Alice New")

    result = sync_directory(directory)

    after = profiles(directory)["alice"]
    assert after.pk == before.pk
    assert parsed(after.dn) == parsed(new_dn)
    assert after.active
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert Profile.objects.filter(directory=directory).count() == 2


def test_renamed_user_name_keeps_the_profile(subtree, make_directory, sync_directory, profiles):
    """Renaming uid=alice to uid=asmith changes the user name shown, not whose profile it is."""
    old_dn = subtree.add_person("alice", title="Engineer")
    directory = make_directory(subtree)
    sync_directory(directory)
    before = profiles(directory)["alice"]

    subtree.rename(old_dn, "uid=asmith")
    result = sync_directory(directory)

    (after,) = profiles(directory).values()
    assert (after.pk, after.username, after.active) == (before.pk, "asmith", True)
    assert after.values["title"] == "Engineer"
    assert (result.created, result.updated, result.deactivated) == (0, 1, 0)


def test_entry_moved_to_another_branch_keeps_its_profile(
        subtree, make_directory, sync_directory, profiles):
    """Moving a person to a sub-branch of the user DN changes the DN, not the profile."""
    dn = subtree.add_person("alice")
    sales_dn = subtree.add(f"ou=sales,{subtree.people_dn}",
                           {"objectClass": "organizationalUnit", "ou": "sales"})
    directory = make_directory(subtree)
    sync_directory(directory)
    before = profiles(directory)["alice"]

    new_dn = subtree.rename(dn, "uid=alice", new_superior_dn=sales_dn)
    sync_directory(directory)

    after = profiles(directory)["alice"]
    assert (after.pk, parsed(after.dn)) == (before.pk, parsed(new_dn))


def test_deleted_entry_deactivates_the_profile_without_deleting_it(
        subtree, make_directory, sync_directory, profiles):
    """A person deleted from the directory shows as inactive; their profile is kept."""
    dns = subtree.add_people(6)
    directory = make_directory(subtree)
    sync_directory(directory)
    subtree.delete(dns[0])

    result = sync_directory(directory)

    stored = profiles(directory)
    assert result.deactivated == 1
    assert len(stored) == 6
    assert not stored["user000"].active
    assert stored["user000"].deactivated_at is not None
    assert all(p.active for name, p in stored.items() if name != "user000")


def test_person_who_comes_back_is_reactivated(subtree, make_directory, sync_directory, profiles):
    """Someone who left the user DN and came back is active again, in the same profile."""
    dn = subtree.add_person("alice")
    subtree.add_people(5)
    leavers_dn = subtree.add_ou("leavers")
    directory = make_directory(subtree)
    sync_directory(directory)
    original = profiles(directory)["alice"]

    away_dn = subtree.rename(dn, "uid=alice", new_superior_dn=leavers_dn)
    left = sync_directory(directory)
    assert left.deactivated == 1 and not profiles(directory)["alice"].active
    subtree.rename(away_dn, "uid=alice", new_superior_dn=subtree.people_dn)
    back = sync_directory(directory)

    returned = profiles(directory)["alice"]
    assert returned.pk == original.pk
    assert returned.active
    assert returned.deactivated_at is None
    assert (back.updated, back.deactivated) == (1, 0)


def test_second_sync_with_nothing_changed_writes_nothing(
        subtree, make_directory, sync_directory, profiles):
    """Re-running a sync on an unchanged directory reports everyone unchanged and touches no row."""
    subtree.add_people(5)
    subtree.add_person("pic", jpegPhoto=make_photo(3))
    directory = make_directory(subtree)
    sync_directory(directory)
    stamps = {name: p.updated_at for name, p in profiles(directory).items()}

    result = sync_directory(directory)

    assert (result.created, result.updated, result.unchanged, result.deactivated,
            result.failed) == (0, 0, 6, 0, 0)
    assert {name: p.updated_at for name, p in profiles(directory).items()} == stamps


def test_changed_attribute_is_updated_and_exported(
        subtree, make_directory, sync_directory, profiles):
    """A title changed in the directory shows in the profile and in the export after the next sync."""
    dn = subtree.add_person("alice", title="Engineer")
    subtree.add_people(3)
    directory = make_directory(subtree)
    sync_directory(directory)
    subtree.modify(dn, title="Team Lead")

    result = sync_directory(directory)

    assert (result.updated, result.unchanged) == (1, 3)
    assert profiles(directory)["alice"].values["title"] == "Team Lead"
    out = StringIO()
    call_command("profiles", "export", stdout=out)
    assert '"title": "Team Lead"' in out.getvalue()


def test_new_field_is_filled_on_the_next_full_sync(
        subtree, make_directory, sync_directory, profiles):
    """A field added after the first import gets its values on the next sync, with no extra step."""
    subtree.add_person("alice", employeeNumber="E-100")
    subtree.add_person("bob")
    directory = make_directory(subtree)
    sync_directory(directory)
    create_field("employee_number", {"label": "Employee number", "type": "text",
                                     "ldap_attribute": "employeeNumber"})

    result = sync_directory(directory)

    assert profiles(directory)["alice"].values["employee_number"] == "E-100"
    assert "employee_number" not in profiles(directory)["bob"].values
    assert (result.updated, result.unchanged) == (1, 1)


def test_per_directory_attribute_override_is_used(
        subtree, make_directory, sync_directory, profiles):
    """With `field set department --directory`, that directory's department comes from its own attribute."""
    subtree.add_person("alice", departmentNumber="4711", ou="Research")
    own = make_directory(subtree, name="hq")
    other = make_directory(subtree, name="branch")
    call_command("field", "set", "department", "--directory", "hq", "--ldap-attribute", "ou",
                 stdout=StringIO())

    sync_directory(own)
    sync_directory(other)

    assert profiles(own)["alice"].values["department"] == "Research"
    assert profiles(other)["alice"].values["department"] == "4711"


def test_entry_without_the_unique_id_is_reported_with_its_dn(
        subtree, make_directory, sync_directory, profiles):
    """A person lacking the unique ID attribute is counted as failed, named by DN; the rest import."""
    subtree.add_person("alice", employeeNumber="1")
    bad_dn = subtree.add_person("bob")
    directory = make_directory(subtree, unique_id_attribute="employeeNumber")

    result = sync_directory(directory)

    assert result.status == RunStatus.SUCCEEDED
    assert (result.created, result.failed) == (1, 1)
    assert set(profiles(directory)) == {"alice"}
    assert [e["dn"] for e in result.errors] == [bad_dn]
    assert "employeeNumber" in result.errors[0]["message"]


def test_every_run_is_recorded(subtree, make_directory):
    """Each run leaves a report: start, end, mode, status and per-directory counts and filter."""
    subtree.add_people(2)
    directory = make_directory(subtree)

    report = run_sync([directory])

    run = SyncRun.objects.get(pk=report.run.pk)
    assert run.mode == "full" and run.status == RunStatus.SUCCEEDED
    assert run.finished_at is not None and run.finished_at >= run.started_at
    (result,) = run.results.all()
    assert (result.directory_name, result.created, result.status) == ("corp", 2, "succeeded")
    assert result.search_base == subtree.people_dn
    assert result.filter_sent == "(objectClass=inetOrgPerson)"


def test_people_on_every_page_are_seen(subtree, make_directory, sync_directory, profiles):
    """With pages of 2, a directory of 7 imports everyone and a re-run deactivates only the deleted one."""
    dns = subtree.add_people(7)
    directory = make_directory(subtree, page_size=2)
    first = sync_directory(directory)
    subtree.delete(dns[3])

    second = sync_directory(directory)

    assert first.created == 7
    assert (second.unchanged, second.deactivated) == (6, 1)
    assert [name for name, p in sorted(profiles(directory).items()) if not p.active] == ["user003"]


@pytest.mark.parametrize("already_imported", [False, True], ids=["first import", "re-sync"])
def test_two_entries_with_one_unique_id_on_different_pages(
        subtree, make_directory, sync_directory, profiles, already_imported):
    """A second entry claiming a unique ID another page already claimed is reported, not merged."""
    for i in range(5):
        subtree.add_person(f"user{i}", employeeNumber=str(i))
    directory = make_directory(subtree, unique_id_attribute="employeeNumber", page_size=2)
    if already_imported:
        sync_directory(directory)
    subtree.add_person("twin", employeeNumber="0")
    subtree.add_person("newcomer", employeeNumber="9")
    subtree.add_person("newtwin", employeeNumber="9")

    result = sync_directory(directory)

    assert result.status == RunStatus.SUCCEEDED
    assert result.failed == 2
    assert sorted(e["message"] for e in result.errors) == [
        "unique ID 0 was already seen in this run", "unique ID 9 was already seen in this run"]
    stored = profiles(directory)
    assert len(stored) == 6 and all(p.active for p in stored.values())


def test_profiles_created_in_this_run_are_never_swept(subtree, make_directory, sync_directory):
    """People added since the last run are created and stay active while the missing one goes."""
    dns = subtree.add_people(6)
    directory = make_directory(subtree, page_size=2)
    sync_directory(directory)
    subtree.delete(dns[0])
    subtree.add_people(3, prefix="new")

    result = sync_directory(directory)

    assert (result.created, result.unchanged, result.deactivated) == (3, 5, 1)
    assert Profile.objects.filter(directory=directory, active=True).count() == 8
