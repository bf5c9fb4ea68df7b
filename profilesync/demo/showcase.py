"""What makes the demo show every feature: write-back switched on, and people's own details.

Done once, on the start that creates the demo directory, so whatever an
administrator changes in the demo afterwards stays changed:

* write-back on globally and for phone, job title and picture, so a demo person
  opens "Edit profile", changes them and sees them land in the private directory;
* two fields the directory does not feed, "About me" and "Skills", filled in for
  some people as if they had written them (the rest of a profile comes from the
  directory, managers included: ``people.org_managers``).
"""

from __future__ import annotations

import random

from profilesync.directories.models import Directory
from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.search.columns import refresh_search_columns
from profilesync.profiles.services import create_field, update_field
from profilesync.sync.datasources import set_setting

WRITE_BACK_KEYS = ("phone", "title", "picture")
SKILLS = ("Python", "Go", "SQL", "Negotiation", "Public speaking", "Accounting", "Design",
          "Kubernetes", "Customer support", "Recruiting", "Spanish", "German", "Statistics")
ABOUT = (
    "I look after {department} and like a good spreadsheet.",
    "Ask me anything about {department}; I have been here for years.",
    "New to {department}. Coffee is the way to my heart.",
    "Runner, reader and part-time baker. Working in {department}.",
)
SHARE_WITH_OWN_DETAILS = 4  # one person in four has written an About me and skills


def switch_on_write_back() -> list[str]:
    """Write-back on globally and for :data:`WRITE_BACK_KEYS`; the keys switched on."""
    set_setting("writeback_enabled", "on")
    switched = []
    for field in ProfileField.objects.filter(key__in=WRITE_BACK_KEYS):
        if not field.write_back:
            update_field(field, {"write_back": True})
            switched.append(field.key)
    return switched


def ensure_own_fields() -> None:
    """The fields people fill in themselves: "About me" and "Skills"."""
    if not ProfileField.objects.filter(key="about").exists():
        create_field("about", {"label": "About me", "type": "multiline", "category": "About",
                               "searchable": True})
    if not ProfileField.objects.filter(key="skills").exists():
        create_field("skills", {"label": "Skills", "type": "multiselect", "category": "About",
                                "options": ",".join(SKILLS), "searchable": True})


def fill_own_details(directory: Directory, seed: int = 1) -> int:
    """Give some people an About me and skills, as if they had written them; how many.

    Never overwrites what someone entered (only empty ``local_values`` are filled).
    """
    rng = random.Random(seed)
    filled = []
    people = Profile.objects.filter(directory=directory, local_values={}).order_by("username")
    for index, profile in enumerate(people.iterator(chunk_size=1000)):
        if index % SHARE_WITH_OWN_DETAILS:
            continue
        department = profile.values.get("department") or "the company"
        profile.local_values = {
            "about": rng.choice(ABOUT).format(department=department),
            "skills": sorted(rng.sample(SKILLS, rng.randint(1, 4))),
        }
        filled.append(profile)
    Profile.objects.bulk_update(filled, ["local_values"], batch_size=500)
    refresh_search_columns([p.pk for p in filled])  # bulk_update sends no save signals
    return len(filled)


def prepare_showcase(directory: Directory) -> dict[str, object]:
    """Everything above, for a directory the demo just created and synced."""
    switched = switch_on_write_back()
    ensure_own_fields()
    return {"write_back": switched, "own_details": fill_own_details(directory)}
