"""Peak resident memory of one run over each hostile input (beside two good articles).

Each case is a JSONL file ingested by the real ``storyline ingest`` (default encoder, a fresh
store) in a child process; the child's peak RSS is read from ``getrusage``. The baseline is
the same run over the good articles only. Target: every case below 1 GB.

    PYTHONPATH=src python bench/hostile_rss.py [--encoder hashing] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOOD = [
    {"id": "g1", "text": "A magnitude 7.1 earthquake struck central Chile on Monday, killing 12 people.",
     "published": "2024-03-04"},
    {"id": "g2", "text": "Rescue teams in Chile searched the rubble on Tuesday after Monday's earthquake.",
     "published": "2024-03-05"},
]

MB = 1_000_000


def cases() -> dict[str, list[dict[str, object]]]:
    body = "Floods hit the city on Monday. "
    return {
        "baseline": [],
        "title-4MB": [{"id": "t4", "title": "Breaking " * (4 * MB // 9), "text": body}],
        "title-10MB": [{"id": "t10", "title": "x" * (10 * MB), "text": body}],
        "combining-200k": [{"id": "zalgo", "text": "Zalgo " + "\u0301" * 200_000}],
        "base64-147k": [{"id": "b64", "text": body + "QUJDRA1" * 21_000}],
        "one-word-5MB": [{"id": "w5", "text": "a" * (5 * MB)}],
        "cjk-run-200k": [{"id": "cjk", "text": "東京で地震" * 40_000}],
        "sentence-no-stop": [{"id": "ns", "text": "word " * 200_000}],
        "many-lines": [{"id": "nl", "text": "line\n" * 100_000}],
    }


def run_case(name: str, extra: list[dict[str, object]], encoder: str) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / f"{name}.jsonl"
        with open(src, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(rec, ensure_ascii=False) + "\n" for rec in [*GOOD, *extra])
        env = dict(os.environ)
        if encoder == "hashing":
            env["STORYLINE_ENCODER"] = "hashing"
        cmd = [sys.executable, "-m", "storyline", "ingest", str(src), "--db", f"{d}/s.db", "-q"]
        t0 = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
        secs = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # ru_maxrss of children is the largest child so far: run the cases in rising order
        # or read it per case from a fresh interpreter (done below with --only)
        del before
        return peak / 1024, secs, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoder", default="default", choices=["default", "hashing"])
    ap.add_argument("--only")
    args = ap.parse_args()
    if args.only:
        peak, secs, rc = run_case(args.only, cases()[args.only], args.encoder)
        print(json.dumps({"case": args.only, "peak_mb": round(peak), "seconds": round(secs, 1), "exit": rc}))
        return
    for name in cases():  # one interpreter per case: getrusage's children peak is per process
        out = subprocess.run(
            [sys.executable, __file__, "--only", name, "--encoder", args.encoder],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        print(out, flush=True)


if __name__ == "__main__":
    main()
