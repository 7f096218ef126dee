"""What an event shows: headlines that read as headlines, summaries that open with the news,
descriptions in one display language, keyphrases that are phrases, entities that are
entities. On the seeds, the bundled sample and the mixed-language sample (examples/mixed.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from storyline.describe.display import describe_event, main_event
from storyline.describe.entities import display_entities, same_person, transliterate
from storyline.describe.headline import short_headline
from storyline.describe.keyphrases import keyphrases
from storyline.describe.summarize import SummDoc, display_language, headline, summary
from storyline.model import Article, Event, Processed
from storyline.prepare.clean import split_sentences
from storyline.prepare.entities import extract_entities

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEEDS = Path(__file__).resolve().parent / "data" / "seeds"


def rows(name: str) -> list[dict]:
    return [json.loads(x) for x in (EXAMPLES / name).open(encoding="utf-8")]


def processed(r: dict) -> Processed:
    text = r["text"]
    sents = split_sentences(text)
    ents = extract_entities(text, r["lang"], title=r.get("title") or "")
    art = Article(r["id"], text, title=r.get("title"), lang=r["lang"])
    return Processed(art, text, r["lang"], 1.0, title=r.get("title") or "", sentences=sents,
                     entities=ents)  # fmt: skip


# --- headlines ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_seed_leads_become_short_headlines(path: Path) -> None:
    lead = split_sentences(path.read_text(encoding="utf-8").split("\n", 1)[-1])[0]
    h = short_headline(lead, "fr" if path.name[:3] in ("003", "004") else "en")
    assert 15 <= len(h) <= 96, h
    assert lead.startswith(h.split()[0]) or h.split()[0] in lead
    assert not h.endswith((",", ";", ":", " de", " the", " of", " and"))


def test_short_headline_cuts_at_clauses_and_keeps_short_titles() -> None:
    long_fr = ("Le Premier ministre « parraine le lancement du premier round du dialogue bilatéral "
               "entre l’Irak et les Etats-Unis pour mettre fin à la mission de la coalition "
               "internationale en Irak », a fait savoir le gouvernement irakien ce 27 janvier.")  # fmt: skip
    h = short_headline(long_fr, "fr")
    assert len(h) <= 96 and "«" not in h and h.startswith("Le Premier ministre")
    assert short_headline("<b>(1)</b> Budget", "en") == "<b>(1)</b> Budget"  # fits: as written
    zh = "摩洛哥当地时间9月8日晚发生6.8级地震，造成800多人死亡，震中位于马拉喀什西南约70公里的阿特拉斯山区。"
    assert short_headline(zh, "zh") == "摩洛哥当地时间9月8日晚发生6.8级地震，造成800多人死亡"
    ar = ("ضرب زلزال بقوة 6.8 درجات منطقة الحوز في المغرب ليل الجمعة، ما أسفر عن مقتل أكثر من 800 "
          "شخص بحسب وزارة الداخلية المغربية التي أعلنت الحصيلة صباح السبت.")  # fmt: skip
    assert short_headline(ar, "ar") == "ضرب زلزال بقوة 6.8 درجات منطقة الحوز في المغرب ليل الجمعة"
    assert short_headline("word " * 40, "en").endswith("…")


def _vec(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_untitled_headline_and_summary_open_with_the_central_lead() -> None:
    aside = "Above all, for the moment, the pro-Iran factions are in retreat in the city."
    news = ("The United States announced on Thursday that it will reduce its military presence "
            "in Iraq after months of tension with the government in Baghdad and its allies.")  # fmt: skip
    a = SummDoc("a", "en", "", [aside, news, "Talks will go on for months between both sides."],
                np.stack([_vec(0, 1, 0), _vec(1, 0.1, 0), _vec(0.7, 0.7, 0)]))
    b = SummDoc("b", "en", "", ["Washington said it would reduce its forces in Iraq soon enough.",
                                "Officials did not give any timetable for the withdrawal."],
                np.stack([_vec(1, 0, 0), _vec(0.9, 0.2, 0)]))  # fmt: skip
    h = headline([a, b])
    assert len(h) <= 96 and h.startswith("Washington said") or h.startswith("The United States")
    s = summary([a, b])
    assert not s.startswith("Above all")
    assert s.split(". ")[0] in (news.rstrip("."), b.sentences[0].rstrip("."))


def test_display_language_and_fallback() -> None:
    docs = [SummDoc("1", "fr", "Un titre en français pour cet événement", []),
            SummDoc("2", "en", "An English title for this event here", []),
            SummDoc("3", "en", "Another English title for the same event", [])]  # fmt: skip
    assert display_language(docs) == "en" and display_language(docs, "fr") == "fr"
    assert display_language(docs, "de") == "en"  # best covered, never a mix
    assert headline(docs, "de") in {d.title for d in docs[1:]}


# --- keyphrases -----------------------------------------------------------------------------


def test_keyphrases_are_whole_phrases_in_the_display_language() -> None:
    docs = []
    for r in rows("news.jsonl") + rows("mixed.jsonl"):
        docs.append(SummDoc(r["id"], r["lang"], r.get("title") or "", split_sentences(r["text"])))
    morocco = [d for d in docs if d.id in ("n05", "n06", "n07", "n08", "n09")]
    fr = keyphrases(morocco, lang="fr")
    assert fr and not any("d'Al" in p or "d’Al" in p for p in fr), fr
    en = keyphrases(morocco, lang="en")
    assert not any(p in " ".join(d.sentences) for d in morocco if d.lang != "en" for p in en
                   if " " in p and p not in " ".join(x.sentences for x in morocco if x.lang == "en"))  # fmt: skip
    derna_ar = [d for d in docs if d.id == "m03"] * 2
    ar = keyphrases(derna_ar, lang="ar")
    assert "في درنة بعد" not in ar and not any(p.split()[-1] in ("بعد", "في") for p in ar), ar
    seeds_fr = [SummDoc("3", "fr", "", split_sentences(p.read_text(encoding="utf-8")))
                for p in SEEDS.glob("003_*.txt")]  # fmt: skip
    kp = keyphrases(seeds_fr, lang="fr")
    assert "Etats-Unis déploient environ" not in kp and "confirmé l’avant-veille" not in kp, kp


# --- entities -------------------------------------------------------------------------------


def test_junk_persons_are_not_shown() -> None:
    items = [processed(r) for r in rows("news.jsonl") if r["id"] in ("n05", "n06", "n07", "n08",
                                                                       "n09")]  # fmt: skip
    shown = display_entities(items, "en")
    names = {n for _, n, _ in shown}
    assert not names & {"Beben der Stärke", "Nach Angaben", "Uhr Ortszeit", "Schweres Erdbeben"}
    assert "Morocco" in names and "Marokko" not in names and "Marruecos" not in names
    assert all(not k.startswith("per:") or not any(c.isdigit() for c in k) for k, _, _ in shown)
    moon = [processed(r) for r in rows("news.jsonl") if r["id"] in ("n10", "n11", "n12", "n13")]
    moon_names = {n for _, n, _ in display_entities(moon, "fr")}
    assert not moon_names & {"Lune", "Chandrayaan-3", "Bord der Fähre"}, moon_names
    assert "Narendra Modi" in moon_names and "Inde" in moon_names
    ferry = [processed(r) for r in rows("mixed.jsonl") if r["id"] == "m09"]
    assert not any("Bord der" in n for _, n, _ in display_entities(ferry, "de"))


def test_the_story_linker_gets_no_junk_persons_either() -> None:
    from storyline.describe.anatomy import core_entities
    from storyline.describe.entities import checked_keys

    items = [processed(r) for r in rows("news.jsonl") if r["id"] in ("n05", "n06", "n07", "n08",
                                                                       "n09")]  # fmt: skip
    raw = {k for p in items for _, _, k in p.entities}
    checked = set().union(*(checked_keys(p) for p in items))
    dropped = raw - checked
    assert any(k.startswith("per:") for k in dropped), dropped  # the extractor's junk persons
    keys = core_entities(items, share=0.0)
    assert keys <= checked and not keys & dropped
    assert "country:MA" in keys


def test_transliterations_of_one_person_merge() -> None:
    assert same_person("Osman Abdulcelil", "Othman Abduljaleel")
    assert not same_person("Robert Ford", "Gerald Ford")
    assert transliterate("Осман") == "osman"
    items = [processed(r) for r in rows("mixed.jsonl") if r["id"] in ("m01", "m04")]
    shown = display_entities(items, "en")
    minister = [(k, n, c) for k, n, c in shown if "Abd" in n]
    assert len(minister) == 1 and minister[0][1] == "Othman Abduljaleel" and minister[0][2] == 2
    tr = {n for _, n, _ in display_entities(items, "tr")}
    assert any("Abdulcelil" in n for n in tr)


# --- events and stories in a display language -----------------------------------------------


def test_event_and_story_descriptions_in_one_language(seeds_db: Path) -> None:
    from storyline.store import open_store

    store = open_store(str(seeds_db))
    evs = list(store.iter_events())
    big = max(evs, key=lambda e: e.size)
    en = describe_event(store, big)
    assert en.lang == "en" and not en.fallback and len(en.item.headline) <= 96
    assert not en.item.summary.startswith("Above all")
    fr = describe_event(store, big, "fr")
    assert fr.lang == "fr" and "Irak" in fr.item.headline + fr.item.summary
    assert "The United States" not in fr.item.summary
    small = min(evs, key=lambda e: e.size)
    de = describe_event(store, small, "de")
    assert de.fallback and de.lang == "fr"
    assert main_event(evs) is big and main_event(evs, "fr") is big
    assert main_event([Event("x", ["a"])]).id == "x" and main_event([]) is None


def test_words_before_a_surface_are_those_the_regex_finds() -> None:
    import random
    import re

    from storyline.describe.entities import _words_before

    def regex(surface: str, text: str) -> list[str]:
        pat = re.compile(r"(\w+)['’ ]\s*" + re.escape(surface) + r"(?!\w)")
        return [m.group(1).lower() for m in pat.finditer(text)]

    text = (
        "The Pentagon said. the  Pentagon, l'Élysée et l’ Élysée; la\nLune, la \nLune, laLune Lune "
        "Lune Lune. Pentagonal Pentagon_x _Pentagon 3 Pentagon Der Mond, den Mond'"
    )
    for surface in ("Pentagon", "Élysée", "Lune", "Mond", "a", " ", "'", "n"):
        assert _words_before(surface, text) == regex(surface, text), surface
    rng = random.Random(0)
    alphabet = "ab L'’ \n\t_é1"
    for _ in range(2000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        s = "".join(rng.choice("abL") for _ in range(rng.randint(1, 2)))
        assert _words_before(s, t) == regex(s, t), (s, t)


def test_has_word_finds_what_the_whole_word_regex_finds() -> None:
    import random
    import re

    from storyline.text import has_word

    def regex(text: str, word: str) -> bool:
        return re.search(r"(?<![\w])" + re.escape(word) + r"(?![\w])", text) is not None

    rng = random.Random(1)
    for _ in range(3000):
        t = "".join(rng.choice("ab -.é_1’") for _ in range(rng.randint(0, 20)))
        w = "".join(rng.choice("ab-.é") for _ in range(rng.randint(1, 3)))
        assert has_word(t, w) == regex(t, w), (t, w)
    assert has_word("la lune", "lune") and not has_word("lunes", "lune")
