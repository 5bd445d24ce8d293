"""SMS segment counting: GSM-7 and UCS-2, single and multipart (ispb_notify.segments)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_notify import SmsCount, count_sms
from ispb_notify.segments import GSM_BASIC, GSM_EXTENSION

BANGLA = "আমাদের ইন্টারনেট সেবা"  # 21 code points, all in the Basic Multilingual Plane


def bangla(length: int) -> str:
    return (BANGLA * (length // len(BANGLA) + 1))[:length]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsCount("GSM-7", 0, 0, 160)),
        ("a" * 160, SmsCount("GSM-7", 160, 1, 160)),
        ("a" * 161, SmsCount("GSM-7", 161, 2, 153)),
        ("a" * 306, SmsCount("GSM-7", 306, 2, 153)),
        ("a" * 307, SmsCount("GSM-7", 307, 3, 153)),
        ("€", SmsCount("GSM-7", 2, 1, 160)),
        ("€" * 80, SmsCount("GSM-7", 160, 1, 160)),
        ("€" * 81, SmsCount("GSM-7", 162, 2, 153)),
        ("[x]{y}", SmsCount("GSM-7", 10, 1, 160)),
        (bangla(70), SmsCount("UCS-2", 70, 1, 70)),
        (bangla(71), SmsCount("UCS-2", 71, 2, 67)),
        (bangla(134), SmsCount("UCS-2", 134, 2, 67)),
        (bangla(135), SmsCount("UCS-2", 135, 3, 67)),
        ("😀", SmsCount("UCS-2", 2, 1, 70)),
        ("😀" * 35, SmsCount("UCS-2", 70, 1, 70)),
        ("a" * 159 + "ç", SmsCount("UCS-2", 160, 3, 67)),  # ç (small) is not GSM; Ç (capital) is
        ("Ç" * 160, SmsCount("GSM-7", 160, 1, 160)),
    ],
)
def test_count_examples(text: str, expected: SmsCount) -> None:
    assert count_sms(text) == expected


def test_one_bangla_letter_makes_the_whole_message_ucs2() -> None:
    assert count_sms("a" * 100).segments == 1
    assert count_sms("a" * 100 + "ক") == SmsCount("UCS-2", 101, 2, 67)


def test_escape_pair_is_never_split_between_parts() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets would fit 2 parts of 153 if € could be split
    assert count_sms(text) == SmsCount("GSM-7", 306, 3, 153)


def test_surrogate_pair_is_never_split_between_parts() -> None:
    text = "ক" * 66 + "😀" + "ক" * 66  # 134 units, but the emoji cannot straddle parts
    assert count_sms(text) == SmsCount("UCS-2", 134, 3, 67)


GSM_TEXT = st.text(alphabet=sorted(GSM_BASIC), max_size=700)
ANY_TEXT = st.text(max_size=500)


@given(GSM_TEXT)
def test_basic_gsm_text_counts_one_per_character(text: str) -> None:
    count = count_sms(text)
    assert count.encoding == "GSM-7"
    assert count.characters == len(text)
    expected = (1 if text else 0) if len(text) <= 160 else math.ceil(len(text) / 153)
    assert count.segments == expected


@given(st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENSION), max_size=700))
def test_extension_characters_count_two(text: str) -> None:
    count = count_sms(text)
    assert count.characters == len(text) + sum(c in GSM_EXTENSION for c in text)


@given(ANY_TEXT)
def test_encoding_is_ucs2_exactly_when_a_character_is_outside_gsm(text: str) -> None:
    count = count_sms(text)
    outside = any(c not in GSM_BASIC and c not in GSM_EXTENSION for c in text)
    assert (count.encoding == "UCS-2") == outside
    if outside:
        assert count.characters == len(text.encode("utf-16-le")) // 2


@given(ANY_TEXT)
def test_segments_hold_the_text_and_waste_at_most_one_unit_each(text: str) -> None:
    count = count_sms(text)
    assert count.characters <= count.segments * count.per_segment
    if count.segments > 1:
        assert count.characters > (count.segments - 1) * (count.per_segment - 1)
    assert count.per_segment in ((160, 153) if count.encoding == "GSM-7" else (70, 67))


@given(ANY_TEXT, st.characters())
def test_adding_a_character_never_makes_the_message_cheaper(text: str, extra: str) -> None:
    assert count_sms(text + extra).segments >= count_sms(text).segments
