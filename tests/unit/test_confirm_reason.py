"""The reason a drastic action asks for (``web/confirm.py``): required, one line, plain text, bounded."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from ispb_platform.web.confirm import MAX_REASON, optional_reason, read_reason


def test_a_reason_is_required_and_kept_as_one_line():
    assert read_reason({}) == ("", {"reason": "Say why. The reason is required and is kept with your name."})
    assert read_reason({"reason": " \n\t "})[1] == {
        "reason": "Say why. The reason is required and is kept with your name."
    }
    assert read_reason({"reason": "  Moved\r\n to   Sylhet "}) == ("Moved to Sylhet", {})


def test_control_characters_and_oversize_reasons_are_refused_and_shown_again_cleaned():
    assert read_reason({"reason": "bad\x00byte"}) == ("badbyte", {"reason": "Write the reason as plain text."})
    text, errors = read_reason({"reason": "x" * (MAX_REASON + 1)})
    assert text == "x" * (MAX_REASON + 1) and "under 500 characters" in errors["reason"]  # all of it shown again


@given(st.text())
def test_an_accepted_reason_is_never_empty_never_too_long_and_holds_no_control_character(typed: str):
    reason, errors = read_reason({"reason": typed})
    assert errors or len(reason) <= MAX_REASON
    assert errors or (reason and reason == reason.strip() and not any(unicodedata.category(c) == "Cc" for c in reason))
    optional = optional_reason({"reason": typed}, "by hand")
    assert optional and len(optional) <= MAX_REASON and "\x00" not in optional
