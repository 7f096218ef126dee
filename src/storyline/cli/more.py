"""CLI commands for stories and evaluation (registered on the main group)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from . import DB_HELP, _store, handle_errors


@click.command()
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("--limit", default=30, show_default=True)
@handle_errors
def stories(db: str, limit: int) -> None:
    """List stories: id, span of dates, number of events, headline."""
    from rich.console import Console
    from rich.table import Table

    store = _store(db)
    sts = sorted(store.iter_stories(), key=lambda s: (-len(s.event_ids), s.id))[:limit]
    table = Table()
    for col in ("story", "from", "to", "events", "headline"):
        table.add_column(col, overflow="fold")
    for s in sts:
        table.add_row(s.id, str(s.start or "?"), str(s.end or "?"), str(len(s.event_ids)), s.headline[:100])
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@click.command()
@click.argument("story_id")
@click.option("--db", default="storyline.db", show_default=True, help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@handle_errors
def story(story_id: str, db: str, as_json: bool) -> None:
    """Show a story as a timeline of its events."""
    from ..errors import NotFound
    from ..store.export import story_record

    store = _store(db)
    st = store.get_story(story_id)
    if st is None:
        raise NotFound(f"no story {story_id}")
    rec = story_record(store, st)
    if as_json:
        click.echo(json.dumps(rec, ensure_ascii=False, indent=2))
        return
    click.echo(f"{st.id}  {st.headline}")
    for e in rec["events"]:
        langs = " ".join(f"{k}:{v}" for k, v in e["languages"].items())
        click.echo(f"  {e['date'] or '?':10}  {e['id']}  {e['size']:>3} articles  {langs:12}  {e['headline'][:80]}")


@click.command(name="eval")
@click.argument("articles", type=click.Path(dir_okay=False))
@click.argument("gold", type=click.Path(dir_okay=False))
@click.option("--pred", type=click.Path(dir_okay=False), help="Score this assignment file instead of clustering.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--report", type=click.Path(dir_okay=False), help="Write an error analysis (Markdown).")
@click.option("--db", default=None, help="Cluster into this store (default: a fresh temporary one).")
@handle_errors
def eval_cmd(articles: str, gold: str, pred: str | None, as_json: bool, report: str | None, db: str | None) -> None:
    """Cluster ARTICLES (JSONL) in a fresh store and score against GOLD (B³, pairwise, ARI, AMI)."""
    from ..errors import InputError
    from ..evaluate import (
        error_analysis,
        evaluate,
        format_table,
        load_articles,
        load_gold,
        load_predictions,
    )

    for path in (articles, gold, pred):
        if path and not Path(path).is_file():
            raise InputError(f"no such file: {path}")
    rows = load_articles(articles)
    gold_map = load_gold(gold)
    if pred:
        pred_map = load_predictions(pred)
    else:
        from ..run.pipeline import Pipeline

        with tempfile.TemporaryDirectory() as tmp:
            pipe = Pipeline(db or str(Path(tmp) / "eval.db"))
            rep = pipe.run([articles])
            pred_map = {a.article_id: a.event for a in rep.assignments}
            pipe.store.close()
    langs = {r["id"]: r.get("lang") or "und" for r in rows}
    result = evaluate(pred_map, gold_map, langs)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_table(result))
    if report:
        Path(report).write_text(error_analysis(pred_map, gold_map, {r["id"]: r for r in rows}), encoding="utf-8")


@click.command()
@click.option("--pairs", "pairs_path", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help='JSONL: {"pair_id","text1","text2"} plus optional title1/2, lang1/2, published1/2.')
@click.option("--out", type=click.Path(dir_okay=False), help="Write {pair_id, score} lines here (default: stdout).")
@handle_errors
def similarity(pairs_path: str, out: str | None) -> None:
    """Score article pairs: 1 = the same event, 0 = unrelated."""
    from ..cluster.similarity import Pair, Similarity, read_pairs
    from ..errors import InputError

    if pairs_path != "-" and not Path(pairs_path).is_file():
        raise InputError(f"no such file: {pairs_path}")
    pairs: list[Pair] = []
    skipped = 0
    with click.open_file(pairs_path, encoding="utf-8", errors="replace") as fh:  # "-" is stdin
        for item in read_pairs(fh, pairs_path):
            if isinstance(item, Pair):
                pairs.append(item)
            else:
                skipped += 1
                click.echo(f"storyline: skipped {item[0]}: {item[1]}", err=True)
    scores = Similarity().score_pairs(pairs) if pairs else []
    with click.open_file(out or "-", "w", encoding="utf-8") as dest:
        for p, s in zip(pairs, scores, strict=True):
            dest.write(json.dumps({"pair_id": p.pair_id, "score": s}) + "\n")
    if skipped:
        sys.exit(3)


def register(main: click.Group) -> None:
    for cmd in (stories, story, eval_cmd, similarity):
        main.add_command(cmd)
    try:  # commands that live with their optional parts
        from .extra import register as more

        more(main)
    except ImportError:
        pass
