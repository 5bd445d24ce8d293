"""secrets_box: AES-256-GCM values bound to (tenant, purpose, row), with a key id for rotation, and the values of
the first scheme (v1) still readable."""

import base64
import re

import pytest

from factories import legacy_seal
from ispb_platform.secrets_box import Binding, Purpose, SealError, is_current, key_id, reveal, seal, sealed_key_id
from ispb_platform.settings import SettingsError, parse_settings

KEY = "k" * 40
OTHER = "o" * 40
ROUTER_7 = Binding(3, Purpose.ROUTER_API_PASSWORD, 7)


def test_a_sealed_value_opens_with_its_key_and_binding_and_names_its_key():
    sealed = seal(KEY, "api-pass ✓", ROUTER_7)
    assert re.fullmatch(r"v2:[0-9a-f]{12}:[A-Za-z0-9_-]+", sealed)
    assert sealed_key_id(sealed) == key_id(KEY) != key_id(OTHER) and is_current(KEY, sealed)
    assert "api-pass" not in sealed and seal(KEY, "api-pass ✓", ROUTER_7) != sealed  # a fresh nonce each time
    assert reveal(KEY, sealed, ROUTER_7) == "api-pass ✓"


@pytest.mark.parametrize(
    "elsewhere",
    [
        Binding(3, Purpose.ROUTER_API_PASSWORD, 8),  # another row
        Binding(4, Purpose.ROUTER_API_PASSWORD, 7),  # another tenant
        Binding(3, Purpose.ROUTER_RADIUS_SECRET, 7),  # another purpose, same row
        Binding(3, Purpose.CUSTOMER_PPPOE_PASSWORD, 7),  # another table
        Binding(3, Purpose.ROUTER_API_PASSWORD, "7 "),
    ],
)
def test_a_value_copied_to_another_row_purpose_or_tenant_does_not_open(elsewhere: Binding):
    sealed = seal(KEY, "api-pass", ROUTER_7)
    with pytest.raises(SealError, match="does not open: it was changed, or copied from another row"):
        reveal(KEY, sealed, elsewhere)


def test_tampering_fails_with_a_seal_error():
    sealed = seal(KEY, "api-pass", ROUTER_7)
    head, body = sealed.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for position in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
        changed = bytearray(raw)
        changed[position] ^= 1
        forged = f"{head}:{base64.urlsafe_b64encode(bytes(changed)).decode().rstrip('=')}"
        with pytest.raises(SealError, match="does not open"):
            reveal(KEY, forged, ROUTER_7)
    for broken in (sealed[:-30], f"{head}:", f"{head}:!!!", "v2:abc", "plain text", "", "v3:" + sealed[3:]):
        with pytest.raises(SealError):
            reveal(KEY, broken, ROUTER_7)


def test_a_wrong_key_fails_and_says_which_key_sealed_the_value():
    sealed = seal(KEY, "api-pass", ROUTER_7)
    with pytest.raises(SealError, match=f"sealed with key {key_id(KEY)}, which this process does not have"):
        reveal(OTHER, sealed, ROUTER_7, old_keys=())
    # the same key id with another key (a forged header) still fails on the tag
    forged = f"v2:{key_id(OTHER)}:{sealed.rsplit(':', 1)[1]}"
    with pytest.raises(SealError, match="does not open"):
        reveal(OTHER, forged, ROUTER_7, old_keys=())


def test_an_old_key_opens_during_a_rotation_and_never_seals():
    sealed = seal(OTHER, "api-pass", ROUTER_7)
    assert reveal(KEY, sealed, ROUTER_7, old_keys=(OTHER,)) == "api-pass"
    assert sealed_key_id(seal(KEY, "x", ROUTER_7)) == key_id(KEY)


def test_values_of_the_first_scheme_still_open_with_the_current_or_an_old_key():
    old = legacy_seal(KEY, "dial-in ✓")
    assert sealed_key_id(old) is None and not is_current(KEY, old)
    assert reveal(KEY, old, ROUTER_7, old_keys=()) == "dial-in ✓"
    assert reveal(OTHER, old, ROUTER_7, old_keys=(KEY,)) == "dial-in ✓"
    with pytest.raises(SealError, match="v1 sealed value"):
        reveal(OTHER, old, ROUTER_7, old_keys=())
    with pytest.raises(SealError):
        reveal(KEY, old[:-2] + ("A" if old[-2] != "A" else "B") + old[-1], ROUTER_7, old_keys=())


def test_nothing_is_sealed_without_a_key():
    with pytest.raises(SealError, match="ISPB_SECRET_KEY is not set"):
        seal("", "x", ROUTER_7)


def test_old_secret_keys_are_read_from_the_environment_and_checked():
    env = {"ISPB_SECRET_KEY": KEY}
    assert parse_settings(env).old_secret_keys == ()
    assert parse_settings(env | {"ISPB_OLD_SECRET_KEYS": f" {OTHER} , {'p' * 40}"}).old_secret_keys == (
        OTHER,
        "p" * 40,
    )
    with pytest.raises(SettingsError, match="ISPB_OLD_SECRET_KEYS"):
        parse_settings(env | {"ISPB_OLD_SECRET_KEYS": "short"})
