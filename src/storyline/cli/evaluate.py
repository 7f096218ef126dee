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
    from ..evaluate import (
        error_analysis,
        evaluate,
        format_table,
        load_articles,
        load_gold,
        load_predictions,
    )
    from ..evaluate.shipped import out_of_sample, set_name

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
@click.option(
    "--chunk-size",
    default=256,
    show_default=True,
    type=click.IntRange(min=1),
    help="Pairs read and encoded together; the file is streamed one chunk at a time.",
)
@handle_errors
def similarity(pairs_path: str, out: str | None, chunk_size: int) -> None:
    """Score article pairs on a graded scale from 1 (same event) to 0 (unrelated).

    The score follows the SemEval-2022 Task 8 scale (overall 1 = very similar ... 4 = very
    dissimilar, mapped to 1 ... 0):

    \b
      ~1.0   the same event: translations, two reports of one happening
      ~0.67  mostly similar: the same event told differently, a close follow-up
      ~0.33  somewhat similar: same topic or kind of event, another happening
      ~0.0   unrelated

    When both published1 and published2 are given, a gap of more than two days pulls the
    part of the score above 0.33 down (to nothing after a few weeks): two earthquakes months
    apart are the same topic, not the same event. Without dates only the texts count (names,
    places, numbers, embeddings). Output lines keep the input order; bad lines are reported on
    stderr and skipped (exit code 3). See docs/scorer.md, "Graded similarity".
    """
    from ..cluster.similarity import Pair, Similarity, read_pairs
    from ..errors import InputError

    if pairs_path != "-" and not Path(pairs_path).is_file():
        raise InputError(f"no such file: {pairs_path}")
    skipped = 0
    sim = Similarity(chunk_size=chunk_size)
    with (
        click.open_file(pairs_path, encoding="utf-8", errors="replace") as fh,  # "-" is stdin
        click.open_file(out or "-", "w", encoding="utf-8") as dest,
    ):
        for item, score in sim.stream(read_pairs(fh, pairs_path)):
            if isinstance(item, Pair):
                dest.write(json.dumps({"pair_id": item.pair_id, "score": score}) + "\n")
            else:
                skipped += 1
                echo_skipped(*item)
    if skipped:
        sys.exit(EXIT_SKIPPED)


COMMANDS = (eval_cmd, similarity)
