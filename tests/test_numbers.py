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
        ("more than 5 thousand people", {"5000"}),
        ("5 mil personas", {"5000"}),
        ("5 mila persone", {"5000"}),
        ("5千人", {"5000"}),
        ("5 тыс. человек", {"5000"}),
        ("٥٠٠٠ قتيل", {"5000"}),
        ("۵۰۰۰ کشته", {"5000"}),
        ("५००० लोग", {"5000"}),
        ("١١٬٣٠٠", {"11300"}),
        ("1万人", {"10000"}),
        ("2.5 million", {"2500000"}),
        ("2,5 millions", {"2500000"}),
        ("2,5 Millionen", {"2500000"}),
        ("3,2 млн", {"3200000"}),
        ("5 milliards", {"5000000000"}),
        ("5 mil millones", {"5000000000"}),
    ],
)
def test_one_value_however_written(text: str, want: set[str]) -> None:
    assert numbers_in(text) == want


@pytest.mark.parametrize(
    "text,want",
    [
        ("In 2020 millions of people stayed home", {"2020"}),  # a year, not a scale
        ("In 2022 thousands fled", {"2022"}),
        ("5 millionaires", set()),  # a scale word must end there
        ("5 binlerce", set()),
        ("7 killed", set()),  # single digits are too common to count
    ],
)
def test_scale_words_only_scale_numbers(text: str, want: set[str]) -> None:
    assert numbers_in(text) == want
