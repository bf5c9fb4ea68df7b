"""Bind passwords at rest: encrypted with a key derived from the secret key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profilesync.directories.secrets import SecretUnreadable, decrypt_secret, encrypt_secret

PASSWORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=64)


@given(PASSWORDS)
def test_encrypted_password_decrypts_to_the_same_password(password):
    """Whatever an administrator types as bind password is what the sync binds with later."""
    assert decrypt_secret(encrypt_secret(password)) == password


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=40))
def test_ciphertext_does_not_contain_the_password(password):
    """Someone reading the database does not find the password in the stored text."""
    token = encrypt_secret(password)
    assert password not in token
    assert password.encode().hex() not in token


def test_same_password_encrypts_differently_each_time():
    """Two directories with the same password do not show equal ciphertexts."""
    assert encrypt_secret("same-password") != encrypt_secret("same-password")


def test_no_password_stays_empty():
    """A directory without a bind password (anonymous bind) stores and returns an empty value."""
    assert encrypt_secret("") == ""
    assert decrypt_secret("") == ""


def test_changed_secret_key_makes_the_password_unreadable_with_advice(settings):
    """After the secret key changes, the error says to set the bind password again."""
    token = encrypt_secret("bind-password")
    settings.SECRET_KEY = "a-completely-different-secret-key-for-this-test"

    with pytest.raises(SecretUnreadable) as caught:
        decrypt_secret(token)
    assert "directory set NAME --bind-password-file" in str(caught.value)
    assert "bind-password" not in str(caught.value).replace("--bind-password-file", "")


def test_tampered_ciphertext_is_refused():
    """A stored value altered by hand is refused, not decrypted into garbage."""
    token = encrypt_secret("bind-password")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretUnreadable):
        decrypt_secret(tampered)
