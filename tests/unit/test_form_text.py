"""What no form accepts as text (``web/forms.py``) and which multipart bodies are not text (``web/requests.py``):
the shared checks behind the form fuzz test's NUL, control-character, over-long and non-UTF-8 cases."""

import pytest

from ispb_platform.web.forms import MAX_TEXT_CHARS, text_errors, text_problem, whole_number
from ispb_platform.web.requests import _text_parts_decode


@pytest.mark.parametrize(
    "typed", ["Rahim", "House 12\r\nRoad 3", "tab\there", "বাংলা", "😀", "", "a" * MAX_TEXT_CHARS, "\u2028"]
)
def test_what_people_type_is_text(typed: str) -> None:
    assert text_problem(typed) is None


@pytest.mark.parametrize("typed", ["C1\x00", "\x00", "bell\x07", "esc\x1b[0m", "del\x7f", "a" * (MAX_TEXT_CHARS + 1)])
def test_nul_control_characters_and_over_long_text_are_refused(typed: str) -> None:
    assert text_problem(typed)


def test_text_errors_name_only_the_fields_the_form_shows() -> None:
    data = {"name": "ok", "code": "C\x00", "unknown": "\x00"}
    assert list(text_errors(data, ("name", "code", "missing"))) == ["code"]


def _multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--b\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return body + b"--b--\r\n"


def test_a_multipart_text_part_must_be_utf8_but_a_file_may_be_anything() -> None:
    assert _text_parts_decode(_multipart(("name", "Rahim বাংলা".encode(), None)), b"b")
    assert _text_parts_decode(_multipart(("logo", b"\x89PNG\xff\xfe", "logo.png")), b"b")
    assert not _text_parts_decode(_multipart(("logo", b"\xff", "logo.png"), ("name", b"\xc3\x28", None)), b"b")


def test_a_malformed_multipart_body_is_left_to_the_parser() -> None:
    assert _text_parts_decode(b"--b\r\nno headers end", b"b")  # Litestar answers it 400 itself


@pytest.mark.parametrize(
    ("typed", "number"), [("30", 30), (" 7 ", 7), ("৩০", 30), ("0", None), ("367", None), ("9" * 5000, None)]
)
def test_whole_numbers_are_bounded_before_int_sees_them(typed: str, number: int | None) -> None:
    assert whole_number(typed, 1, 366) == number


@pytest.mark.parametrize("typed", ["²", "-1", "1.5", "1e3", "0x10", "", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩"])
def test_what_is_not_a_whole_number_is_none(typed: str) -> None:
    assert whole_number(typed, 0, 10**20) is None
