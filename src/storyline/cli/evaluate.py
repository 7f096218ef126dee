"""Commands that measure quality: ``eval`` (events against gold labels), ``similarity`` (pairs)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from .common import (
    EXIT_SKIPPED,
    build_pipeline,
    echo_skipped,
    handle_errors,
    json_option,
    out_option,
)


@click.command(name="eval")
@click.argument("articles", type=click.Path(dir_okay=False))
@click.argument("gold", type=click.Path(dir_okay=False))
@click.option(
    "--pred",
    type=click.Path(dir_okay=False),
    help="Score this assignment file instead of clustering.",
)
@json_option("Print the metrics as JSON.")
@click.option(
    "--report", type=click.Path(dir_okay=False), help="Write an error analysis (Markdown)."
)
@click.option(
    "--db", default=None, help="Cluster into this store (default: a fresh temporary one)."
)
@handle_errors
def eval_cmd(
    articles: str, gold: str, pred: str | None, as_json: bool, report: str | None, db: str | None
) -> None:
    """Cluster ARTICLES (JSONL) in a fresh store and score against GOLD (B³, pairwise, ARI, AMI)."""
    from ..errors import InputError
    from ..evaluate.shipped import out_of_sample, set_name
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
        with tempfile.TemporaryDirectory() as tmp:
            pipe = build_pipeline(db or str(Path(tmp) / "eval.db"))
            rep = pipe.run([articles])
            pred_map = {a.article_id: a.event for a in rep.assignments}
            pipe.store.close()
    langs = {r["id"]: r.get("lang") or "und" for r in rows}
    result = evaluate(pred_map, gold_map, langs)
    held_out = None if pred else out_of_sample(set_name(gold))
    if held_out is not None:
        result["out_of_sample"] = held_out
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(format_table(result))
        if held_out is not None:
            cv, loco = held_out["grouped_cv"], held_out["leave_one_corpus_out"]
            best = held_out["best_baseline"]
            click.echo(
                f"note: the shipped scorer was fitted on {set_name(gold)}, so the figures above are "
                f"in-sample. Out-of-sample B³ F1: grouped CV {cv['f1']:.3f}, leave-one-corpus-out "
                f"{loco['f1']:.3f}; best simple baseline {best.get('grouped_cv')} / "
                f"{best.get('leave_one_corpus_out')} (see docs/scorer.md)."
            )
    if report:
        Path(report).write_text(
            error_analysis(pred_map, gold_map, {r["id"]: r for r in rows}), encoding="utf-8"
        )


@click.command()
@click.option(
    "--pairs",
    "pairs_path",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help='JSONL: {"pair_id","text1","text2"} plus optional title1/2, lang1/2, published1/2.',
)
@out_option("Write {pair_id, score} lines here (default: stdout).")
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
                echo_skipped(*item)
    scores = Similarity().score_pairs(pairs) if pairs else []
    with click.open_file(out or "-", "w", encoding="utf-8") as dest:
        for p, s in zip(pairs, scores, strict=True):
            dest.write(json.dumps({"pair_id": p.pair_id, "score": s}) + "\n")
    if skipped:
        sys.exit(EXIT_SKIPPED)


COMMANDS = (eval_cmd, similarity)
