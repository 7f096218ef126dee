"""Families: copies, rewrites and translations; the seeds and the WMT21 dev set."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from storyline.describe.families import FamilyDoc, FamilyFinder, family_similarity, same_family
from storyline.represent.encoder import HashingEncoder

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = Path(__file__).resolve().parent / "data" / "seeds"  # bundled
DATA = SHARED / "data"


def _split(text: str) -> list[str]:
    try:
        from storyline.prepare.clean import is_boilerplate, split_sentences
    except ImportError:  # pragma: no cover - the cleaning stage is a sibling module
        return [s.strip() for s in text.split("\n") if s.strip()]
    return [s for s in split_sentences(text) if not is_boilerplate(s)]


def _docs(items: Sequence[tuple[str, str, str]], encoder: object) -> list[FamilyDoc]:
    out = []
    for doc_id, lang, text in items:
        sents = _split(text)
        vecs = encoder.encode(sents)  # type: ignore[attr-defined]
        out.append(FamilyDoc(doc_id, lang, text, vecs, sents))
    return out


TEXT = (
    "The minister announced on Monday that the bridge over the river would close for repairs. "
    "Traffic will be diverted through the northern ring road for at least three months. "
    "Engineers found cracks in two of the supporting pillars during a routine inspection."
)


def test_copies_and_unrelated() -> None:
    enc = HashingEncoder()
    a, b, c = _docs(
        [
            ("a", "en", TEXT),
            ("b", "en", TEXT.replace("Monday", "Tuesday") + " More soon."),
            ("c", "en", "Local football club wins the regional cup after a penalty shoot-out."),
        ],
        enc,
    )
    assert same_family(a, b)
    assert not same_family(a, c)
    assert 0.0 <= family_similarity(a, c) < 0.5 <= family_similarity(a, b) <= 1.0
    ff = FamilyFinder()
    assert ff.group([a, b, c]) == {"a": "fam-a", "b": "fam-a", "c": "fam-c"}
    assert ff.assign(c, [(a, "fam-a"), (b, "fam-a")]) is None
    assert ff.assign(b, [(a, "fam-a")]) == "fam-a"


def test_without_vectors_and_empty() -> None:
    a = FamilyDoc("a", "en", TEXT)
    b = FamilyDoc("b", "en", TEXT)
    assert same_family(a, b)
    empty = FamilyDoc("e", "xx", "")
    assert not same_family(a, empty)
    assert FamilyFinder().group([]) == {}


def test_uncovered_language_uses_names_and_numbers() -> None:
    en = FamilyDoc(
        "en",
        "en",
        "Bjartmar Leósson found 120 bikes in Reykjavík for Olga Berger "
        "and Max Winkler on 12 May 2020.",
    )
    is_ = FamilyDoc(
        "is",
        "is",
        "Bjartmar Leósson fann 120 hjól í Reykjavík fyrir Olga Berger og Max Winkler 12. maí 2020.",
    )
    other = FamilyDoc("x", "is", "Ríkisstjórnin samþykkti ný lög um Alþingi og Landspítala í gær.")
    assert same_family(en, is_)
    assert not same_family(en, other)


def _use() -> object:
    try:
        from storyline.represent.encoder import USEEncoder

        enc = USEEncoder()
        enc.encode(["warm up"])
        return enc
    except Exception as exc:  # noqa: BLE001 - any failure to load the model means skip
        pytest.skip(f"multilingual USE encoder unavailable: {exc}")


@pytest.mark.slow
def test_seed_families() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seeds not found at {SEEDS}")
    files = {p.name[:3]: p for p in sorted(SEEDS.glob("*.txt"))}
    langs = {"000": "en", "001": "en", "002": "en", "003": "fr", "004": "fr"}
    items = [(k, langs[k], files[k].read_text(encoding="utf-8")) for k in sorted(files)]
    docs = {d.id: d for d in _docs(items, _use())}
    ff = FamilyFinder()
    assert ff.same(docs["001"], docs["002"])  # one AFP dispatch, one machine-translated
    assert not ff.same(docs["000"], docs["001"])  # shares a quote and a paragraph only
    assert not ff.same(docs["000"], docs["002"])
    assert not ff.same(docs["004"], docs["001"])
    groups = ff.group([docs[k] for k in ("000", "001", "002", "004")])
    assert groups == {"000": "fam-000", "001": "fam-001", "002": "fam-001", "004": "fam-004"}


@pytest.mark.slow
def test_wmt_family_f1() -> None:
    path, gold_path = DATA / "wmt21_dev.jsonl", DATA / "wmt21_dev.gold.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found (shared dev data)")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    gold = {g["id"]: g["event"] for g in map(json.loads, gold_path.open(encoding="utf-8"))}
    items = [(r["id"], r["lang"], f"{r.get('title') or ''}\n{r['text']}".strip()) for r in rows]
    docs = _docs(items, _use())
    pred = FamilyFinder().group(docs)
    from storyline.evaluate.metrics import bcubed, cross_lingual_recall

    langs = {d.id: d.lang for d in docs}
    f1 = bcubed(pred, gold)
    recall = cross_lingual_recall(pred, gold, langs)
    print("family B3", f1, "cross-lingual recall", recall)
    assert f1.f1 >= 0.97 and f1.precision >= 0.98
    assert recall["de-fr"] >= 0.95 and recall["en-ru"] >= 0.95
    assert recall["en-ja"] >= 0.85 and recall["en-is"] >= 0.7


def test_vectors_are_optional_per_doc() -> None:
    v = np.ones((1, 4), dtype=np.float32) / 2
    a = FamilyDoc("a", "fr", "Un texte court.", v, ["Un texte court."])
    b = FamilyDoc("b", "en", "A short text.", None)
    assert 0.0 <= family_similarity(a, b) <= 1.0


def _unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    v = rng.normal(size=(n, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _near(v: np.ndarray, cos: float, rng: np.random.Generator) -> np.ndarray:
    """Unit rows at cosine ``cos`` from the rows of ``v``."""
    noise = rng.normal(size=v.shape)
    noise -= (noise * v).sum(axis=1, keepdims=True) * v
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    return cos * v + np.sqrt(1 - cos**2) * noise


def test_two_reports_in_other_words_are_not_a_family() -> None:
    """Sentences that align but only at report-to-report closeness (cosine ~0.57) make no
    family; at translation closeness (~0.85) they do, in any pair of languages."""
    rng = np.random.default_rng(7)
    base = _unit(rng, 5)
    sents = [f"Sentence number {i} of the text, long enough to weigh." for i in range(5)]
    a = FamilyDoc("a", "en", "x", base, sents)
    report = FamilyDoc("b", "de", "y", _near(base, 0.57, rng), sents)
    translation = FamilyDoc("c", "de", "z", _near(base, 0.85, rng), sents)
    ff = FamilyFinder()
    assert ff.alignment(a, report) > 0.8  # aligned sentence by sentence...
    assert not ff.same(a, report)  # ...but in other words
    assert ff.same(a, translation)
    rewrite = FamilyDoc("d", "en", "w", _near(base, 0.7, rng), sents)
    assert not ff.same(a, rewrite)  # same language: a rewrite keeps sentences closer
    ja = FamilyDoc("e", "ja", "v", _near(base, 0.57, rng), sents)
    assert ff.same(a, ja)  # the encoder aligns Japanese and English less closely


@pytest.mark.slow
def test_mixed_sample_families_are_translations_only() -> None:
    """examples/mixed.jsonl: one English dispatch and its French translation are one family;
    the twelve other texts (independent reports of the Derna floods and the Corfu ferry fire
    in ten languages) are each their own family."""
    ex = Path(__file__).resolve().parents[1] / "examples"
    rows = [json.loads(x) for x in (ex / "mixed.jsonl").open(encoding="utf-8")]
    gold = {g["id"]: g for g in map(json.loads, (ex / "mixed.gold.jsonl").open(encoding="utf-8"))}
    docs = _docs([(r["id"], r["lang"], f"{r.get('title') or ''}\n{r['text']}") for r in rows], _use())
    ff = FamilyFinder()
    pred = {}
    for event in {g["event"] for g in gold.values()}:
        pred.update(ff.group([d for d in docs if gold[d.id]["event"] == event]))
    families = {}
    for k, f in pred.items():
        families.setdefault(f, set()).add(k)
    assert min(map(sorted, families.values())) == ["m01", "m02"]
    assert sum(len(m) > 1 for m in families.values()) == 1


@pytest.mark.slow
def test_meantime_families() -> None:
    """meantime_dev: each Wikinews article and its three translations are one family."""
    path, gold_path = DATA / "meantime_dev.jsonl", DATA / "meantime_dev.gold.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found (shared dev data)")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    gold = {g["id"]: g["event"] for g in map(json.loads, gold_path.open(encoding="utf-8"))}
    docs = _docs([(r["id"], r["lang"], f"{r.get('title') or ''}\n{r['text']}") for r in rows], _use())
    from storyline.evaluate.metrics import bcubed

    assert bcubed(FamilyFinder().group(docs), gold).f1 >= 0.95


def test_known_prefix_gives_the_same_families_and_compares_only_new_docs() -> None:
    """An event's families computed again after members joined: the families of the members
    before them (in the same order) are reused, only the new ones are compared; same result."""
    from storyline.describe.anatomy import FamilyMemo

    enc = HashingEncoder()
    texts = [TEXT, TEXT.replace("Monday", "Tuesday"), "Local football club wins the regional cup.",
             "Local football club wins the regional cup again.", TEXT + " More soon.",
             "Unrelated: a museum opens a new wing for modern art in the old harbour."]
    docs = _docs([(f"d{i}", "en", t) for i, t in enumerate(texts)], enc)
    ff = FamilyFinder()
    full = ff.group(docs)
    assert len(set(full.values())) == 3
    calls: list[tuple[str, str]] = []

    class Counting(FamilyFinder):
        def similarity(self, a, b):  # type: ignore[no-untyped-def]
            calls.append((a.id, b.id))
            return super().similarity(a, b)

    memo = FamilyMemo(min_size=2)
    assert memo.known("ev", [d.id for d in docs]) is None
    memo.remember("ev", [d.id for d in docs[:4]], ff.group(docs[:4]))
    known = memo.known("ev", [d.id for d in docs])
    assert known == ff.group(docs[:4])
    assert Counting().group(docs, known) == full
    assert {a for a, _ in calls} == {"d4", "d5"}  # only the new docs were compared
    assert memo.known("ev", [d.id for d in reversed(docs)]) is None  # another order: all again
    assert memo.known("ev", [d.id for d in docs[:3]]) is None  # fewer members (a split)
    memo.remember("ev", ["d0"], {"d0": "fam-d0"})  # below min_size: forgotten
    assert memo.known("ev", [d.id for d in docs]) is None
