"""The profile editor: fields created, changed, reordered and deleted through the pages."""

from __future__ import annotations

import re

import pytest

from profilesync.accounts.roles import Role, set_role
from profilesync.profiles.models import FieldAttributeOverride, Profile, ProfileField

pytestmark = pytest.mark.django_db


def signed_in(client, django_user_model, role: Role):
    user = django_user_model.objects.create_user(f"{role.value}-1", password="pw-3-ok")
    set_role(user, role)
    client.force_login(user)
    return client


@pytest.fixture
def admin(client, django_user_model, fresh_install):
    return signed_in(client, django_user_model, Role.ADMINISTRATOR)


@pytest.fixture
def system_admin(client, django_user_model, fresh_install):
    return signed_in(client, django_user_model, Role.SYSTEM_ADMINISTRATOR)


def form(**values) -> dict:
    data = {"key": "office_phone", "label": "Office phone", "type": "phone",
            "shown_in_profile": "on", "ldap_attribute": "telephoneNumber"}
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


def test_system_administrator_creates_a_field_and_sees_it_last_in_the_list(system_admin):
    response = system_admin.post("/admin/fields/add", form(), follow=True)

    field = ProfileField.objects.get(key="office_phone")
    assert (field.label, field.type, field.ldap_attribute) == ("Office phone", "phone",
                                                               "telephoneNumber")
    assert field.shown_in_profile and not field.searchable
    assert list(ProfileField.objects.all())[-1] == field
    assert "Field Office phone (office_phone) added." in response.content.decode()
    assert "office_phone" in response.content.decode()


@pytest.mark.parametrize(("values", "field_name", "message"), [
    ({"key": "Office Phone"}, "key", "must start with a letter"),
    ({"key": "title"}, "key", "a field 'title' exists"),
    ({"label": ""}, "label", "required"),
    ({"ldap_attribute": "telephone number"}, "ldap_attribute", "is not an LDAP attribute name"),
    ({"type": "select", "options": "Sales, Sales"}, "options", "lists the same option twice"),
    ({"type": "colour"}, "type", "Select a valid choice"),
])
def test_invalid_settings_are_refused_at_their_field(system_admin, values, field_name, message):
    """Each bad value is named next to its field with the CLI's message; nothing is saved."""
    before = ProfileField.objects.count()

    response = system_admin.post("/admin/fields/add", form(**values))

    assert response.status_code == 200
    assert any(message in error for error in errors_of(response, field_name)), \
        response.context["form"].errors
    assert ProfileField.objects.count() == before


def test_every_bad_attribute_is_named_at_once(system_admin, subtree, make_directory):
    """A bad field attribute and a bad per-directory attribute both show, in one answer."""
    directory = make_directory(subtree)

    response = system_admin.post("/admin/fields/add", form(
        ldap_attribute="tele phone", **{f"attribute_{directory.pk}": "9lives"}))

    assert errors_of(response, "ldap_attribute")
    assert errors_of(response, f"attribute_{directory.pk}")


def test_same_refusal_as_the_command_line(admin, cli):
    """The page and `profilesync field add` refuse a bad key with the same words."""
    page = admin.post("/admin/fields/add", form(key="9lives"))
    code, _out, err = cli("field", "add", "9lives", "--label", "Lives")

    assert code != 0
    (message,) = errors_of(page, "key")
    assert message in err


def test_editing_a_field_keeps_its_key_and_sets_a_directory_override(system_admin, subtree,
                                                                     make_directory):
    directory = make_directory(subtree)
    field = ProfileField.objects.get(key="title")

    system_admin.post(f"/admin/fields/{field.pk}/", form(
        key="renamed", label="Role", type="text", category="Work", ldap_attribute="title",
        **{f"attribute_{directory.pk}": "businessCategory"}))

    field.refresh_from_db()
    assert (field.key, field.label, field.category) == ("title", "Role", "Work")
    assert FieldAttributeOverride.objects.get(field=field, directory=directory).ldap_attribute \
        == "businessCategory"


def test_emptying_a_directory_override_returns_to_the_field_attribute(system_admin, subtree,
                                                                      make_directory):
    directory = make_directory(subtree)
    field = ProfileField.objects.get(key="title")
    FieldAttributeOverride.objects.create(field=field, directory=directory,
                                          ldap_attribute="businessCategory")
    page = system_admin.get(f"/admin/fields/{field.pk}/")
    data = {k: v for k, v in page.context["form"].initial.items() if v not in (False, None)}
    data[f"attribute_{directory.pk}"] = ""

    system_admin.post(f"/admin/fields/{field.pk}/", data)

    assert not FieldAttributeOverride.objects.filter(field=field, directory=directory).exists()


def test_saving_unchanged_keeps_an_unmapped_directory(admin, subtree, make_directory):
    """An override that stops a directory feeding the field survives a save of the page."""
    directory = make_directory(subtree)
    field = ProfileField.objects.get(key="title")
    FieldAttributeOverride.objects.create(field=field, directory=directory, ldap_attribute="")
    page = admin.get(f"/admin/fields/{field.pk}/")
    data = {k: v for k, v in page.context["form"].initial.items() if v not in (False, None)}

    admin.post(f"/admin/fields/{field.pk}/", data)

    assert FieldAttributeOverride.objects.get(field=field, directory=directory).ldap_attribute == ""
    assert "not read from this directory" in page.content.decode()


def test_write_back_is_offered_with_the_global_switch_state(system_admin):
    """The page names the option as the seed does and says write-back is not enabled globally."""
    page = system_admin.get("/admin/fields/add").content.decode()

    assert "Write data entered by the user into the corresponding LDAP attribute" in page
    assert "not enabled" in page


def test_system_administrator_turns_write_back_on(system_admin):
    system_admin.post("/admin/fields/add", form(write_back="on"))

    assert ProfileField.objects.get(key="office_phone").write_back


def test_write_back_is_refused_for_a_date_field_at_the_option(system_admin):
    response = system_admin.post("/admin/fields/add", form(type="date", write_back="on"))

    assert any("cannot be written back" in e for e in errors_of(response, "write_back"))
    assert not ProfileField.objects.filter(key="office_phone").exists()


def test_administrator_sees_write_back_read_only_and_cannot_post_it_off(admin):
    """For an Administrator the option is a disabled checkbox, and a hand-made POST without
    it (which would mean "off") leaves a System Administrator's choice as it was."""
    field = ProfileField.objects.get(key="phone")
    field.write_back = True
    field.save()

    page = admin.get(f"/admin/fields/{field.pk}/").content.decode()
    admin.post(f"/admin/fields/{field.pk}/", form(key=None, label="Phone"))

    (checkbox,) = re.findall(r"<input[^>]*name=\"write_back\"[^>]*>", page)
    assert "disabled" in checkbox and "checked" in checkbox
    assert "Only a System Administrator can change this setting." in page
    field.refresh_from_db()
    assert field.write_back and field.label == "Phone"


def test_administrator_post_cannot_turn_write_back_on(admin):
    admin.post("/admin/fields/add", form(write_back="on"))

    assert not ProfileField.objects.get(key="office_phone").write_back


def test_moving_a_field_up_and_down_changes_the_order(admin):
    keys = lambda: list(ProfileField.objects.values_list("key", flat=True))  # noqa: E731
    first, second = keys()[:2]
    field = ProfileField.objects.get(key=second)

    admin.post(f"/admin/fields/{field.pk}/move", {"direction": "up"})
    moved_up = keys()
    admin.post(f"/admin/fields/{field.pk}/move", {"direction": "up"})  # already first
    admin.post(f"/admin/fields/{field.pk}/move", {"direction": "down"})

    assert moved_up[:2] == [second, first]
    assert keys()[:2] == [first, second]


def test_moving_with_htmx_returns_only_the_table(admin):
    field = ProfileField.objects.order_by("position")[1]

    response = admin.post(f"/admin/fields/{field.pk}/move", {"direction": "up"},
                          HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div class="table-scroll" id="field-table">')
    assert "<html" not in page


def test_deleting_asks_first_then_deletes(admin, subtree, make_directory, sync_directory):
    subtree.add_people(2)
    sync_directory(make_directory(subtree))
    field = ProfileField.objects.get(key="title")

    question = admin.get(f"/admin/fields/{field.pk}/delete").content.decode()
    still_there = ProfileField.objects.filter(key="title").exists()
    admin.post(f"/admin/fields/{field.pk}/delete")

    assert still_there
    assert "2 profiles hold a value for it" in question
    assert not ProfileField.objects.filter(key="title").exists()
    assert Profile.objects.count() == 2  # people stay


def test_list_shows_every_field_in_order_with_the_write_back_note(admin):
    page = admin.get("/admin/fields/").content.decode()

    positions = [page.index(f"<code>{key}</code>")
                 for key in ProfileField.objects.values_list("key", flat=True)]
    assert positions == sorted(positions)
    assert "not enabled" in page


def test_directories_unknown_to_the_field_are_listed_for_overrides(admin, subtree,
                                                                  make_directory):
    directory = make_directory(subtree, name="second")

    page = admin.get("/admin/fields/add").content.decode()

    assert "LDAP attribute in second" in page
    assert directory.name == "second"


def test_a_field_added_after_a_deletion_still_comes_last(admin):
    """Deleting leaves a gap in the positions; the next new field goes after every other."""
    admin.post(f"/admin/fields/{ProfileField.objects.get(key='title').pk}/delete")

    admin.post("/admin/fields/add", form())

    assert list(ProfileField.objects.values_list("key", flat=True))[-1] == "office_phone"


def test_a_field_can_be_hidden_from_users_on_other_profiles(admin):
    """"Only the person and administrators" keeps Users from seeing it on profile pages;
    the edit page shows the choice again."""
    admin.post("/admin/fields/add", form(visibility="administrators"))
    field = ProfileField.objects.get(key="office_phone")

    page = admin.get(f"/admin/fields/{field.pk}/")

    assert field.visible_to == ["system-administrator", "administrator"]
    assert page.context["form"].initial["visibility"] == "administrators"
    admin.post(f"/admin/fields/{field.pk}/", form(key=None, visibility="everyone"))
    field.refresh_from_db()
    assert field.visible_to == []


def test_an_unknown_role_is_refused_by_the_service():
    from profilesync.errors import InvalidSetting
    from profilesync.profiles.services import check_visible_to

    with pytest.raises(InvalidSetting, match="not a role"):
        check_visible_to(["manager"])
