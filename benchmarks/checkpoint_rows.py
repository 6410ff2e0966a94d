"""What the per-genre diagnostics share: their command line and the test split they dance.

``speed_tail.py`` and ``root_travel.py`` each dance the first test items of every genre with one or
more checkpoints and print one row per genre and checkpoint.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install needed

from lodge.data.dataset import CorpusItem, load_corpus  # noqa: E402
from lodge.pipeline import DEFAULT_CHECKPOINT, LodgePipeline  # noqa: E402


def parse_args(description: str) -> argparse.Namespace:
    """--data, --checkpoint (one row each; default: the shipped weights), --genres, --items and --seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", required=True, help="a built corpus (its test split is used)")
    parser.add_argument("--checkpoint", nargs="+", default=[str(DEFAULT_CHECKPOINT)], help="one row per checkpoint")
    parser.add_argument("--genres", nargs="+", default=None, help="default: every genre of the test split")
    parser.add_argument("--items", type=int, default=3, help="test items danced per genre")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def split_and_pipelines(args: argparse.Namespace) -> tuple[list[CorpusItem], list[str], dict[str, LodgePipeline]]:
    """The test split's items, the genres asked for (default: all of the split's) and a loaded
    pipeline per checkpoint."""
    items = load_corpus(args.data, "test")
    genres = args.genres or sorted({it.genre for it in items})
    pipes = {path: LodgePipeline.from_pretrained(path, device="cpu") for path in args.checkpoint}
    return items, genres, pipes
