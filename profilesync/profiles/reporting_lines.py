"""Who reports to whom, read from the resolved ``manager`` links (``profiles.person_links``).

Every answer here is a bounded number of indexed queries, whatever the size
of the organisation: the chain upwards costs one query per level (at most
:data:`MAX_CHAIN`), a person's direct reports one query, and how many people
each of them leads one more. Nothing walks a whole subtree, so an org chart
page loads one level of reports at a time.

Loops (A manages B manages A) and self-references come from directories as
they are; the chain stops at the first person seen twice and says so.

Visibility follows the ``manager`` field's own: a viewer who may not see that
field on a profile sees no reporting lines there (``lines_visible``), and
deactivated people appear only to administrators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F

from profilesync.accounts.roles import is_administrator

from .access import can_see_field
from .models import PersonLink, Profile, ProfileField

MANAGER_KEY = "manager"
MAX_CHAIN = 50  # levels shown above a person; deeper chains end with "and more"
MAX_TOP = 200  # people listed at the top of the org chart before "search instead"


@dataclass(frozen=True)
class PersonRef:
    """A person as reporting lines show them: enough for a link, a picture and a title."""

    pk: int
    name: str
    title: str
    has_picture: bool
    active: bool

    @classmethod
    def of(cls, profile: Profile, title_visible: bool = True) -> PersonRef:
        title = profile.values.get("title") or profile.local_values.get("title") or ""
        return cls(profile.pk, profile.display_name or profile.username,
                   title if title_visible and isinstance(title, str) else "",
                   bool(profile.shown_picture), profile.active)


@dataclass
class Manager:
    """A person's manager: a profile, or the DN the directory names (not in profilesync)."""

    person: PersonRef | None
    dn: str
    self_reference: bool = False


@dataclass
class Chain:
    """The managers above a person, nearest first."""

    people: list[PersonRef] = field(default_factory=list)
    loop_to: PersonRef | None = None  # the chain came back to this person (already shown)
    self_reference: bool = False  # the person manages themselves
    outside_dn: str = ""  # the top names a manager who is not in profilesync
    truncated: bool = False  # longer than MAX_CHAIN


@dataclass(frozen=True)
class Report:
    person: PersonRef
    leads: int  # how many direct reports this person has


def manager_field() -> ProfileField | None:
    return ProfileField.objects.filter(key=MANAGER_KEY).first()


def lines_visible(viewer, profile: Profile, field_: ProfileField | None) -> bool:
    """Whether ``viewer`` sees reporting lines on ``profile`` (the manager field's rules)."""
    return (field_ is not None and field_.shown_in_profile
            and can_see_field(viewer, field_, profile))


def _title_visible(viewer, profile: Profile) -> bool:
    title = ProfileField.objects.filter(key="title").first()
    return title is None or (title.shown_in_profile and can_see_field(viewer, title, profile))


def manager_of(profile: Profile, viewer) -> Manager | None:
    """``profile``'s manager as ``viewer`` may see them; None when the directory names none."""
    link = (PersonLink.objects.select_related("target")
            .filter(profile=profile, field_key=MANAGER_KEY).first())
    if link is None or not link.target_dn:
        return None
    target = link.target
    if target is None or (not target.active and not is_administrator(viewer)):
        return Manager(None, link.target_dn)
    return Manager(PersonRef.of(target, _title_visible(viewer, target)), link.target_dn,
                   self_reference=target.pk == profile.pk)


def chain_of(profile: Profile, viewer) -> Chain:
    """The managers above ``profile`` up to the top, never following a loop.

    One query per level: the link and its target profile together.
    """
    chain = Chain()
    seen = {profile.pk}
    administrator = is_administrator(viewer)
    title_visible: bool | None = None
    current_pk = profile.pk
    while True:
        link = (PersonLink.objects.select_related("target")
                .filter(profile_id=current_pk, field_key=MANAGER_KEY).first())
        if link is None or not link.target_dn:
            return chain
        target = link.target
        if target is None or (not target.active and not administrator):
            chain.outside_dn = link.target_dn
            return chain
        if title_visible is None:
            title_visible = _title_visible(viewer, target)
        person = PersonRef.of(target, title_visible)
        if target.pk == current_pk:
            if current_pk == profile.pk:
                chain.self_reference = True
            else:
                chain.loop_to = person
            return chain
        if target.pk in seen:
            chain.loop_to = person
            return chain
        if len(chain.people) >= MAX_CHAIN:
            chain.truncated = True
            return chain
        chain.people.append(person)
        seen.add(target.pk)
        current_pk = target.pk


def direct_reports(profile: Profile, viewer) -> list[Report]:
    """The people whose manager is ``profile`` (not ``profile`` itself), with their team sizes."""
    people = _with_manager(profile.pk, viewer).exclude(pk=profile.pk)
    reports = list(people.order_by("sort_name", "pk"))
    return _with_counts(reports, viewer)


def top_people(viewer) -> list[Report]:
    """The people at the top: no manager, or one outside profilesync (or no longer active)."""
    # The same for administrators: the chart lists active people, so someone whose
    # manager was deactivated would otherwise appear nowhere in it.
    managed = PersonLink.objects.filter(field_key=MANAGER_KEY, target__active=True)
    # A self-reference puts nobody under anyone: that person counts as a top person.
    people = Profile.objects.filter(active=True).exclude(
        pk__in=managed.exclude(target_id=F("profile_id")).values("profile_id"))
    return _with_counts(list(people.order_by("sort_name", "pk")[:MAX_TOP]), viewer)


def _with_manager(manager_pk: int, viewer):
    people = Profile.objects.filter(person_links__field_key=MANAGER_KEY,
                                    person_links__target_id=manager_pk)
    return people if is_administrator(viewer) else people.filter(active=True)


def _with_counts(people: list[Profile], viewer) -> list[Report]:
    """Each person with how many direct reports they have (one grouped query for all)."""
    if not people:
        return []
    links = PersonLink.objects.filter(field_key=MANAGER_KEY,
                                      target_id__in=[p.pk for p in people])
    if not is_administrator(viewer):
        links = links.filter(profile__active=True)
    counts = dict(links.exclude(profile_id=F("target_id")).values("target_id")
                  .annotate(n=Count("id")).values_list("target_id", "n"))
    title = _title_visible(viewer, people[0])
    return [Report(PersonRef.of(p, title), counts.get(p.pk, 0)) for p in people]
