"""Command-line options of `python -m lodge evaluate` (no heavy imports: the CLI builds its parser from this)."""
from __future__ import annotations

import argparse

from ..sampling import DEFAULT_DDIM_STEPS

DEFAULT_OVERLAP = 128  # lodge.evaluate.baselines.DEFAULT_OVERLAP (half a 256-frame window, as EDGE)
PAPER_DDPM_STEPS = 1000  # the DDPM row's default: the paper's whole 1000-step chain


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `evaluate` subcommand's options."""
    parser.add_argument("--data", required=True, help="corpus directory (items/ + split.json)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint directory (default: shipped weights)")
    parser.add_argument("--split", default="test", help="which side of split.json to evaluate (default test)")
    parser.add_argument("--steps", type=int, default=DEFAULT_DDIM_STEPS, help=f"DDIM steps (default {DEFAULT_DDIM_STEPS})")
    parser.add_argument("--ddpm-steps", type=int, default=PAPER_DDPM_STEPS,
                        help="DDPM iterations (default the paper's 1000; fewer respaces the chain, e.g. for CPU)")
    parser.add_argument("--seconds", type=float, default=None, help="cut each item to its first N seconds")
    parser.add_argument("--official", action="store_true", help="metrics with the official scripts' behaviour")
    parser.add_argument("--ablations", action="store_true", help="also the ablation rows")
    parser.add_argument("--out", default="outputs/evaluate", help="directory for results.md and results.json")
    parser.add_argument("--limit", type=int, default=None, help="only K items, evenly spread over the split")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP, help="EDGE-style baseline window overlap")
    parser.add_argument("--freeze-seconds", type=float, default=180.0, help="length of the never-freezes song")
    parser.add_argument("--check-items", type=int, default=4, help="items used by the genre-matters check")
    parser.add_argument("--no-checks", dest="checks", action="store_false", help="skip the acceptance checks")
    parser.add_argument("--songs", nargs="+", default=[], metavar="PATH=GENRE",
                        help="full-length songs for the realism table, each PATH=GENRE (GENRE 'all': every genre "
                             "of the model); 'default': the examples under their genres and the corpus' held-out "
                             "test song in every genre")
    parser.add_argument("--realism-only", action="store_true",
                        help="only the realism tables: generate the Lodge row (default settings), skip Table 1 "
                             "and the acceptance checks")
    parser.add_argument("--per-genre", type=int, default=None, metavar="K",
                        help="only K items of each genre, evenly spread within it (0: no items, songs only)")
    parser.add_argument("--reference", default=None,
                        help="real-dancer realism reference JSON (default: the one shipped in lodge/metrics)")
