"""Take the frame-to-frame noise off generated motion: a Gaussian low-pass over time.

A small local network that outputs several frames per token makes its errors token by token: the
sampled joints carry a high-frequency judder on top of the dance (on the `cpu_patched` networks,
joint speed two to five times real, with the largest steps between tokens). Real motion has little
there: under this filter with the default sigma the CMU dancers keep 93-96 % of their mean joint
speed (every genre), while the judder of a generated dance roughly halves. The pose spread does not
change.

The horizontal root gets a wider Gaussian: its judder is the largest in metres (the `cpu_patched`
networks' root travels at about 5 m/s frame to frame, real dancers' at 0.2-0.5), and real travel is
slow. The filter runs on the root translation and the joint rotations' 6D numbers (which every
reader turns into a rotation by Gram-Schmidt, as it does the network's own output), not on the
foot-contact labels; a dimension that is constant stays so. Frames the sampler wrote exactly (the
hard and soft cue frames) keep their values; the pipeline filters after join smoothing
(:mod:`lodge.post.joins`), which closes the gaps at the cue edges first: filtered, a gap would be
smeared over the frames beside it.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..constants import CONTACT_SLICE, HARD_GUIDE, ROOT_X, ROOT_Z

LOWPASS_SIGMA = 1.0  # frames at 30 fps: -3 dB near 4 Hz, half amplitude near 5.6 Hz
ROOT_LOWPASS_SIGMA = 2.0  # the horizontal root: real dancers keep 94-98 % of their travel speed under it


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
    filtered = smooth(motion, sigma) if sigma > 0 else motion.copy()
    horizontal = [ROOT_X, ROOT_Z]
    filtered[:, horizontal] = smooth(motion[:, horizontal], root_sigma) if root_sigma > 0 else motion[:, horizontal]
    filtered[:, CONTACT_SLICE] = motion[:, CONTACT_SLICE]
    keep = np.zeros(len(motion), bool) if fixed is None else np.asarray(fixed, bool)
    out[~keep] = filtered[~keep]
    return out
