"""The encoder check: texts in, an (n, dim) float32 array of unit vectors out, the same vector
for a text whatever batch or thread it is encoded in.

The pipeline caches vectors by content hash and by ``encoder.name``, encodes in chunks in a
background thread (or a child process), and compares vectors by dot product: so each promise
below is one the pipeline relies on.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .common import built, expect, label_of, missing_members

#: short texts in several scripts and languages (a multilingual encoder must take them all)
SAMPLE_TEXTS: tuple[str, ...] = (
    "A strong earthquake hit central Chile on Monday, killing twelve people.",
    "Ein starkes Erdbeben hat am Montag Chile erschüttert.",
    "Un fuerte terremoto sacudió el centro de Chile el lunes.",
    "智利中部周一发生强烈地震，造成十二人死亡。",
    "Сильное землетрясение произошло в Чили в понедельник.",
    "زلزال قوي يضرب وسط تشيلي يوم الاثنين",
    "The football club won the national cup final on Saturday.",
    "Talks on the budget resume in Paris. " * 40,  # a long text
)

UNIT_TOLERANCE = 1e-3  # |norm - 1| allowed per row
SAME_VECTOR = 0.999  # cosine above which two encodings of a text count as the same vector


def batch_texts(n: int) -> list[str]:
    """``n`` distinct texts of varied length for the large-batch check."""
    words = ["storm", "election", "court", "market", "vaccine", "strike", "flood", "summit"]
    return [
        f"Report {i}: the {words[i % len(words)]} in region {i % 13} "
        + " ".join(words[(i + k) % len(words)] for k in range(i % 9))
        for i in range(n)
    ]


def check_encoder(encoder: Any, *, batch: int = 64) -> None:
    """Check an :class:`~storyline.represent.base.Encoder` (or a zero-argument factory of one).

    Verifies: ``name`` (non-empty str) and ``dim`` (positive int); ``covers(lang)`` returns a
    bool; ``encode`` of a list (and of a tuple) of texts returns a 2-d ``float32`` array of
    shape ``(n, dim)``, finite, with unit rows; ``encode([])`` has shape ``(0, dim)``; a
    text's vector does not depend on the batch it is in nor on the thread that encodes it,
    and encoding again gives the same vectors; a batch of ``batch`` texts (0: skipped) keeps
    its order. Raises :class:`AssertionError` naming the first broken promise.

    The sample texts all have words; what an encoder makes of a text without any (``""``,
    ``"!!!"``) is not checked.
    """
    with built(encoder, "encode") as enc:
        label = f"encoder {getattr(enc, 'name', None) or label_of(enc)}"
        missing = missing_members(enc, ("name", "dim", "encode", "covers"))
        expect(not missing, label, f"missing members of the Encoder contract: {missing}")
        check_attributes(enc, label)
        texts = list(SAMPLE_TEXTS)
        first = encoded(enc, texts, label, "a list of texts")
        again = encoded(enc, tuple(texts), label, "a tuple of texts (any Sequence[str])")
        expect(
            np.allclose(first, again, atol=1e-4), label,
            "encoding the same texts twice gave different vectors",
        )
        for i, text in enumerate(texts):
            alone = encoded(enc, [text], label, "a single text")[0]
            expect(
                float(alone @ first[i]) >= SAME_VECTOR, label,
                f"text {i} ({text[:30]!r}) encoded alone differs from its row in a batch "
                f"(cosine {float(alone @ first[i]):.4f}): vectors are cached per text, so a "
                "text's vector must not depend on its batch",
            )
        empty = np.asarray(enc.encode([]))
        expect(
            empty.shape == (0, enc.dim), label,
            f"encode([]) returned shape {empty.shape}, expected (0, {enc.dim})",
        )
        check_thread(enc, texts, first, label)
        if batch:
            check_batch(enc, batch, label)


def check_attributes(enc: Any, label: str) -> None:
    """``name``, ``dim`` and ``covers``."""
    expect(isinstance(enc.name, str) and enc.name, label, f"name must be a non-empty str, got {enc.name!r}")
    expect(
        isinstance(enc.dim, int | np.integer) and not isinstance(enc.dim, bool) and enc.dim > 0,
        label, f"dim must be a positive int, got {enc.dim!r}",
    )
    for lang in ("en", "de", "is", "zz"):
        got = enc.covers(lang)
        expect(
            isinstance(got, bool | np.bool_), label,
            f"covers({lang!r}) must return a bool, got {type(got).__name__}",
        )


def encoded(enc: Any, texts: Any, label: str, what: str) -> np.ndarray:
    """``enc.encode(texts)`` after checking type, dtype, shape, finiteness and unit norms."""
    out = enc.encode(texts)
    expect(isinstance(out, np.ndarray), label, f"encode({what}) returned {type(out).__name__}, not a numpy array")
    expect(out.dtype == np.float32, label, f"encode({what}) returned dtype {out.dtype}, expected float32")
    expect(
        out.shape == (len(texts), enc.dim), label,
        f"encode({what}) returned shape {out.shape}, expected ({len(texts)}, {enc.dim})",
    )
    expect(np.isfinite(out).all(), label, f"encode({what}) returned NaN or infinite values")
    norms = np.linalg.norm(out.astype(np.float64), axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > UNIT_TOLERANCE)
    expect(
        not len(bad), label,
        f"encode({what}) rows must be unit vectors (L2 norm 1): row {bad[:1].tolist()} has "
        f"norm {norms[bad[0]] if len(bad) else 1.0:.4f}",
    )
    return out


def check_thread(enc: Any, texts: list[str], expected: np.ndarray, label: str) -> None:
    """The pipeline encodes in a background thread: the vectors must be the same there."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["out"] = enc.encode(texts)
        except Exception as exc:  # noqa: BLE001 - reported below
            box["error"] = exc

    t = threading.Thread(target=work, name="storyline-check-encode")
    t.start()
    t.join()
    expect("error" not in box, label, f"encode failed in another thread: {box.get('error')!r}")
    expect(
        np.allclose(np.asarray(box["out"]), expected, atol=1e-4), label,
        "encode in another thread gave different vectors (the pipeline encodes in a "
        "background thread)",
    )


def check_batch(enc: Any, n: int, label: str) -> None:
    """A batch of ``n`` texts: shape, unit rows, and rows in input order."""
    texts = batch_texts(n)
    out = encoded(enc, texts, label, f"a batch of {n} texts")
    for i in sorted({0, n // 3, n // 2, n - 1}):
        alone = encoded(enc, [texts[i]], label, "a single text")[0]
        expect(
            float(alone @ out[i]) >= SAME_VECTOR, label,
            f"row {i} of a batch of {n} is not the vector of text {i} (cosine "
            f"{float(alone @ out[i]):.4f}): rows must follow the input order",
        )
