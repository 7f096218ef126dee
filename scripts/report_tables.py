"""Markdown tables of the shipped models' out-of-sample reports (for docs/scorer.md).

    python scripts/report_tables.py
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src/storyline/data"
NAMES = {"ecbplus_dev": "ECB+ dev", "wmt21_dev": "WMT21 dev", "gva_dev": "gva dev", "meantime_dev": "MEANTIME dev"}


def main() -> None:
    r = json.loads((DATA / "scorer.json").read_text())
    kinds = ["tfidf", "tfidf_7d", "use", "use_7d", "e5", "e5_7d"]
    for how, title in (("grouped_cv", "grouped CV"), ("leave_one_corpus_out", "leave-one-corpus-out")):
        print(f"\n**{title}** (B³ F1, P / R; thresholds chosen on the other sets)\n")
        print("| set | storyline | " + " | ".join(kinds) + " |")
        print("|---|---|" + "---|" * len(kinds))
        for name, label in NAMES.items():
            if name not in r[how]:
                continue
            s = r[how][name]
            base = r.get("baselines", {}).get(name, {}).get(how, {})
            cells = [f"{base[k]['f1']:.3f}" if k in base else "–" for k in kinds]
            print(f"| {label} | **{s['f1']:.3f}** ({s['p']:.3f} / {s['r']:.3f}) | " + " | ".join(cells) + " |")
    print("\n**Translation recall** (share of same-event cross-lingual pairs joined)\n")
    print("| set | grouped CV | leave-one-corpus-out |")
    print("|---|---|---|")
    for name, label in NAMES.items():
        cv = r["grouped_cv"].get(name, {}).get("translation_recall")
        if not cv:
            continue
        lo = r["leave_one_corpus_out"][name]["translation_recall"]
        fmt = lambda d: ", ".join(f"{k} {v:.2f}" for k, v in d.items())
        print(f"| {label} | {fmt(cv)} | {fmt(lo)} |")
    print(f"\nshipped thresholds: join {r['threshold']}, merge {r['merge_threshold']}")
    lk = DATA / "linker.json"
    if lk.exists():
        rep = json.loads(lk.read_text())["report"]["out_of_sample"]
        print("\n**Stories** (B³ F1, P / R)\n")
        print("| | F1 | P | R |\n|---|---|---|---|")
        for k, v in rep["gva_dev"].items():
            print(f"| gva dev, {k.replace('_', ' ')} | {v['f1']:.3f} | {v['p']:.3f} | {v['r']:.3f} |")


if __name__ == "__main__":
    main()
