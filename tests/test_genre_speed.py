"""benchmarks/genre_speed.py: the spreads of log speed and the summary lines."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("genre_speed", ROOT / "benchmarks" / "genre_speed.py")
genre_speed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(genre_speed)


def test_log_spread_is_scale_free_and_zero_for_one_value():
    assert genre_speed.log_spread([0.2, 0.2, 0.2]) == 0.0
    assert genre_speed.log_spread([0.5]) == 0.0
    assert genre_speed.log_spread([0.1, 0.4]) == pytest.approx(np.log(4) / 2)
    assert genre_speed.log_spread([1.0, 4.0]) == pytest.approx(genre_speed.log_spread([0.1, 0.4]))


def test_summary_separates_genre_from_music_spread():
    # two pieces of music, three genres: the genre doubles the speed, the music does not matter
    matrix = np.array([[0.1, 0.2, 0.4], [0.1, 0.2, 0.4]])
    lines = genre_speed.speed_summary(matrix, ["a", "b", "c"], {"a": 0.2, "b": 0.2, "c": 0.8})
    assert lines[0] == "| generated, mean over the music | 0.100 | 0.200 | 0.400 |"
    assert lines[2] == "| ratio | 0.50 | 1.00 | 0.50 |"
    spread = genre_speed.log_spread([0.1, 0.2, 0.4])
    assert lines[-1].startswith(f"spread of log speed across genres: generated {spread:.2f}")
    assert lines[-1].endswith("across the music: generated 0.00")


def test_summary_marks_genres_without_a_reference():
    lines = genre_speed.speed_summary(np.array([[0.3, 0.3]]), ["a", "new"], {"a": 0.3})
    assert lines[1].endswith("| 0.300 | n/a |") and lines[2].endswith("| 1.00 | n/a |")
