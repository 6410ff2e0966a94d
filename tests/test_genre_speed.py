"""benchmarks/genre_speed.py and speed_use.py: the spreads of log speed, the summary lines."""

import numpy as np
import pytest

from fixtures.benchmarks import load_benchmark

genre_speed = load_benchmark("genre_speed")


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


def test_speed_use_summary_compares_every_told_speed_with_the_true_one():
    speed_use = load_benchmark("speed_use")
    lines = speed_use.summary_lines("local", {"true": (0.010, 0.020), "none": (0.011, 0.020), "double": (0.012, 0.030)})
    assert lines[0].endswith("x0 error 0.01000 (1.000 x true), motion 0.02000 (1.000 x true)")
    assert "(1.100 x true)" in lines[1] and lines[2].endswith("motion 0.03000 (1.500 x true)")
