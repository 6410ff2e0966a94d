"""Take the frame-to-frame noise off generated motion: a Gaussian low-pass over time.

A small local network that outputs several frames per token makes its errors token by token: the
sampled joints carry a high-frequency judder on top of the dance (on the `cpu_patched` networks,
joint speed two to five times real, with the largest steps between tokens). Real motion has little
there: under this filter with the default sigma the CMU dancers keep 93-95 % of their mean joint
speed (every genre), while the judder of a generated dance roughly halves. The pose spread does not
change.

The horizontal root gets a wider Gaussian: its judder is the largest in metres (the `cpu_patched`
networks' root travels at about 5 m/s frame to frame, real dancers' at 0.2-0.5), and real travel is
slow. The filter runs on the root translation and the joint rotations' 6D numbers (which every
reader turns into a rotation by Gram-Schmidt, as it does the network's own output), not on the
foot-contact labels; a dimension that is constant stays so. Before them (before join smoothing too, in the
pipeline: :func:`despike_motion`), two kinds of spike
that a Gaussian would only smear over their neighbours are taken out, each rebuilt from the
median-filtered steps around it: the root's path around a step of more than 0.2 m (the local network
can put the dancer a metre away for a frame or two beside a cue), and the pelvis' orientation around
a turn of more than 40 degrees in one frame (it can flip the body by a half turn). With both, the
CMU dancers keep 93-95 % of their joint speed and 95 % of their travel speed, and their heading
snaps stay as they are; on the example songs the largest one-frame root step falls from 0.10-0.35 m
to 0.08-0.12 m and the largest one-frame body turn from 144 to 19 degrees. Cue frames are exempt, so
the global stage makes its primitives face one way first (:func:`face_one_way`). Frames the sampler wrote
exactly (the hard and soft cue frames) keep their values; the pipeline filters after join smoothing
(:mod:`lodge.post.joins`), which closes the gaps at the cue edges first: filtered, a gap would be
smeared over the frames beside it.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter
from scipy.spatial.transform import Rotation

from ..constants import CONTACT_SLICE, HARD_GUIDE, ROOT_X, ROOT_Z, ROT_DIM, ROT_SLICE
from ..rotations import matrix_to_rotation_6d, rotation_6d_to_matrix
from .joins import free_runs

LOWPASS_SIGMA = 1.0  # frames at 30 fps: -3 dB near 4 Hz, half amplitude near 5.6 Hz
ROOT_LOWPASS_SIGMA = 2.0  # the horizontal root: real dancers keep 94-98 % of their travel speed under it
# Spikes that a Gaussian would only smear over their neighbours are rebuilt first, from the
# median-filtered frame-to-frame steps, out to SPIKE_REACH frames around each: a root step longer than
# ROOT_SPIKE_M (the CMU dancers' longest is 0.084 m; the local network can put the dancer a metre away
# for a frame or two beside a cue, and a frame-to-frame judder of 5-10 cm is the Gaussian's to take)
# and a pelvis turn faster than SPIKE_DEGREES (theirs: 47 at most, 99.99 % under 33; the network flips
# the body by 80-170). Only around spikes: rebuilding whole runs would let the median's small errors
# add up to a drift.
ROOT_SPIKE_M = 0.2
SPIKE_DEGREES = 40.0
SPIKE_REACH = 6
SPIKE_MEDIAN_STEPS = 2 * HARD_GUIDE - 1  # odd, and short enough that a stretch between hard cues filters as within the song


def lowpass_motion(motion: np.ndarray, fixed: np.ndarray | None = None, sigma: float = LOWPASS_SIGMA,
                   root_sigma: float = ROOT_LOWPASS_SIGMA) -> np.ndarray:
    """A copy of ``motion`` (T, 139) filtered over time with a Gaussian of ``sigma`` frames (the
    horizontal root with one of ``root_sigma`` frames).

    Args:
        motion: Lodge motion (contacts, root translation, 6D rotations).
        fixed: optional (T,) bool, frames to leave exactly as they are (cue frames).
        sigma: the Gaussian's standard deviation in frames; 0 (and ``root_sigma`` 0) returns an
            unchanged copy.
        root_sigma: the same for the horizontal root (x, z), whose judder is the largest in metres.
    """
    motion = np.asarray(motion, dtype=np.float32)
    out = motion.copy()
    if (sigma <= 0 and root_sigma <= 0) or len(motion) < 2:
        return out
    # The kernels reach HARD_GUIDE frames at most: a stretch that starts and ends with its segments'
    # hard-cue frames then filters exactly as it does within the whole song (edits filter stretches).
    smooth = lambda x, s: gaussian_filter1d(x, s, axis=0, mode="nearest", radius=HARD_GUIDE)  # noqa: E731
    keep = np.zeros(len(motion), bool) if fixed is None else np.asarray(fixed, bool)
    filtered = smooth(motion, sigma) if sigma > 0 else motion.copy()
    horizontal = [ROOT_X, ROOT_Z]
    filtered[:, horizontal] = smooth(motion[:, horizontal], root_sigma) if root_sigma > 0 else motion[:, horizontal]
    filtered[:, CONTACT_SLICE] = motion[:, CONTACT_SLICE]
    out[~keep] = filtered[~keep]
    return out


def despike_motion(motion: np.ndarray, fixed: np.ndarray | None = None) -> np.ndarray:
    """A copy of ``motion`` (T, 139) with the spikes of its horizontal root (:func:`despiked_root`) and of
    the pelvis' orientation (:func:`despiked_rotations`) taken out; ``fixed`` frames stay as they are.
    The pipeline runs it before join smoothing, which would take a spike beside a cue for the gap to
    close and move the whole run by it."""
    motion = np.asarray(motion, dtype=np.float32)
    out = motion.copy()
    if len(motion) < 3:
        return out
    keep = np.zeros(len(motion), bool) if fixed is None else np.asarray(fixed, bool)
    horizontal = [ROOT_X, ROOT_Z]
    out[:, horizontal] = despiked_root(motion[:, horizontal], keep).astype(np.float32)
    pelvis = slice(ROT_SLICE.start, ROT_SLICE.start + ROT_DIM)
    matrices = np.asarray(rotation_6d_to_matrix(motion[:, pelvis].astype(np.float64)))
    despiked = despiked_rotations(matrices, keep)
    changed = np.abs(despiked - matrices).max(axis=(-1, -2)) > 0
    out[changed, pelvis] = np.asarray(matrix_to_rotation_6d(despiked[changed]), np.float32)
    out[keep] = motion[keep]
    return out


def face_one_way(clip: np.ndarray) -> np.ndarray:
    """A copy of a short clip (T, 139), a primitive, whose pelvis never turns faster than
    :data:`SPIKE_DEGREES` in one frame: at every faster turn, the frames on the shorter side of it are
    turned with it, so the clip faces one way throughout and keeps its pose.

    The global network sometimes turns a primitive by a half turn between two of its 8 frames (in 2 %
    of them after 6.6 h of training), which no dancer can. Imposed as a cue, such a primitive put the
    flip into the dance (cue frames are exempt from :func:`despike_motion`), and its joints' speed made
    the primitive energy of a genre ten times real. Which way the clip faces does not matter: the
    soft-cue fit turns each primitive to where the dancer faces."""
    out = np.asarray(clip, dtype=np.float32).copy()
    if len(out) < 2:
        return out
    pelvis = slice(ROT_SLICE.start, ROT_SLICE.start + ROT_DIM)
    rot = np.asarray(rotation_6d_to_matrix(out[:, pelvis].astype(np.float64)))
    limit, turned = np.radians(SPIKE_DEGREES), False
    for t in range(len(rot) - 1):
        jump = rot[t + 1] @ rot[t].T
        if np.linalg.norm(Rotation.from_matrix(jump).as_rotvec()) <= limit:
            continue
        if t + 1 <= len(rot) - t - 1:  # fewer frames before the turn: they turn with it
            rot[:t + 1] = jump @ rot[:t + 1]
        else:
            rot[t + 1:] = jump.T @ rot[t + 1:]
        turned = True
    if turned:
        out[:, pelvis] = np.asarray(matrix_to_rotation_6d(rot), np.float32)
    return out


def _spike_free(steps: np.ndarray, limit: float, fixed: np.ndarray) -> np.ndarray | None:
    """(T,) frames to keep as they are: the fixed ones and those farther than :data:`SPIKE_REACH` from a
    step (of the (T - 1, k) ``steps``) longer than ``limit``; None when there is no such step."""
    spikes = np.flatnonzero(np.linalg.norm(steps, axis=-1) > limit)
    if len(spikes) == 0:
        return None
    near = np.zeros(len(steps) + 1, bool)
    for t in spikes:
        near[max(0, t - SPIKE_REACH + 1): t + SPIKE_REACH + 1] = True
    return np.asarray(fixed, bool) | ~near


def despiked_root(root: np.ndarray, fixed: np.ndarray, steps: int = SPIKE_MEDIAN_STEPS) -> np.ndarray:
    """(T, 2) horizontal root path with its spikes taken out: around every step longer than
    :data:`ROOT_SPIKE_M` (fixed frames excepted), the path is rebuilt from the median-filtered steps,
    on from the frame before, and the gap this leaves at the frame after is spread linearly over the
    stretch, so a jump becomes a walk and the frames around keep their places."""
    root = np.asarray(root, np.float64)
    n = len(root)
    if n < 3:
        return root.copy()
    step = np.diff(root, axis=0)
    anchored = _spike_free(step, ROOT_SPIKE_M, fixed)
    if anchored is None:
        return root.copy()
    step = median_filter(step, size=(steps, 1), mode="nearest")
    out = root.copy()
    for a, b in free_runs(anchored):
        if a > 0:
            path = root[a - 1] + np.cumsum(step[a - 1:b - 1], axis=0)
            if b < n:
                gap = root[b] - (path[-1] + step[b - 1])
                path += (np.arange(1, b - a + 1) / (b - a + 1))[:, None] * gap
        elif b < n:
            path = root[b] - np.cumsum(step[a:b][::-1], axis=0)[::-1]
        else:  # never: a spike leaves anchored frames around it
            continue
        out[a:b] = path
    return out


def despiked_rotations(matrices: np.ndarray, fixed: np.ndarray, steps: int = SPIKE_MEDIAN_STEPS) -> np.ndarray:
    """(T, 3, 3) rotations with their spikes taken out: around every turn faster than
    :data:`SPIKE_DEGREES` in one frame (out to :data:`SPIKE_REACH` frames, fixed frames excepted), the
    rotations are rebuilt from the median-filtered frame-to-frame turns, as :func:`despiked_root`
    rebuilds a path: on from the frame before, the rotation left over at the frame after spread over
    the stretch. The local network sometimes turns the whole body by a half turn for a frame or two;
    real turns, spins included, are continuous and stay as they are."""
    matrices = np.asarray(matrices, np.float64)
    n = len(matrices)
    if n < 3:
        return matrices.copy()
    rots = Rotation.from_matrix(matrices)
    turn = (rots[1:] * rots[:-1].inv()).as_rotvec()  # world-frame turn from frame t to t + 1
    anchored = _spike_free(turn, np.radians(SPIKE_DEGREES), fixed)
    if anchored is None:
        return matrices.copy()
    turn = median_filter(turn, size=(steps, 1), mode="nearest")
    out = matrices.copy()
    for a, b in free_runs(anchored):
        if a > 0:
            path = [rots[a - 1]]
            for t in range(a - 1, b - 1):
                path.append(Rotation.from_rotvec(turn[t]) * path[-1])
            path = Rotation.concatenate(path[1:])
            if b < n:
                gap = (rots[b] * (Rotation.from_rotvec(turn[b - 1]) * path[-1]).inv()).as_rotvec()
                share = np.arange(1, b - a + 1) / (b - a + 1)
                path = Rotation.from_rotvec(share[:, None] * gap[None]) * path
        elif b < n:
            path = [rots[b]]
            for t in range(b - 1, a - 1, -1):
                path.append(Rotation.from_rotvec(turn[t]).inv() * path[-1])
            path = Rotation.concatenate(path[1:][::-1])
        else:  # never: a spike leaves anchored frames around it
            continue
        out[a:b] = path.as_matrix()
    return out
