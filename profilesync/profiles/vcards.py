"""vCard 4.0 (RFC 6350) of what a viewer may see of people, built with ``vobject``.

Only :func:`person_facts` values go in, so a field hidden from the viewer on the
profile page is absent from their vCard too. ``vobject`` writes vCard 3.0's
syntax, which 4.0 kept for these properties; the photo is a 4.0 ``data:`` URI,
embedded so the card works offline. ``vobject`` escapes its ``;`` and ``,`` as
text and reads them back so; a strict RFC 6350 reader would keep the backslashes
(not tried with other address books). The picture URL instead would need a login.
"""

from __future__ import annotations

import base64

import vobject

from .person_facts import PersonFacts
from .pictures import content_type_for, picture_bytes

# Outlook's and Apple's own property for a contact's manager (vCard has none).
MANAGER_PROPERTY = "x-ms-manager"


def vcard_of(facts: PersonFacts, profile_url: str) -> str:
    """One person's vCard text (CRLF line ends, as the standard says)."""
    card = vobject.vCard()
    card.add("version").value = "4.0"
    card.add("fn").value = facts.name
    # The directory gives one display name; its last word is the best guess at a family name.
    given, _, family = facts.name.rpartition(" ")
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
    card.add("uid").value = f"urn:profilesync:person:{facts.profile.pk}"
    card.add("url").value = profile_url
    values = facts.values
    if "title" in values:
        card.add("title").value = values["title"]
    if "department" in values:
        card.add("org").value = ["", values["department"]]
    if "phone" in values:
        tel = card.add("tel")
        tel.value = values["phone"]
        tel.type_param = "work"
    if "mail" in values:
        email = card.add("email")
        email.value = values["mail"]
        email.type_param = "work"
    if facts.manager is not None and facts.manager.person is not None:
        card.add(MANAGER_PROPERTY).value = facts.manager.person.name
    if facts.shows_picture:
        data = picture_bytes(facts.profile.shown_picture)
        if data:
            photo = card.add("photo")
            kind = content_type_for(facts.profile.shown_picture)
            photo.value = f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
    return card.serialize()
