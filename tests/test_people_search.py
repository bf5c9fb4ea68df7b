"""The people directory's search, through Django's test client.

People come from a real sync of a slapd subtree where a test is about what a
user sees of their directory; where it needs hundreds of people (paging,
counts), they are written through the sync's own bulk writer.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection

from profilesync.accounts.roles import Role, set_role
from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.search import index, query
from profilesync.profiles.search.query import COUNT_LIMIT, Criteria, search_people
from profilesync.profiles.services import create_field, update_field
from profilesync.sync.runner import run_sync
from profilesync.sync.writer import ProfileRow, insert_rows

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _fresh_filter_choices():
    """Filter choices are cached for minutes; each test starts without another's."""
    cache.clear()


@pytest.fixture
def corp(subtree, make_directory):
    """Six people of one directory, synced, with a field they fill in themselves."""
    people = [
        ("anna", "Anna Archer", "Senior Engineer", "Research", "+49 30 1111"),
        ("annika", "Annika Berg", "Designer", "Research", "+49 30 2222"),
        ("soren", "Søren Øby", "Accountant", "Finance", "+49 30 3333"),
        ("olafur", "Ólafur Dubois", "Engineer", "Sales", "+49 30 4444"),
        ("ben", "Ben Annan", "Recruiter", "People", "+49 30 5555"),
        ("zoe", "Zoë Kim", "Analyst", "Finance", "+49 30 6666"),
    ]
    for uid, name, title, department, phone in people:
        subtree.add_person(uid, displayName=name, title=title, departmentNumber=department,
                           telephoneNumber=phone, mail=f"{uid}@example.org")
    directory = make_directory(subtree)
    create_field("hobbies", {"label": "Hobbies", "searchable": True})
    run_sync([directory], mode="full")
    return directory


@pytest.fixture
def viewer(corp, client, django_user_model):
    """A logged-in user (a plain User) looking at the directory."""
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    client.force_login(user)
    return user


def names(response) -> list[str]:
    """The names listed in a results page, in order."""
    html = response.content.decode()
    return re.findall(r'<li><a href="/people/\d+/">.*?<strong>(.*?)</strong>', html, re.S) or \
        re.findall(r'<a class="person" href="/people/\d+/">.*?<span>(.*?)</span></a>', html, re.S)


def search(client, **params) -> list[str]:
    return names(client.get("/", params))


# -- what is searched ----------------------------------------------------------

def test_a_name_prefix_finds_people_whose_first_or_last_name_starts_with_it(client, viewer):
    """"ann" finds Anna, Annika and Ben Annan, not Zoë; case does not matter."""
    assert search(client, q="ANN") == ["Anna Archer", "Annika Berg", "Ben Annan"]


def test_accents_are_ignored_both_ways(client, viewer):
    """People type "soren" for Søren and "olafur" for Ólafur; "Ø" typed finds them too."""
    assert search(client, q="soren") == ["Søren Øby"]
    assert search(client, q="olaf dub") == ["Ólafur Dubois"]
    assert search(client, q="øby") == ["Søren Øby"]


def test_a_word_of_a_searchable_field_finds_people(client, viewer):
    """The job title is searchable: "engineer" finds both engineers, "eng" too, in name order
    (Ólafur sorts with the O's, not after Zoë)."""
    assert search(client, q="engineer") == ["Anna Archer", "Ólafur Dubois"]
    assert search(client, q="senior eng") == ["Anna Archer"]


def test_every_word_typed_must_match(client, viewer):
    assert search(client, q="ann research") == ["Anna Archer", "Annika Berg"]
    assert search(client, q="ann finance") == []


def test_fields_not_marked_searchable_are_not_matched(client, viewer):
    """The phone number is not searchable, so its digits find no one."""
    assert search(client, q="4444") == []


def test_a_field_made_unsearchable_stops_matching_at_once(client, viewer):
    """An administrator turns "searchable" off for the job title; the next search no longer
    looks at titles (every profile's search text is rebuilt with the change)."""
    update_field(ProfileField.objects.get(key="title"), {"searchable": False})

    assert search(client, q="engineer") == []
    assert search(client, q="archer") == ["Anna Archer"]


def test_a_field_people_fill_in_themselves_is_searched_when_searchable(client, viewer):
    """Alice's own "hobbies" value (not fed by LDAP) is found after she saves it."""
    anna = Profile.objects.get(username="anna")
    anna.local_values = {"hobbies": "Bouldering, chess"}
    anna.save(update_fields=["local_values", "updated_at"])

    assert search(client, q="boulder") == ["Anna Archer"]


def test_a_searchable_field_restricted_to_some_roles_is_not_searched(client, viewer):
    """A search would reveal a restricted field's values to everyone, so it is left out."""
    hobbies = ProfileField.objects.get(key="hobbies")
    anna = Profile.objects.get(username="anna")
    anna.local_values = {"hobbies": "Bouldering"}
    anna.save(update_fields=["local_values", "updated_at"])
    update_field(hobbies, {"visible_to": [Role.ADMINISTRATOR.value]})

    assert search(client, q="boulder") == []


def test_a_sync_that_changes_a_title_changes_what_is_found(client, viewer, corp, subtree):
    subtree.modify(f"uid=zoe,{subtree.people_dn}", title="Staff Engineer")
    run_sync([corp], mode="full")

    assert search(client, q="engineer") == ["Anna Archer", "Ólafur Dubois", "Zoë Kim"]


# -- filters ---------------------------------------------------------------------

def test_department_filter_offers_the_stored_departments_and_narrows_the_list(client, viewer):
    """The default department field is a select without options: the filter offers the
    departments people have, and combines with the words typed."""
    page = client.get("/").content.decode()
    offered = re.search(r'<select id="filter-department".*?</select>', page, re.S).group(0)

    assert re.findall(r"<option(?: selected)?>(.*?)</option>", offered) == [
        "Finance", "People", "Research", "Sales"]
    assert search(client, **{"f-department": "Finance"}) == ["Søren Øby", "Zoë Kim"]
    assert search(client, **{"f-department": "Research", "q": "annika"}) == ["Annika Berg"]


def test_a_select_field_with_options_offers_its_options(client, viewer):
    create_field("team", {"label": "Team", "type": "select", "options": "Red,Blue"})
    anna = Profile.objects.get(username="anna")
    anna.local_values = {"team": "Blue"}
    anna.save(update_fields=["local_values", "updated_at"])

    page = client.get("/").content.decode()

    assert '<option>Red</option>' in page and '<option>Blue</option>' in page
    assert search(client, **{"f-team": "Blue"}) == ["Anna Archer"]


def test_the_default_department_field_becomes_a_select_unless_an_administrator_changed_it(db):
    from django.apps import apps

    from profilesync.profiles.migrations import __name__ as migrations_package
    migration = __import__(f"{migrations_package}.0005_people_search", fromlist=["x"])
    field = ProfileField.objects.get(key="department")
    field.type, field.options = "text", []
    field.save()
    migration.department_as_select(apps, None)
    assert ProfileField.objects.get(key="department").type == "select"

    ProfileField.objects.filter(key="department").update(type="text", options=["A", "B"])
    migration.department_as_select(apps, None)
    assert ProfileField.objects.get(key="department").type == "text"


# -- deactivated people -----------------------------------------------------------

def test_deactivated_people_are_hidden_and_users_cannot_ask_for_them(client, viewer, corp):
    Profile.objects.filter(username="zoe").update(active=False)

    assert "Zoë Kim" not in search(client, q="kim")
    assert "Zoë Kim" not in search(client, q="kim", inactive="1")
    assert "Zoë Kim" not in search(client, inactive="1")
    assert "Show deactivated people" not in client.get("/").content.decode()


def test_administrators_see_deactivated_people_when_they_ask(client, viewer, corp):
    Profile.objects.filter(username="zoe").update(active=False)
    set_role(viewer, Role.ADMINISTRATOR)

    page = client.get("/", {"q": "kim", "inactive": "1"}).content.decode()

    assert "Show deactivated people" in client.get("/").content.decode()
    assert search(client, q="kim") == []
    assert "Zoë Kim" in page and "Deactivated" in page
    assert "Zoë Kim" in search(client, inactive="1", view="table")


# -- login, htmx, views ---------------------------------------------------------------

def test_the_directory_needs_a_login(client, corp):
    response = client.get("/", {"q": "anna"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_an_htmx_request_after_the_session_ended_sends_the_whole_page_to_the_login(client, corp):
    """Not the login form inside the results box."""
    response = client.get("/", {"q": "anna"}, **HTMX)

    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/?next=/")


def test_htmx_gets_only_the_results_and_the_count_to_update(client, viewer):
    response = client.get("/", {"q": "ann"}, **HTMX)
    html = response.content.decode()

    assert "<form" not in html and 'id="people-results"' in html
    assert re.search(r'id="people-count" hx-swap-oob="innerHTML">\s*3 people', html)
    assert "HX-Request" in response["Vary"]
    assert response["HX-Push-Url"] == "/?q=ann"  # not the form's empty fields


def test_the_table_view_is_kept_in_the_links(client, viewer):
    html = client.get("/", {"q": "ann", "view": "table"}).content.decode()

    assert '<table class="stack people-table">' in html
    assert '<input type="hidden" name="view" value="table" form="people-search">' in html
    assert 'href="/?q=ann"' in html  # back to tiles (the default view has no parameter)
    assert "<th scope=\"col\">Job title</th>" in html and "anna@example.org" in html


def test_each_profile_links_to_its_page_and_its_picture_when_it_has_one(client, viewer):
    anna = Profile.objects.get(username="anna")
    Profile.objects.filter(pk=anna.pk).update(local_picture="pictures/anna.jpg")

    html = client.get("/", {"q": "anna"}).content.decode()

    assert f'href="/people/{anna.pk}/"' in html
    assert f'src="/people/{anna.pk}/picture"' in html


# -- paging and counts, with many people written by the sync's writer ---------------

@pytest.fixture
def many(make_directory):
    """Write people straight through the sync's bulk writer (no directory reads)."""
    directory = make_directory(None, name="bulk")

    def write(count: int, name: str = "Person", title: str = "Engineer", start: int = 0,
              active: bool = True) -> None:
        rows = [ProfileRow(unique_id=f"{name}-{i}", username=f"{name.lower()}{i:05d}", dn="",
                           display_name=f"{name} {i:05d}",
                           values={"display_name": f"{name} {i:05d}", "title": title,
                                   "department": "Sales" if i % 2 else "Legal"},
                           picture="", digest="", active=active, deactivated_at=None)
                for i in range(start, start + count)]
        from django.utils import timezone
        insert_rows(rows, directory.pk, timezone.now())

    return write


@pytest.fixture
def logged_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("reader", password="pw-reader-1"))
    return client


def test_pages_of_48_with_next_and_previous(logged_in, many):
    many(100)

    first = logged_in.get("/", {"q": "person"}).content.decode()
    third = logged_in.get("/", {"q": "person", "page": "3"}).content.decode()

    assert "100 people" in first and "Page 1 of 3" in first
    assert 'href="/?q=person&amp;page=2"' in first and 'rel="prev"' not in first
    assert names(logged_in.get("/", {"q": "person", "page": "2"}))[0] == "Person 00048"
    assert len(names(logged_in.get("/", {"q": "person", "page": "3"}))) == 4
    assert 'rel="next"' not in third and 'href="/?q=person&amp;page=2"' in third


def test_a_page_past_the_end_says_so(logged_in, many):
    many(3)
    html = logged_in.get("/", {"q": "person", "page": "9"}).content.decode()
    assert "There is no page 9 of these results." in html


def test_the_listing_without_a_search_counts_everyone_active(logged_in, many):
    many(5)
    many(2, name="Gone", active=False)
    html = logged_in.get("/").content.decode()
    assert "5 people" in html and "Gone" not in html


def test_a_broad_search_says_more_than_the_limit_and_still_pages_in_name_order(logged_in, many):
    many(COUNT_LIMIT + 150)
    many(30, name="Other", title="Designer")

    first = logged_in.get("/", {"q": "eng"})
    html = first.content.decode()
    last_page = (COUNT_LIMIT + 150 + 47) // 48

    assert f"More than {COUNT_LIMIT:,} people" in html and "Page 1</span>" in html
    assert names(first) == [f"Person {i:05d}" for i in range(48)]
    assert names(logged_in.get("/", {"q": "eng", "page": str(last_page)})) == [
        f"Person {i:05d}" for i in range((last_page - 1) * 48, COUNT_LIMIT + 150)]


@pytest.mark.parametrize("walk_rows", [query.walk_rows, lambda offset, limit: 60])
def test_broad_and_precise_searches_agree(many, monkeypatch, walk_rows):
    """The two ways of reading a page (sorting the matches, walking the name order) give the
    same people; on PostgreSQL also when the walk gives up early (matches late in the order)."""
    monkeypatch.setattr(query, "walk_rows", walk_rows)
    many(600, name="Alpha", title="Designer")
    many(COUNT_LIMIT + 20, name="Zulu", title="Engineer")
    criteria = Criteria(words=("zulu",), filters=(("department", "Sales"),))
    expected = [f"Zulu {i:05d}" for i in range(COUNT_LIMIT + 20) if i % 2][48:96]

    broad = search_people(Criteria(words=("z",)), page_number=2)
    precise = search_people(criteria, page_number=2)

    assert [p.display_name for p in broad.people] == [f"Zulu {i:05d}" for i in range(48, 96)]
    assert not broad.total_exact
    assert [p.display_name for p in precise.people] == expected and precise.total_exact


@pytest.mark.skipif(connection.vendor != "sqlite", reason="only SQLite's triggers can be lost")
def test_the_index_is_repaired_after_a_table_rebuild_dropped_its_triggers(many):
    """Django rebuilds a SQLite table to add most columns, dropping its triggers; the check
    after every migrate puts them back and refills the index from the table."""
    many(3)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {index.FTS_TABLE}_update")
    Profile.objects.filter(display_name="Person 00001").update(search_text="renamed person")

    assert index.ensure_installed(connection)
    assert [p.display_name for p in search_people(Criteria(words=("renamed",))).people] == [
        "Person 00001"]
    assert not index.ensure_installed(connection)
