"""The floor: a dancer that floats or sinks for longer than a moment is put back on it; a short jump keeps
its height, and only the root's height moves."""
import numpy as np

from lodge.constants import ROOT_Y
from lodge.motion import motion_to_joints, rest_motion
from lodge.post.ground import FLOOR_CLEARANCE, stand_on_floor

T = 120


def _lowest(motion: np.ndarray) -> np.ndarray:
    return np.asarray(motion_to_joints(motion))[:, :, 1].min(-1)


def test_a_long_float_or_sink_is_put_back_on_the_floor():
    for offset in (0.25, -0.15):
        motion = rest_motion(T)
        motion[30:90, ROOT_Y] += offset  # two seconds off the floor (or in it)
        fixed = stand_on_floor(motion)
        assert np.abs(_lowest(motion)[45:75]).min() > 0.14
        assert np.abs(_lowest(fixed)[50:70]).max() < 0.015
        assert np.abs(_lowest(fixed)[:15]).max() < 0.02


def test_a_short_jump_keeps_its_height_and_only_the_root_height_moves():
    motion = rest_motion(T)
    motion[60:66, ROOT_Y] += 0.2  # a fifth of a second in the air
    fixed = stand_on_floor(motion)
    assert _lowest(fixed)[60:66].min() > 0.18
    assert np.abs(_lowest(fixed)[:50]).max() < 0.02
    changed = np.abs(fixed - motion).max(0) > 0
    assert changed[ROOT_Y] and changed.sum() == 1
    # standing on the floor already: moved by no more than the clearance
    assert np.abs(stand_on_floor(rest_motion(T))[:, ROOT_Y] - rest_motion(T)[:, ROOT_Y]).max() <= FLOOR_CLEARANCE + 1e-6
    assert stand_on_floor(rest_motion(1)).shape == (1, 139)
