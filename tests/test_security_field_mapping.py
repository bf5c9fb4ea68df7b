"""Finding 1: Administrators stay in their lane, and no field ever reads or writes a secret.

An Administrator manages fields' labels, order and visibility; where a field comes
from (its LDAP attribute, the per-directory attributes) and whether it writes back
are a System Administrator's. Attributes holding secrets are refused for every
field, for everyone, by the service the CLI and the pages share.
"""

from __future__ import annotations

import ldap
import ldap.modlist
import ldap.schema
import pytest
from django.test import Client

from profilesync.accounts.roles import Role, set_role
from profilesync.errors import InvalidSetting
from profilesync.ldapclient.schema_secrets import secrets_in_subschema
from profilesync.profiles.models import FieldAttributeOverride, ProfileField
from profilesync.profiles.services import update_field
from profilesync.testing.slapd import SlapdServer

pytestmark = pytest.mark.django_db


def signed_in(django_user_model, role: Role) -> tuple[Client, object]:
    user = django_user_model.objects.create_user(f"{role.value}-9", password="pw-9-ok")
    set_role(user, role)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client, user


def post_form(client: Client, url: str, data: dict):
    """A form post as a browser sends it: the page's CSRF token with it."""
    page = client.get(url)
    token = page.context["csrf_token"]
    return client.post(url, {**data, "csrfmiddlewaretoken": str(token)})


def field_data(field: ProfileField, **changes) -> dict:
    data = {"label": field.label, "type": field.type, "ldap_attribute": field.ldap_attribute,
            "shown_in_profile": "on" if field.shown_in_profile else "",
            "searchable": "on" if field.searchable else "", "visibility": "everyone"}
    data.update(changes)
    return {k: v for k, v in data.items() if v}


def test_administrator_cannot_point_a_field_at_another_attribute(django_user_model, fresh_install,
                                                                 subtree, make_directory):
    """The pen-test's move: an Administrator's hand-made POST pointing "Job title" at
    userPassword, a field at mail, or a directory override at mail changes nothing;
    the page says who may."""
    directory = make_directory(subtree)
    client, _ = signed_in(django_user_model, Role.ADMINISTRATOR)
    title = ProfileField.objects.get(key="title")
    url = f"/admin/fields/{title.pk}/"

    page = client.get(url).content.decode()
    response = post_form(client, url, field_data(title, label="Job title",
                                                 ldap_attribute="mail",
                                                 **{f"attribute_{directory.pk}": "mail"}))

    title.refresh_from_db()
    assert response.status_code == 302  # the label change itself is the Administrator's
    assert title.label == "Job title" and title.ldap_attribute == "title"
    assert not FieldAttributeOverride.objects.filter(field=title, directory=directory).exists()
    assert "Only a System Administrator changes where a field comes from." in page


def test_administrator_adding_a_field_gets_no_attribute(django_user_model, fresh_install):
    client, _ = signed_in(django_user_model, Role.ADMINISTRATOR)

    post_form(client, "/admin/fields/add", {"key": "pin", "label": "PIN", "type": "text",
                                            "ldap_attribute": "userPassword",
                                            "shown_in_profile": "on"})

    assert ProfileField.objects.get(key="pin").ldap_attribute == ""


def test_the_service_refuses_an_administrator_too(django_user_model, fresh_install):
    """Not only the form: the service itself refuses a web login without the role."""
    _, administrator = signed_in(django_user_model, Role.ADMINISTRATOR)
    field = ProfileField.objects.get(key="title")

    with pytest.raises(InvalidSetting) as refused:
        update_field(field, {"ldap_attribute": "mail"}, actor=administrator)
    with pytest.raises(InvalidSetting):
        update_field(field, {"write_back": True}, actor=administrator)

    assert refused.value.setting == "ldap_attribute"
    assert "only a System Administrator" in refused.value.message
    field.refresh_from_db()
    assert field.ldap_attribute == "title" and not field.write_back


@pytest.mark.parametrize("attribute", [
    "userPassword", "unicodePwd", "sambaNTPassword", "sambaLMPassword", "krbPrincipalKey",
    "authPassword", "userPKCS12", "USERPASSWORD", "userPassword;binary"])
def test_system_administrator_cannot_map_a_secret_attribute(django_user_model, fresh_install,
                                                            attribute):
    client, _ = signed_in(django_user_model, Role.SYSTEM_ADMINISTRATOR)
    title = ProfileField.objects.get(key="title")

    response = post_form(client, f"/admin/fields/{title.pk}/",
                         field_data(title, ldap_attribute=attribute))

    title.refresh_from_db()
    assert title.ldap_attribute == "title"
    (message,) = response.context["form"].errors["ldap_attribute"]
    assert message.startswith(f"{attribute} cannot feed a profile field: ")
    assert "password" in message or "private key" in message or "Kerberos" in message


def test_a_secret_override_is_refused_at_its_field(django_user_model, fresh_install, subtree,
                                                   make_directory):
    directory = make_directory(subtree)
    client, _ = signed_in(django_user_model, Role.SYSTEM_ADMINISTRATOR)
    title = ProfileField.objects.get(key="title")

    response = post_form(client, f"/admin/fields/{title.pk}/",
                         field_data(title, **{f"attribute_{directory.pk}": "unicodePwd"}))

    assert "unicodePwd cannot feed a profile field" in \
        response.context["form"].errors[f"attribute_{directory.pk}"][0]
    assert not FieldAttributeOverride.objects.filter(field=title, directory=directory).exists()


@pytest.mark.django_db(transaction=True)
def test_the_command_line_refuses_a_secret_attribute(cli, fresh_install):
    code, _out, err = cli("field", "set", "title", "--ldap-attribute", "userPassword")

    assert code == 2
    assert "--ldap-attribute: userPassword cannot feed a profile field: it holds" in err
    assert ProfileField.objects.get(key="title").ldap_attribute == "title"


# -- secrets the directory's own schema marks ------------------------------------------

SECRET_SCHEMA = (
    "( 1.3.6.1.4.1.99999.1.1 NAME 'examplePinHash' DESC 'a PIN, hashed' SUP userPassword )",
    "( 1.3.6.1.4.1.99999.1.2 NAME 'exampleOldPinHash' SUP examplePinHash )",
    "( 1.3.6.1.4.1.99999.1.3 NAME 'exampleNickname' SUP name )",
)


@pytest.fixture
def schema_server(tmp_path):
    """A private slapd whose schema adds a userPassword subtype, a subtype of that, and a
    harmless attribute (added to cn=config while it runs)."""
    server = SlapdServer(run_dir=tmp_path / "schema-slapd")
    with server:
        conn = server.connect()
        conn.add_s("cn=example-secrets,cn=schema,cn=config", ldap.modlist.addModlist({
            "objectClass": [b"olcSchemaConfig"], "cn": [b"example-secrets"],
            "olcAttributeTypes": [rule.encode() for rule in SECRET_SCHEMA]}))
        conn.unbind_s()
        yield server


@pytest.mark.parametrize(("attribute", "why"), [
    ("examplePinHash", "derives it from userPassword"),
    ("exampleOldPinHash", "derives it from userPassword"),
])
def test_an_attribute_the_schema_marks_as_secret_is_refused(django_user_model, make_directory,
                                                           schema_server, attribute, why):
    directory = make_directory(None, urls=[schema_server.ldap_uri],
                               bind_dn=schema_server.root_dn, bind_password=schema_server.root_pw,
                               base_dn=schema_server.suffix)
    client, _ = signed_in(django_user_model, Role.SYSTEM_ADMINISTRATOR)
    title = ProfileField.objects.get(key="title")

    refused = post_form(client, f"/admin/fields/{title.pk}/",
                        field_data(title, ldap_attribute=attribute))
    allowed = post_form(client, f"/admin/fields/{title.pk}/",
                        field_data(title, ldap_attribute="exampleNickname"))

    (message,) = refused.context["form"].errors["ldap_attribute"]
    assert message.startswith(f"{attribute} in {directory.name} cannot feed a profile field")
    assert why in message
    assert allowed.status_code == 302
    title.refresh_from_db()
    assert title.ldap_attribute == "exampleNickname"


def test_the_authpassword_syntax_marks_a_secret():
    """RFC 3112's syntax is a mark of its own (OpenLDAP ships without it, so no server here)."""
    subschema = ldap.schema.SubSchema({"attributeTypes": [
        "( 1.3.6.1.4.1.99999.1.4 NAME 'exampleAuthKey' SYNTAX 1.3.6.1.4.1.4203.1.1.2 )",
        "( 2.5.4.41 NAME 'name' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )"]},
        check_uniqueness=0)

    found = secrets_in_subschema(subschema, {"userpassword"})

    assert set(found) == {"exampleauthkey"} and "authPassword syntax" in found["exampleauthkey"]


def test_an_upgrade_unmaps_secrets_and_drops_the_hashes_it_read(fresh_install, subtree,
                                                                make_directory):
    """A database where "Job title" was already pointed at userPassword (the pen-test's
    demo): the upgrade's migration unmaps it and removes the hashes from every profile
    and from the search."""
    import importlib

    from django.apps import apps

    from profilesync.profiles.models import Profile
    from profilesync.profiles.search.query import Criteria, search_people

    directory = make_directory(subtree)
    title = ProfileField.objects.get(key="title")
    ProfileField.objects.filter(pk=title.pk).update(ldap_attribute="userPassword",
                                                    searchable=True)
    phone = ProfileField.objects.get(key="phone")
    FieldAttributeOverride.objects.create(field=phone, directory=directory,
                                          ldap_attribute="sambaNTPassword")
    profile = Profile.objects.create(directory=directory, unique_id="x-1", username="hal",
                                     display_name="Hal", values={"title": "{SSHA}c2VjcmV0",
                                                                 "phone": "8846F7EAEE8FB117",
                                                                 "mail": "hal@example.org"})
    migration = importlib.import_module(
        "profilesync.accounts.migrations.0004_unmap_secret_attributes")

    migration.unmap_secrets(apps, None)

    title.refresh_from_db()
    profile.refresh_from_db()
    assert title.ldap_attribute == ""
    assert FieldAttributeOverride.objects.get(field=phone, directory=directory).ldap_attribute == ""
    assert profile.values == {"mail": "hal@example.org"}
    assert search_people(Criteria(words=("ssha",))).people == []


def test_active_directory_confidential_attributes_are_refused(ad_directory, django_user_model):
    """Active Directory marks some attributes confidential in its schema (searchFlags 0x80),
    e.g. BitLocker recovery passwords: the DC's own schema says so, and it is refused."""
    directory = ad_directory(None)
    client, _ = signed_in(django_user_model, Role.SYSTEM_ADMINISTRATOR)
    title = ProfileField.objects.get(key="title")

    refused = post_form(client, f"/admin/fields/{title.pk}/",
                        field_data(title, ldap_attribute="msFVE-RecoveryPassword"))

    (message,) = refused.context["form"].errors["ldap_attribute"]
    assert message.startswith(f"msFVE-RecoveryPassword in {directory.name} cannot feed")
    assert "Active Directory's schema marks it confidential" in message
