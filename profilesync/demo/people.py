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


def person_ldif(person: Person, people_dn: str, user_password: str = "") -> str:
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
    if user_password:
        lines.append(_line("userPassword", user_password))
    return "".join(lines) + "\n"


def organizational_unit_ldif(dn: str) -> str:
    name = dn.split(",")[0].split("=", 1)[1]
    return f"dn: {dn}\nobjectClass: organizationalUnit\nou: {name}\n\n"


def write_people_ldif(path: str | Path, count: int, suffix: str = "dc=example,dc=org",
                      seed: int = 1, photo_share: float = 0.1, user_password: str = "") -> Path:
    """Write ``ou=people`` and ``count`` people under it to ``path`` for slapadd.

    With ``user_password`` every person can log in with it (the demo's people do).
    """
    path = Path(path)
    people_dn = f"ou=people,{suffix}"
    with path.open("w", encoding="utf-8") as out:
        out.write(organizational_unit_ldif(people_dn))
        for person in generate_people(count, seed=seed, photo_share=photo_share):
            out.write(person_ldif(person, people_dn, user_password))
    return path
