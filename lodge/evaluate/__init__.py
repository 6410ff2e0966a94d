"""Evaluation of Lodge against its baselines and ablations: `python -m lodge evaluate`.

`evaluate(EvalSettings(data=...))` generates a dance for every test item (its own music and genre)
with each row's method, scores the rows with :mod:`lodge.metrics` against the items' own motion, runs
the acceptance checks (beats, feet, no freezing, genre), and writes ``results.md`` and ``results.json``.

Before Table 1 comes the realism table: the Lodge row's dances per genre against the real dancers of
that genre, on the test items and (``--songs``) on full-length songs; ``--realism-only`` runs just that.

Modules: ``args`` (CLI options), ``data`` (test items as inputs), ``rows`` (what each table row
generates and its scores), ``realism`` (the realism table), ``songs`` (full-length songs and their
genres), ``checks`` (the acceptance checks), ``report`` (markdown / JSON), ``run`` (the whole
evaluation). Names are imported lazily so that building the CLI parser stays cheap.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "add_arguments": "args", "EvalSettings": "run", "evaluate": "run", "settings_from_args": "run",
    "RowSpec": "rows", "METRICS": "rows", "table_rows": "rows", "features_from_music": "data",
    "cut_item": "data", "looped_song": "data", "freeze_check": "checks", "genre_check": "checks",
    "ratio_check": "checks", "markdown": "report", "write_report": "report",
    "realism_table": "realism", "item_realism": "realism", "song_realism": "realism", "parse_songs": "songs",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
