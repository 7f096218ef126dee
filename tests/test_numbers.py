"""Numbers as the scorer compares them: the same value however a language writes it."""

from __future__ import annotations

import pytest

from storyline.text import numbers_in


@pytest.mark.parametrize(
    "text,want",
    [
        ("5,000 people", {"5000"}),
        ("5.000 Menschen", {"5000"}),
        ("5 000 personnes", {"5000"}),
        ("5千人", {"5000"}),
        ("٥٠٠٠ قتيل", {"5000"}),
        ("۵۰۰۰ کشته", {"5000"}),
        ("५००० लोग", {"5000"}),
        ("١١٬٣٠٠", {"11300"}),
        ("1万人", {"10000"}),
        ("2.5万人", {"25000"}),
        ("3억 원", {"300000000"}),
    ],
)
def test_one_value_however_written(text: str, want: set[str]) -> None:
    assert numbers_in(text) == want


@pytest.mark.parametrize(
    "text,want",
    [
        ("2020万", {"2020"}),  # a year, not a scale
        ("20 million", {"20"}),  # scale words are not read (docs/scorer.md)
        ("7 killed", set()),  # single digits are too common to count
    ],
)
def test_only_cjk_scales_scale_numbers(text: str, want: set[str]) -> None:
    assert numbers_in(text) == want
