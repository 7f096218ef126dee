"""``POST /api/similarity``: graded similarity of article pairs, the scores of ``storyline
similarity`` (:class:`~storyline.cluster.similarity.Similarity`, same model, same numbers).

Reads no store and writes nothing, so it answers on read-only servers too. The encoders load
on the first request; ``app.state.similarity`` may hold a ready :class:`Similarity` instead.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from ..cluster.similarity import Pair, Similarity, pair_from_record
from .errors import ApiError
from .routes import ERRORS, ErrorEnvelope
from .state import State

router = APIRouter(prefix="/api", responses=ERRORS)
_LOCK = threading.Lock()  # one scoring at a time: the encoders are not shared across threads


class PairIn(BaseModel):
    """One pair of articles, with the fields of a ``storyline similarity`` input line."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "example": {
                "pair_id": "quake-en-fr",
                "title1": "Earthquake kills hundreds in Morocco",
                "text1": "A powerful earthquake struck Morocco late on Friday ...",
                "lang1": "en",
                "published1": "2023-09-09",
                "title2": "Maroc : un séisme fait des centaines de morts",
                "text2": "Un séisme de magnitude 6,8 a frappé le Maroc ...",
                "lang2": "fr",
                "published2": "2023-09-09",
            }
        },
    )

    pair_id: str | int | None = None
    text1: str | None = None
    text2: str | None = None
    title1: str | None = None
    title2: str | None = None
    lang1: str | None = None
    lang2: str | None = None
    published1: str | None = None
    published2: str | None = None


def similarity_of(request: Request) -> Similarity:
    """The app's :class:`Similarity` (built with the default encoders on first use)."""
    with _LOCK:
        sim = getattr(request.app.state, "similarity", None)
        if sim is None:
            sim = request.app.state.similarity = Similarity()
        return sim


@router.post(
    "/similarity",
    tags=["similarity"],
    responses={413: {"model": ErrorEnvelope, "description": "Body over 5 MB or batch too long"}},
)
def post_similarity(
    payload: PairIn | list[PairIn], request: Request, state: State
) -> dict[str, Any]:
    """Score one pair or a list: 1 = the same event, ~0.67 mostly similar, ~0.33 same topic,
    0 = unrelated (SemEval-2022 Task 8 scale; see ``storyline similarity --help``).

    Pairs without a text on either side are skipped with the reason; scores keep the order.
    """
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > state.max_batch:
        raise ApiError(
            413,
            "payload_too_large",
            f"{len(items)} pairs in one request; at most {state.max_batch}",
        )
    parsed: list[Pair] = []
    skipped = []
    for n, item in enumerate(items):
        try:
            parsed.append(pair_from_record(item.model_dump(exclude_none=True), str(n + 1)))
        except (ValueError, TypeError) as exc:
            skipped.append({"origin": f"request:{n}", "reason": str(exc)})
    sim = similarity_of(request)
    with _LOCK:
        scores = sim.score_pairs(parsed)
    return {
        "scores": [{"pair_id": p.pair_id, "score": s} for p, s in zip(parsed, scores, strict=True)],
        "skipped": skipped,
    }
