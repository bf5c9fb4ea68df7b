"""Generated people as LDIF, for the demo, the tests and the benchmarks.

Deterministic for a given seed, so a benchmark run at 10,000 and one at
100,000 users see the same first 10,000 people. Some have photos (small, all
different JPEGs) and some have non-ASCII names, because real directories do.
"""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

GIVEN_NAMES = (
    "Anna", "Ben", "Chloé", "David", "Elif", "Farah", "Grace", "Hiro", "Ines", "Jürgen",
    "Kofi", "Lena", "Łukasz", "Maria", "Noah", "Olga", "Pedro", "Qing", "Rosa", "Sven",
    "Tomás", "Uma", "Viktor", "Wen", "Xavier", "Yara", "Zoë", "Ólafur", "Søren", "Amélie",
)
FAMILY_NAMES = (
    "Smith", "Müller", "García", "Rossi", "Nowak", "Kim", "Nguyen", "Okafor", "Jensen",
    "Dubois", "Silva", "Yılmaz", "Novák", "O'Brien", "Kowalski", "Tanaka", "Öztürk",
    "Andersson", "Fernández", "Brown", "Wójcik", "Papadopoulos", "Singh", "Cohen", "Ivanov",
)
TITLES = (
    "Engineer", "Senior Engineer", "Product Manager", "Designer", "Accountant",
    "Sales Representative", "Support Specialist", "Team Lead", "Recruiter", "Analyst",
)
DEPARTMENTS = ("Engineering", "Finance", "Sales", "Support", "People", "Marketing", "Legal")


@dataclass(frozen=True)
class Person:
    uid: str
    given_name: str
    family_name: str
    title: str
    department: str
    phone: str
    mail: str
    photo: bytes | None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def make_photo(index: int, size: int = 48) -> bytes:
    """A small JPEG of its own for each person (about 1 KB)."""
    from PIL import Image

    rng = random.Random(index)
    image = Image.new("RGB", (size, size), (rng.randrange(256), rng.randrange(256),
                                            rng.randrange(256)))
    pixels = image.load()
    for _ in range(size * 2):
        pixels[rng.randrange(size), rng.randrange(size)] = (rng.randrange(256),) * 3
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def generate_people(count: int, seed: int = 1, photo_share: float = 0.1) -> Iterator[Person]:
    rng = random.Random(seed)
    for index in range(count):
        given = rng.choice(GIVEN_NAMES)
        family = rng.choice(FAMILY_NAMES)
        has_photo = rng.random() < photo_share
        uid = f"user{index:06d}"
        yield Person(
            uid=uid,
            given_name=given,
            family_name=family,
            title=rng.choice(TITLES),
            department=rng.choice(DEPARTMENTS),
            phone=f"+49 30 {rng.randrange(1000000, 9999999)}",
            mail=f"{uid}@example.org",
            photo=make_photo(index) if has_photo else None,
        )


def _line(attribute: str, value: str | bytes) -> str:
    """One LDIF line, base64 where RFC 2849 requires it (non-ASCII, binary, leading space)."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    safe = (raw and raw.isascii() and raw[:1] not in (b" ", b":", b"<")
            and b"\n" not in raw and b"\r" not in raw and b"\0" not in raw)
    if safe:
        return f"{attribute}: {raw.decode('ascii')}\n"
    return f"{attribute}:: {base64.b64encode(raw).decode('ascii')}\n"


CEO_TITLE = "Chief Executive Officer"
LEAD_TITLES = ("Vice President", "Director", "Head of Team", "Team Lead")
TEAM_SIZES = (3, 12)  # direct reports of a manager in the generated org chart


def org_managers(count: int, seed: int = 1) -> list[int | None]:
    """Each generated person's manager (an index), as a believable tree.

    Person 0 is the CEO; everyone else is given, breadth first, to a manager with
    a team of 3 to 12 people, so a manager always comes before their reports (AD
    refuses a manager that does not exist yet) and the tree has a few levels.
    """
    rng = random.Random(seed * 7919)
    managers: list[int | None] = [None] * count
    waiting = [0]
    next_person = 1
    while next_person < count and waiting:
        manager = waiting.pop(0)
        for _ in range(rng.randint(*TEAM_SIZES)):
            if next_person >= count:
                break
            managers[next_person] = manager
            waiting.append(next_person)
            next_person += 1
    return managers


def org_levels(managers: list[int | None]) -> list[int]:
    """How far below the CEO each person is (the CEO: 0)."""
    levels = [0] * len(managers)
    for index, manager in enumerate(managers):
        if manager is not None:
            levels[index] = levels[manager] + 1
    return levels


def with_org_titles(person: Person, level: int, leads: bool) -> Person:
    """The CEO and the people who lead a team get a title that says so."""
    from dataclasses import replace

    if level == 0:
        return replace(person, title=CEO_TITLE)
    if leads:
        return replace(person, title=LEAD_TITLES[min(level, len(LEAD_TITLES)) - 1])
    return person


def person_ldif(person: Person, people_dn: str, user_password: str = "",
                manager_dn: str = "") -> str:
    lines = [
        _line("dn", f"uid={person.uid},{people_dn}"),
        "objectClass: inetOrgPerson\n",
        _line("uid", person.uid),
        _line("cn", person.display_name),
        _line("sn", person.family_name),
        _line("givenName", person.given_name),
        _line("displayName", person.display_name),
        _line("title", person.title),
        _line("departmentNumber", person.department),
        _line("telephoneNumber", person.phone),
        _line("mail", person.mail),
    ]
    if person.photo:
        lines.append(_line("jpegPhoto", person.photo))
    if manager_dn:
        lines.append(_line("manager", manager_dn))
    if user_password:
        lines.append(_line("userPassword", user_password))
    return "".join(lines) + "\n"


def organizational_unit_ldif(dn: str) -> str:
    name = dn.split(",")[0].split("=", 1)[1]
    return f"dn: {dn}\nobjectClass: organizationalUnit\nou: {name}\n\n"


def write_people_ldif(path: str | Path, count: int, suffix: str = "dc=example,dc=org",
                      seed: int = 1, photo_share: float = 0.1, user_password: str = "",
                      with_managers: bool = False) -> Path:
    """Write ``ou=people`` and ``count`` people under it to ``path`` for slapadd.

    With ``user_password`` every person can log in with it (the demo's people do).
    ``with_managers``: each person's ``manager`` DN, from :func:`org_managers` (the
    demo's org chart); benchmarks leave it out and read what they always read.
    """
    path = Path(path)
    people_dn = f"ou=people,{suffix}"
    managers = org_managers(count, seed) if with_managers else [None] * count
    levels = org_levels(managers)
    leads = {manager for manager in managers if manager is not None}
    uids: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        out.write(organizational_unit_ldif(people_dn))
        for index, person in enumerate(generate_people(count, seed=seed,
                                                       photo_share=photo_share)):
            uids.append(person.uid)
            manager = managers[index]
            if with_managers:
                person = with_org_titles(person, levels[index], index in leads)
            manager_dn = f"uid={uids[manager]},{people_dn}" if manager is not None else ""
            out.write(person_ldif(person, people_dn, user_password, manager_dn))
    return path
