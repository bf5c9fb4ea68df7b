"""Which attributes a sync asks for, built from plain values (no database)."""

from __future__ import annotations

from profilesync.sync.fieldmap import MappedField, make_attribute_map


def test_requested_attributes_start_with_the_unique_id():
    """The unique ID (operational on OpenLDAP, so never sent unless asked) is always requested."""
    attribute_map = make_attribute_map([MappedField("title", "text", "title")],
                                       unique_id_attribute="entryUUID", username_attribute="uid")
    assert attribute_map.requested_attributes[0] == "entryuuid"
    assert set(attribute_map.requested_attributes) == {"entryuuid", "uid", "title"}


def test_attribute_names_are_lower_cased():
    """Attribute names match whatever spelling the server answers in (LDAP names ignore case)."""
    attribute_map = make_attribute_map(
        [MappedField("dept", "text", "departmentnumber")],
        unique_id_attribute="objectGUID", username_attribute="sAMAccountName",
        status_attributes=("userAccountControl",),
    )
    assert attribute_map.unique_id_attribute == "objectguid"
    assert attribute_map.username_attribute == "samaccountname"
    assert attribute_map.status_attributes == ("useraccountcontrol",)


def test_an_attribute_feeding_two_fields_is_requested_once():
    """Two fields fed by the same attribute do not make the server send it twice."""
    attribute_map = make_attribute_map(
        [MappedField("a", "text", "mail"), MappedField("b", "email", "mail")],
        unique_id_attribute="entryUUID", username_attribute="uid",
    )
    assert attribute_map.digest_attributes == ("mail", "uid")


def test_status_attributes_are_read_even_when_no_field_uses_them():
    """Active Directory's account-disabled flag is always fetched, so disabling is noticed."""
    attribute_map = make_attribute_map([], unique_id_attribute="objectGUID",
                                       username_attribute="sAMAccountName",
                                       status_attributes=("userAccountControl",))
    assert "useraccountcontrol" in attribute_map.requested_attributes


def test_signature_changes_with_the_mapping_only():
    """The same mapping gives the same signature; remapping one field changes it."""
    def build(attribute: str):
        return make_attribute_map([MappedField("title", "text", attribute)],
                                  unique_id_attribute="entryUUID", username_attribute="uid")

    assert build("title").signature == build("title").signature
    assert build("title").signature != build("description").signature


def test_signature_changes_when_a_field_changes_type():
    """Turning a text field into a multi-select re-reads everyone's values."""
    text = make_attribute_map([MappedField("langs", "text", "businesscategory")],
                              unique_id_attribute="entryUUID", username_attribute="uid")
    multi = make_attribute_map([MappedField("langs", "multiselect", "businesscategory")],
                               unique_id_attribute="entryUUID", username_attribute="uid")
    assert text.signature != multi.signature
