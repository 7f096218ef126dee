"""Evaluation: clustering metrics, labelled-data loaders, reports and error analysis.

>>> from storyline.evaluate import bcubed
>>> bcubed({"a": "1", "b": "1"}, {"a": "x", "b": "y"}).precision
0.5
"""

from __future__ import annotations

from .datasets import load_articles, load_dataset, load_gold, load_predictions, shared_data_dir
from .metrics import (
    PRF,
    ClusterStats,
    ami,
    ari,
    bcubed,
    cluster_stats,
    cross_lingual_recall,
    pairwise,
    per_language,
)
from .report import error_analysis, evaluate, format_table

__all__ = [
    "PRF",
    "ClusterStats",
    "ami",
    "ari",
    "bcubed",
    "cluster_stats",
    "cross_lingual_recall",
    "error_analysis",
    "evaluate",
    "format_table",
    "load_articles",
    "load_dataset",
    "load_gold",
    "load_predictions",
    "pairwise",
    "per_language",
    "shared_data_dir",
]
