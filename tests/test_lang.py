"""Language identification (offline, bundled lite model)."""

from __future__ import annotations

import time

import pytest

from storyline.prepare.lang import detect_language

SAMPLES = {
    "en": "The two countries resumed their strategic dialogue on Thursday by videoconference.",
    "fr": "Les deux pays ont repris jeudi leur dialogue stratégique par visioconférence.",
    "de": "Die beiden Länder haben am Donnerstag ihren strategischen Dialog wieder aufgenommen.",
    "ru": "Две страны в четверг возобновили стратегический диалог по видеосвязи.",
    "ja": "両国は木曜日、ビデオ会議で戦略対話を再開した。",
    "is": "Löndin tvö hófu aftur stefnumótandi viðræður sínar á fimmtudag í gegnum fjarfund.",
}


@pytest.mark.parametrize(("code", "text"), sorted(SAMPLES.items()))
def test_detects(code: str, text: str) -> None:
    lang, conf = detect_language(text)
    assert lang == code
    assert 0.3 < conf <= 1.0


def test_multiline_and_undetermined() -> None:
    assert detect_language("Erste Zeile des Artikels.\nZweite Zeile mit mehr Text hier.")[0] == "de"
    assert detect_language("") == ("und", 0.0)
    assert detect_language("  12 345 — !! ") == ("und", 0.0)


def test_fast_after_load() -> None:
    detect_language("warm up the model")
    text = SAMPLES["fr"] * 40
    t0 = time.perf_counter()
    for _ in range(100):
        detect_language(text)
    assert (time.perf_counter() - t0) / 100 < 0.005
