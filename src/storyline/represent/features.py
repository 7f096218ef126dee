"""Per-article features used by the scorer: vectors, weighted terms, names and numbers.

One definition of "how alike are two articles" lives here and in ``cluster/scorer.py``; the
clusterer, the family finder and ``storyline similarity`` all use it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..prepare.entities import NOUN_CAPS, german_noun
from ..text import fold, numbers_in, words

_CAP_SPAN = re.compile(
    r"(?:\b[A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁ][\w’'-]+)(?:\s+(?:(?:al|el|de|du|von|van|der|bin|ibn|la|le)[-\s])?"
    r"[A-ZÀ-ÖØ-ÞА-ЯЁ][\w’'-]+)*",
    re.UNICODE,
)
_JA_SPAN = re.compile(r"[\u30A0-\u30FF]{2,}|[\u4E00-\u9FFF]{2,}")


_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-9]\d)(?!\d)")


def lead_years(title: str, raw_text: str, lines: int = 3) -> frozenset[str]:
    """Years written in the title and the first lines (datelines included) of the raw text.

    >>> sorted(lead_years("Quake hits", "PUBLISHED: 7 July 2012\\nA quake hit on Monday."))
    ['2012']
    """
    head = "\n".join([title] + raw_text.splitlines()[:lines])
    return frozenset(_YEAR.findall(unicodedata.normalize("NFKC", head)))


def name_keys(text: str, lang: str) -> set[str]:
    """Cheap cross-lingual name keys: capitalised words (folded), Japanese katakana/kanji runs.

    Words at the very start of a line are kept only when they recur capitalised elsewhere.
    In German every noun is capitalised: words that end like a noun are left out there.

    >>> sorted(name_keys("Das Beben traf am Montag die Region um Oaxaca, sagte Winkler.", "de"))
    ['oaxaca', 'winkler']
    """
    nouns = lang in NOUN_CAPS
    keys: Counter[str] = Counter()
    starts: set[str] = set()
    for line in text.splitlines():
        for m in _CAP_SPAN.finditer(line):
            for tok in re.split(r"[\s-]+", m.group(0)):
                tok = fold(tok).strip("'’")
                if len(tok) < 3 or tok in _NAME_STOP or (nouns and german_noun(tok)):
                    continue
                if m.start() == 0 or line[max(0, m.start() - 2) : m.start()].strip() in {".", "!", "?", "»", '"'}:
                    starts.add(tok)
                else:
                    keys[tok] += 1
    result = {k for k in keys}
    result |= {k for k in starts if k in keys}
    if lang in {"ja", "zh"}:
        result |= set(_JA_SPAN.findall(text))
    return result


_NAME_STOP = frozenset(
    """the this that these those there then when where what which who why how but and for with
    after before while since also however according monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october november
    december les des une dans pour avec mais selon lundi mardi mercredi jeudi vendredi samedi
    dimanche janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
    der die das und mit von ein eine nach wie auch sie wir ich montag dienstag mittwoch
    donnerstag freitag samstag sonntag sonnabend januar februar marz juni juli oktober
    dezember""".split()  # noqa: SIM905
)


@dataclass
class TermCounts:
    """Document frequencies of terms, per language, for IDF weights that follow the corpus."""

    n_docs: Counter[str] = field(default_factory=Counter)
    df: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, lang: str, terms: Iterable[str]) -> None:
        self.n_docs[lang] += 1
        self.df.setdefault(lang, Counter()).update(set(terms))

    def idf(self, lang: str, term: str) -> float:
        n = self.n_docs.get(lang, 0)
        d = self.df.get(lang, Counter()).get(term, 0)
        return math.log((n + 1) / (d + 1)) + 1.0


def terms_of(text: str) -> Counter[str]:
    """Lowercased word and number tokens of a text (no stopword list: IDF takes care of it)."""
    toks = [fold(w) for w in words(text) if len(w) > 1]
    toks += list(numbers_in(text))
    return Counter(toks)


@dataclass(slots=True)  # no per-object __dict__: the clusterer holds many
class ArticleFeatures:
    """What the scorer needs of one article. doc, lead and sents are unit vectors kept as
    float16 (the scorer accumulates in float64); the second vector is float32."""

    id: str
    lang: str
    date: dt.date | None
    doc: np.ndarray
    lead: np.ndarray
    terms: SparseVec  # tf-idf weights, L2-normalised, keyed by term hash
    names: frozenset[str]
    numbers: frozenset[str]
    covered: bool = True  # the encoder was trained on this language
    length: int = 0  # characters of cleaned text
    sents: np.ndarray | None = None  # (n, dim) sentence vectors of the first sentences
    second_text: str = ""  # what a second encoder reads for languages the first does not cover
    second: np.ndarray | None = None  # that second vector, computed lazily
    key: str = ""  # content hash: the cache key of the vectors
    years: frozenset[str] = frozenset()  # years written in the lead and dateline
    published: dt.date | None = None  # publication date (``date`` is the estimated event date)
    n_specific: int = field(init=False, default=0)  # names that are specific entity keys

    def __post_init__(self) -> None:
        self.n_specific = count_specific(self.names)


def count_specific(keys: Iterable[str]) -> int:
    """How many of ``keys`` are specific entity keys: a person's, an organisation's, a city's
    or a place's (``per:…``, ``org:…``, ``city:…``, ``loc:…``), not a country's; capitalised
    words carry no ``:``."""
    return sum(1 for k in keys if ":" in k and not k.startswith("country:"))


SparseVec = tuple[np.ndarray, np.ndarray]  # sorted uint32 term hashes, float32 weights
TERM_ID = np.uint32  # crc32 values


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def tfidf_weights(terms: Counter[str], lang: str, counts: TermCounts, keep: int = 150) -> SparseVec:
    """Sublinear tf × idf, L2-normalised, keeping the ``keep`` strongest terms."""
    # counts.idf(lang, t), inlined (called for every term of every article)
    a, df, log = counts.n_docs.get(lang, 0) + 1, counts.df.get(lang) or {}, math.log
    w = {t: (1.0 + log(c)) * (log(a / (df.get(t, 0) + 1)) + 1.0) for t, c in terms.items()}
    top = sorted(w.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
    norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
    pairs = sorted({term_id(t): v / norm for t, v in top}.items())
    ids = np.fromiter((k for k, _ in pairs), dtype=TERM_ID, count=len(pairs))
    vals = np.fromiter((v for _, v in pairs), dtype=np.float32, count=len(pairs))
    return ids, vals


def sparse_cos(a: SparseVec, b: SparseVec) -> float:
    """Dot product of two L2-normalised sparse vectors (cosine)."""
    _, ia, ib = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    return float(np.dot(a[1][ia], b[1][ib])) if len(ia) else 0.0


def weighted_overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient |a ∩ b| / min(|a|, |b|), 0 when either is empty."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def doc_vector(sent_vecs: np.ndarray, lead_weight: float = 2.0, lead_n: int = 3) -> np.ndarray:
    """Mean of sentence vectors with the first ``lead_n`` sentences weighted up; unit length."""
    if len(sent_vecs) == 0:
        return np.zeros(sent_vecs.shape[1] if sent_vecs.ndim == 2 else 512, dtype=np.float32)
    w = np.ones(len(sent_vecs), dtype=np.float32)
    w[:lead_n] = lead_weight
    v = (sent_vecs * w[:, None]).sum(0)
    n = float(np.linalg.norm(v)) or 1.0
    return (v / n).astype(np.float32)


def lead_text(title: str, sentences: Sequence[str], n: int = 2) -> str:
    """Title plus the first sentences: what a reader sees first."""
    parts = [title] if title else []
    parts += list(sentences[:n])
    return " ".join(parts)[:1000]
