"""The linker's n-gram keys and the surface forms shown for a key."""

from __future__ import annotations

from collections import Counter

import pytest

from storyline.describe.keyphrases import _LINK_ALL_STOP, _ngram_phrases, _Surfaces
from storyline.text import phrase_key


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. Army's 3rd brigade left Baghdad's airport",
        "L’État islamique a revendiqué l’attentat d’Ankara",
        "ΟΔΟΣ ΑΘΗΝΑΣ ΚΑΙ ΠΕΙΡΑΙΩΣ έκλεισε",
        "Straße in Köln — Großeinsatz der Polizei",
        "Prime Minister Mustafa al-Kadhimi, Jones' lawyer and O'Neill",
        "ＦＵＬＬ ｗｉｄｔｈ Ｔｏｋｙｏ 東京都 知事 İstanbul ǅemal",
        "naïve café résumé under_score foo--bar",
    ],
)
def test_ngram_keys_are_the_phrase_keys_of_the_ngrams(text: str) -> None:
    got = _ngram_phrases(text, _LINK_ALL_STOP)
    assert got
    for key, phrase in got:
        assert key == phrase_key(phrase), phrase


def test_surfaces_count_forms_and_break_ties_by_first_sight() -> None:
    forms = ["Iraq", "IRAQ", "Iraq", "iraq", "IRAQ"]
    s = _Surfaces()
    for f in forms:
        s.add("iraq", f)
    s.add("kazimi", "Kazimi")
    assert s.most_common("iraq") == Counter(forms).most_common(1)[0][0] == "Iraq"
    t = _Surfaces()
    for f in ["B", "A", "A", "B"]:  # a tie: the form seen first
        t.add("k", f)
    assert t.most_common("k") == "B"
    assert s.most_common("kazimi") == "Kazimi"
