"""The travel speed limit: no dash across the floor, the cue frames where they were."""
import numpy as np
import pytest

from lodge.motion import rest_motion
from lodge.post.travel import MAX_TRAVEL_STEP, limit_travel, limited_steps


def _walk(xs: np.ndarray) -> np.ndarray:
    motion = np.repeat(rest_motion(1), len(xs), axis=0)
    motion[:, 4] = xs
    return motion


def test_a_dash_between_two_cues_becomes_a_run_that_still_arrives():
    xs = np.r_[np.zeros(20), np.full(20, 1.5)].astype(np.float32)  # a 1.5 m jump at frame 20
    xs[15:25] += np.linspace(0, 0.2, 10)  # and some own motion around it
    fixed = np.zeros(40, bool)
    fixed[:4] = fixed[-4:] = True
    out = limit_travel(_walk(xs), fixed)
    steps = np.abs(np.diff(out[:, 4]))
    assert steps.max() <= MAX_TRAVEL_STEP + 1e-5
    np.testing.assert_array_equal(out[fixed], _walk(xs)[fixed])
    np.testing.assert_array_equal(out[:, 5:], _walk(xs)[:, 5:])  # height and pose untouched


def test_motion_under_the_limit_is_left_exactly_as_it_is():
    xs = np.cumsum(np.full(30, 0.08)).astype(np.float32)
    motion = _walk(xs)
    np.testing.assert_array_equal(limit_travel(motion, np.zeros(30, bool)), motion)


def test_cues_too_far_apart_get_the_even_pace_that_joins_them():
    steps = np.zeros((5, 2))
    steps[2, 0] = 1.0  # 1 m in 5 frames: more than the limit allows
    np.testing.assert_allclose(limited_steps(steps, 0.1), np.tile([[0.2, 0.0]], (5, 1)))


def test_limited_steps_keep_their_sum():
    rng = np.random.default_rng(0)
    steps = rng.normal(scale=0.05, size=(40, 2))
    steps[10] = [0.5, -0.3]
    out = limited_steps(steps, 0.1)
    np.testing.assert_allclose(out.sum(0), steps.sum(0), atol=1e-9)
    assert np.linalg.norm(out, axis=-1).max() <= 0.1 + 1e-6


@pytest.mark.parametrize("fixed_end", ["start", "end", "none"])
def test_a_run_with_one_or_no_fixed_end_is_shortened_from_its_fixed_end(fixed_end):
    xs = np.r_[np.zeros(10), np.full(10, 2.0)].astype(np.float32)
    fixed = np.zeros(20, bool)
    if fixed_end == "start":
        fixed[:3] = True
    elif fixed_end == "end":
        fixed[-3:] = True
    out = limit_travel(_walk(xs), fixed)
    assert np.abs(np.diff(out[:, 4])).max() <= MAX_TRAVEL_STEP + 1e-6
    np.testing.assert_array_equal(out[fixed, 4], xs[fixed])
