"""Properties (hypothesis): random text never crashes preparing, reading or clustering; the
store gives back exactly what it was given; ingesting the same articles again changes nothing.

The hashing encoder keeps every example fast; ``max_examples`` is modest so the module runs in
seconds. The example-based round trips live in ``test_store_contract.py``; here the values are
random (any unicode, NUL, emoji, right-to-left text, odd floats and dates).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import string
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyline.ingest import Skip, read_inputs
from storyline.ingest.jsonl import article_from_record, read_jsonl_lines
from storyline.ingest.text import parse_text_article
from storyline.model import Article, Processed
from storyline.prepare.article import prepare
from storyline.prepare.clean import RepeatedLineFilter
from storyline.represent.encoder import HashingEncoder
from storyline.run.pipeline import Pipeline
from storyline.store.sqlite import SQLiteStore

FAST = settings(
    max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
FEW = settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

# any unicode that can be UTF-8 (surrogates are excluded by hypothesis' default alphabet)
texts = st.text(max_size=400)
# text that reads a little like news, mixed with arbitrary characters
WORDS = ["earthquake", "Chile", "séisme", "Erdbeben", "地震", "землетрясение", "زلزال", "Talca",
         "Monday", "12", "killed", "officials", "said", "the", "in", ".", ",", "\n", "🎉"]  # fmt: skip
newsy = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=60).map(" ".join)
langs = st.one_of(
    st.none(), st.sampled_from(["en", "fr", "de", "ja", "xx", "", "und"]), st.text(max_size=5)
)
dates = st.one_of(st.none(), st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
ids = st.text(alphabet=string.ascii_letters + string.digits + "-_./:é日", min_size=1, max_size=20)
any_text = st.text(alphabet=st.characters(), max_size=200)  # with lone surrogates


def articles(id_strategy: st.SearchStrategy[str] = ids) -> st.SearchStrategy[Article]:
    return st.builds(
        Article, id=id_strategy, text=st.one_of(newsy, texts), title=st.one_of(st.none(), texts),
        lang=langs, published=dates, source=st.one_of(st.none(), st.sampled_from(["A", "B"])),
        url=st.one_of(st.none(), texts), origin=st.one_of(st.none(), texts),
        published_precision=st.sampled_from(["day", "month", "year"]),
    )  # fmt: skip


def pipeline(db: str = ":memory:") -> Pipeline:
    return Pipeline(db, encoder=HashingEncoder(), second=False)


# -- random text never crashes ---------------------------------------------------------------
@FAST
@given(article=articles())
def test_prepare_never_crashes(article: Article) -> None:
    p = prepare(article, RepeatedLineFilter())
    assert p.id == article.id and isinstance(p.lang, str) and p.lang
    assert isinstance(p.clean_text, str) and all(isinstance(s, str) for s in p.sentences)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=10,
)
records = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            k: st.one_of(any_text, newsy, json_values)
            for k in (
                "id",
                "text",
                "body",
                "content",
                "title",
                "lang",
                "published",
                "source",
                "url",
            )
        },
    ),
)


@FAST
@given(record=records)
def test_any_json_value_is_an_article_or_a_skip(record: object) -> None:
    """Whatever a JSONL line decodes to, the reader answers an Article or a Skip; an Article
    can be hashed and stored (lone surrogates from ``\\ud83d`` escapes are replaced)."""
    got = article_from_record(record, "in.jsonl:1")
    assert isinstance(got, Article | Skip)
    if isinstance(got, Article):
        assert got.text.strip() and got.hash
        for value in (got.id, got.text, got.title, got.lang, got.source, got.url):
            if value is not None:
                value.encode("utf-8")
    else:
        assert got.origin == "in.jsonl:1" and got.reason


@FAST
@given(raw=st.lists(st.one_of(any_text, records.map(json.dumps)), max_size=6))
def test_any_jsonl_lines_never_crash(raw: list[str]) -> None:
    items = list(read_jsonl_lines(raw, "in.jsonl"))
    assert all(isinstance(x, Article | Skip) for x in items)
    assert len(items) <= len(raw)


@FAST
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".txt", ".jsonl", ".html", ".rss"]))
def test_any_bytes_in_any_file_never_crash(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x" + suffix)
        with open(path, "wb") as fh:
            fh.write(data)
        items = list(read_inputs([path]))
    assert all(isinstance(x, Article | Skip) for x in items)
    for x in items:
        if isinstance(x, Skip):
            assert x.origin.startswith(path)
        else:
            x.text.encode("utf-8")


@FAST
@given(raw=texts)
def test_any_text_file_content_never_crashes(raw: str) -> None:
    got = parse_text_article(raw, "x", "x.txt")
    assert isinstance(got, Article | Skip)


@FEW
@given(batch=st.lists(articles(), min_size=1, max_size=8, unique_by=lambda a: a.id))
def test_clustering_random_articles_never_crashes(batch: list[Article]) -> None:
    pipe = pipeline()
    report = pipe.run(batch)
    usable = [a for a in batch if a.text.strip()]
    assert report.new + len(report.skipped) >= len(usable)
    for a in report.assignments:
        ev = pipe.store.get_event(a.event)
        assert ev is not None and a.article_id in ev.article_ids
    assert {a.article_id for a in report.assignments} == {
        a.id for a in batch if pipe.store.has_article(a.id)
    }


@FEW
@given(recs=st.lists(records, min_size=1, max_size=6))
def test_clustering_random_json_records_never_crashes(recs: list[object]) -> None:
    """From JSON to events: the path the CLI and the HTTP API take."""
    items = [article_from_record(r, f"in:{n}") for n, r in enumerate(recs)]
    pipe = pipeline()
    report = pipe.run(items)
    n_articles = len({x.id for x in items if isinstance(x, Article)})
    assert len(report.assignments) == n_articles == pipe.store.count_articles()


# -- the store gives back exactly what it was given -----------------------------------------
entity = st.tuples(texts, st.sampled_from(["PER", "LOC", "ORG", "MISC"]), texts)
processed = st.builds(
    Processed, article=articles(st.text(min_size=1, max_size=30)), clean_text=texts,
    lang=st.text(min_size=1, max_size=8), lang_confidence=st.floats(0.0, 1.0),
    event_date=dates, event_date_source=st.one_of(st.none(), texts), title=texts,
    sentences=st.lists(texts, max_size=5), entities=st.lists(entity, max_size=5),
)  # fmt: skip


@FAST
@given(items=st.lists(processed, min_size=1, max_size=5, unique_by=lambda p: p.id))
def test_store_round_trips_processed_articles_exactly(items: list[Processed]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.db")
        with SQLiteStore(path) as store:
            for p in items:
                assert store.add_article(p) is True
        with SQLiteStore(path) as store:  # a fresh connection reads what was committed
            for p in items:
                assert store.get_article(p.id) == p
            assert list(store.iter_articles()) == items
            assert list(store.iter_articles([p.id for p in reversed(items)])) == items


# -- ingesting again is idempotent -----------------------------------------------------------
@FEW
@given(batch=st.lists(articles(), min_size=1, max_size=8, unique_by=lambda a: a.id))
def test_ingesting_twice_adds_nothing_and_keeps_assignments(batch: list[Article]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "s.db")
        pipe = pipeline(db)
        first = pipe.run(batch)
        before = {a.article_id: a for a in pipe.store.iter_assignments()}
        again = pipe.run(batch)
        assert again.new == 0 and again.known == len(before)
        assert {a.article_id: a for a in pipe.store.iter_assignments()} == before
        assert [a.article_id for a in again.assignments] == [
            a.article_id for a in first.assignments
        ]
        pipe.store.close()
        reopened = pipeline(db)  # a later process, same store
        third = reopened.run(batch)
        assert third.new == 0
        assert {a.article_id: a for a in reopened.store.iter_assignments()} == before
        reopened.store.close()
