"""Close the seams between a patched network's tokens inside a short clip (a primitive).

A network that un-patches each token's frames on their own (``NetConfig.patch`` > 1 without
``overlap_unpatch``) makes its errors token by token, so two neighbouring frames that belong to
different tokens can disagree far more than frames within one token do. In the global stage this is
worst: a primitive is 8 frames, two tokens of 4, and the shipped `cpu_patched` global network turns
joints by 17-29 degrees (joint steps of 0.12-0.4 m, 4-12 m/s) between frames 3 and 4 of nearly every
primitive, where its neighbours move 1-3 degrees. The low-pass only spreads such a step over three
frames, and cue frames are written into the dance exactly and exempt from every later filter, so the
seam became a one-frame jump of the body inside every cue (0.13 m at global guidance 4).

:func:`close_token_seams` takes out each seam step's excess over the mean of the two steps beside it:
the frames before the seam move by half of it, the frames after it by the other half, so each
token's own motion keeps its shape. It works on the root translation and the 6D rotation numbers
(which every reader turns into rotations by Gram-Schmidt), not on the foot-contact labels.
"""
from __future__ import annotations

import numpy as np

from ..constants import CONTACT_SLICE


def close_token_seams(clip: np.ndarray, patch: int) -> np.ndarray:
    """A copy of ``clip`` (T, 139) whose step across every token seam (between frames ``k * patch - 1``
    and ``k * patch``) is the mean of the steps beside it; ``patch`` <= 1 or a clip of one token
    returns an unchanged copy.

    Each seam's excess is split: the frames before it move by half, the frames after it by the other
    half, in opposite directions. Seams are closed one after another from the first, each moving
    every frame on either side, so a later seam sees the clip the earlier ones left.
    """
    out = np.asarray(clip, dtype=np.float32).copy()
    if patch <= 1 or len(out) <= patch:
        return out
    channels = np.ones(out.shape[-1], bool)
    channels[CONTACT_SLICE] = False
    for seam in range(patch, len(out), patch):
        step = out[seam] - out[seam - 1]
        beside = [out[t + 1] - out[t] for t in (seam - 2, seam) if 0 <= t and t + 1 < len(out)]
        if not beside:
            continue
        excess = (step - np.mean(beside, axis=0))[channels]
        out[:seam, channels] += excess / 2
        out[seam:, channels] -= excess / 2
    return out
