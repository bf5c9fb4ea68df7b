"""Reporting lines, the org chart, business cards, vCards and the API, through the web
(Client with CSRF checks) against profiles synced from a real slapd."""

from __future__ import annotations

import pytest
import vobject
from django.contrib.auth import get_user_model
from django.test import Client

from profilesync.accounts.roles import Role
from profilesync.demo.people import make_photo
from profilesync.profiles.models import Profile, ProfileField

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(subtree, make_directory, sync_directory):
    """ceo <- (cto <- dev1, dev2), (cfo); a loop a <-> b; a manager not in profilesync."""
    people = subtree.people_dn
    subtree.add_person("ceo", displayName="Cleo Chief", title="CEO", jpegPhoto=make_photo(1),
                       telephoneNumber="+1 555 0100", mail="ceo@example.org",
                       departmentNumber="Board")
    subtree.add_person("cto", displayName="Theo Tech", title="CTO", manager=f"uid=ceo,{people}")
    subtree.add_person("cfo", displayName="Fay Finance", title="CFO", manager=f"uid=ceo,{people}",
                       telephoneNumber="+1 555 0199")
    for n in (1, 2):
        subtree.add_person(f"dev{n}", displayName=f"Dev {n}", title="Engineer",
                           manager=f"uid=cto,{people}")
    subtree.add_person("loopa", displayName="Loop A", manager=f"uid=loopb,{people}")
    subtree.add_person("loopb", displayName="Loop B", manager=f"uid=loopa,{people}")
    subtree.add_person("lone", displayName="Lone Wolf", manager=f"uid=ghost,{people}")
    directory = make_directory(subtree)
    sync_directory(directory)
    return {p.username: p for p in Profile.objects.filter(directory=directory)}


@pytest.fixture
def client_of():
    def make(username: str = "reader", role: Role | None = None) -> Client:
        user = get_user_model().objects.create_user(username, password="pw-for-tests-1")
        if role is not None:
            from profilesync.accounts.roles import set_role
            set_role(user, role)
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        return client
    return make


def text(response) -> str:
    return response.content.decode()


def test_profile_page_shows_chain_and_reports(org, client_of):
    client = client_of()
    whole = text(client.get(f"/people/{org['dev1'].pk}/"))
    # The Manager field links to the manager; the reporting lines show the chain, top first.
    assert f'href="/people/{org["cto"].pk}/"' in whole.split("Reporting lines")[0]
    page = whole.split("Reporting lines")[1]
    assert page.index("Cleo Chief") < page.index("Theo Tech") < page.index("<strong>Dev 1</strong>")
    cto = text(client.get(f"/people/{org['cto'].pk}/"))
    assert "Direct reports" in cto and "Dev 1" in cto and "Dev 2" in cto
    ceo = text(client.get(f"/people/{org['ceo'].pk}/"))
    assert "leads 2" in ceo  # the CTO leads two people


def test_profile_page_shows_loops_and_outside_managers(org, client_of):
    client = client_of()
    loop = text(client.get(f"/people/{org['loopa'].pk}/"))
    assert "Loop</span> back to" in loop and "Loop A" in loop
    lone = text(client.get(f"/people/{org['lone'].pk}/"))
    assert "uid=ghost," in lone and "not in profilesync" in lone


def test_reporting_lines_hidden_when_manager_field_is_restricted(org, client_of):
    ProfileField.objects.filter(key="manager").update(visible_to=[Role.ADMINISTRATOR.value])
    client = client_of()
    assert "Reporting lines" not in text(client.get(f"/people/{org['dev1'].pk}/"))
    assert client.get(f"/org/{org['dev1'].pk}/").status_code == 404
    api = client.get(f"/api/v1/people/{org['dev1'].pk}").json()
    assert api["manager"] is None and api["reports"] == []
    admin = client_of("boss", Role.ADMINISTRATOR)
    assert "Reporting lines" in text(admin.get(f"/people/{org['dev1'].pk}/"))


def test_org_chart_top_and_one_level_at_a_time(org, client_of):
    client = client_of()
    top = text(client.get("/org/"))
    assert "Cleo Chief" in top and "Lone Wolf" in top
    assert "Theo Tech" not in top  # one level: only the people at the top
    assert "Loop A" not in top  # a loop has no top
    level = text(client.get(f"/org/{org['ceo'].pk}/reports?level=2"))
    assert "Theo Tech" in level and "Fay Finance" in level and "Dev 1" not in level
    assert "leads 2" in level
    centred = text(client.get(f"/org/{org['cto'].pk}/"))
    assert "Cleo Chief" in centred and "Dev 1" in centred and "Dev 2" in centred


def test_org_search_jumps_to_a_person(org, client_of):
    client = client_of()
    response = client.get("/org/", {"q": "fay"})
    assert response.status_code == 302 and response["Location"] == f"/org/{org['cfo'].pk}/"
    many = text(client.get("/org/", {"q": "dev"}, headers={"HX-Request": "true"}))
    assert "Dev 1" in many and "Dev 2" in many
    assert "No one matches" in text(client.get("/org/", {"q": "zzzz"}))


def test_org_pages_need_a_login(org):
    assert Client().get("/org/").status_code == 302
    assert Client().get(f"/people/{org['ceo'].pk}/card").status_code == 302
    assert Client().get(f"/people/{org['ceo'].pk}/vcard").status_code == 302


def test_api_person_has_manager_and_reports(org, client_of):
    client = client_of()
    cto = client.get(f"/api/v1/people/{org['cto'].pk}").json()
    assert cto["manager"] == {"id": org["ceo"].pk, "name": "Cleo Chief", "title": "CEO"}
    assert sorted(r["name"] for r in cto["reports"]) == ["Dev 1", "Dev 2"]
    assert client.get(f"/api/v1/people/{org['lone'].pk}").json()["manager"] is None


def test_business_card_shows_what_the_viewer_may_see(org, client_of):
    ProfileField.objects.filter(key="phone").update(visible_to=[Role.ADMINISTRATOR.value])
    card = text(client_of().get(f"/people/{org['cfo'].pk}/card"))
    assert "Fay Finance" in card and "CFO" in card and "Cleo Chief" in card
    assert "0199" not in card
    admin_card = text(client_of("admin2", Role.ADMINISTRATOR).get(f"/people/{org['cfo'].pk}/card"))
    assert "+1 555 0199" in admin_card


def test_vcard_parses_and_holds_only_visible_fields(org, client_of):
    ProfileField.objects.filter(key="mail").update(visible_to=[Role.ADMINISTRATOR.value])
    response = client_of().get(f"/people/{org['ceo'].pk}/vcard")
    assert response["Content-Type"].startswith("text/vcard")
    assert 'filename="ceo.vcf"' in response["Content-Disposition"]
    card = vobject.readOne(text(response))
    assert card.version.value == "4.0"
    assert card.fn.value == "Cleo Chief"
    assert card.title.value == "CEO"
    assert card.tel.value == "+1 555 0100"
    assert card.photo.value.startswith("data:image/jpeg;base64,")
    assert "email" not in card.contents  # hidden from this viewer
    cto = vobject.readOne(text(client_of("x2").get(f"/people/{org['cto'].pk}/vcard")))
    assert cto.contents["x-ms-manager"][0].value == "Cleo Chief"


def test_search_as_vcf_gives_every_match(org, client_of):
    """Every person of the search, each card with only what the viewer may see."""
    ProfileField.objects.filter(key="title").update(visible_to=[Role.ADMINISTRATOR.value])
    response = client_of().get("/", {"q": "dev", "format": "vcf"})
    cards = list(vobject.readComponents(text(response)))
    assert sorted(c.fn.value for c in cards) == ["Dev 1", "Dev 2"]
    assert all("title" not in c.contents for c in cards)
    assert all(c.contents["x-ms-manager"][0].value == "Theo Tech" for c in cards)
    admin = client_of("admin3", Role.ADMINISTRATOR).get("/", {"q": "dev", "format": "vcf"})
    assert {c.title.value for c in vobject.readComponents(text(admin))} == {"Engineer"}
