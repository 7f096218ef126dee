"""Extractive headline, summary and keyphrases."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyline.describe.keyphrases import keyphrases
from storyline.describe.summarize import SummDoc, headline, summary
from storyline.represent.encoder import HashingEncoder

SEEDS = Path(__file__).resolve().parent / "data" / "seeds"  # bundled
BOILER = (
    "I subscribe",
    "Download the France 24 app",
    "Publicité",
    "also Read",
    "Read also",
    "google-play",
    "France 24 week",
    "writing will advise",
)


def _doc(doc_id: str, lang: str, title: str, text: str, enc: object) -> SummDoc:
    from storyline.prepare.clean import split_sentences

    sents = split_sentences(text)
    return SummDoc(doc_id, lang, title, sents, enc.encode(sents))  # type: ignore[attr-defined]


def _small() -> list[SummDoc]:
    enc = HashingEncoder()
    return [
        _doc(
            "a",
            "en",
            "Flood closes main bridge in river town",
            "Heavy rain flooded the river town on Monday and closed the main bridge.\n"
            "I subscribe\n"
            "Rescue teams evacuated two hundred residents from the flooded river district.\n"
            "The main bridge will stay closed until engineers inspect the flooded pillars.",
            enc,
        ),
        _doc(
            "b",
            "fr",
            "Inondations : le pont principal fermé",
            "Publicité\n"
            "De fortes pluies ont inondé la ville lundi et fermé le pont principal.\n"
            "Les secours ont évacué deux cents habitants du quartier inondé près du fleuve.",
            enc,
        ),
    ]


def test_headline_and_language_preference() -> None:
    docs = _small()
    assert headline(docs, "fr") == "Inondations : le pont principal fermé"
    assert headline(docs, "en") == "Flood closes main bridge in river town"
    assert headline(docs, "de") in {d.title for d in docs}
    assert headline([]) == ""


def test_summary_skips_boilerplate_and_prefers_lang() -> None:
    docs = _small()
    fr = summary(docs, "fr", max_sentences=2)
    assert "pluies" in fr and "Publicité" not in fr and "flooded" not in fr
    en = summary(docs, "en")
    assert "I subscribe" not in en and "flooded" in en
    assert summary([]) == ""
    no_vectors = [SummDoc("x", "en", "", ["A plain sentence long enough to be kept here."])]
    assert summary(no_vectors) == "A plain sentence long enough to be kept here."


def test_keyphrases() -> None:
    phrases = keyphrases(_small(), k=5)
    assert phrases and len(phrases) <= 5
    assert any(" " in p for p in phrases)  # multi-word phrases are preferred
    assert len({p.lower() for p in phrases}) == len(phrases)
    assert all(p.lower() not in {"the", "le", "de", "and"} for p in phrases)


@pytest.mark.slow
def test_seed_event_summary() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seeds not found at {SEEDS}")
    try:
        from storyline.represent.encoder import USEEncoder

        enc: object = USEEncoder()
        enc.encode(["warm up"])  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - no model means skip
        pytest.skip(f"multilingual USE encoder unavailable: {exc}")
    files = {p.name[:3]: p for p in sorted(SEEDS.glob("*.txt"))}
    docs = []
    for key, lang in (("000", "en"), ("001", "en"), ("002", "en"), ("004", "fr")):
        lines = files[key].read_text(encoding="utf-8").strip().split("\n")
        title = lines[0] if key == "004" else ""
        docs.append(_doc(key, lang, title, "\n".join(lines[1:] if title else lines), enc))
    for lang in (None, "en", "fr"):
        text = headline(docs, lang) + "\n" + summary(docs, lang)
        assert not any(b.lower() in text.lower() for b in BOILER), text
    fr_summary = rest = summary(docs, "fr")
    for sentence in docs[3].sentences:
        rest = rest.replace(sentence.strip(), "")
    assert fr_summary and not rest.strip(), rest  # drawn from the French member only
    assert headline(docs, "fr").startswith("Après les tensions")
    assert keyphrases(docs)


def test_datelines_in_any_script_are_not_headlines() -> None:
    """"PARIS (AFP) -" and its Japanese and Russian kin open a text but say nothing."""
    for line in ("PARIS (AFP) -", "エルサレム（ロイター通信） -", "Москва (РИА Новости) -"):
        alone = SummDoc("x", "xx", "", [line, "The ceasefire along the line began at midnight."])
        assert headline([alone]).startswith("The ceasefire"), line
        opening = SummDoc("x", "xx", "", [f"{line} The ceasefire along the line began at midnight."])
        assert headline([opening]).startswith("The ceasefire"), line
