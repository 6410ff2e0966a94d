"""The generation as composable stages: music -> plan -> global -> local -> post.

:class:`lodge.pipeline.LodgePipeline` is a short composition of these; the EDGE-style baseline
(:mod:`lodge.evaluate.baselines`) and edit operations reuse them. Each stage takes the models it
needs as ``models`` (anything with the attributes of :class:`StageModels`; a ``LodgePipeline`` is
one), its inputs as arrays or a small dataclass, and the request as
:class:`lodge.sampling.SamplingOptions`:

* :mod:`.music`: decode / analyse the music, cut it to ``duration``, normalise and pad it.
* :mod:`.plan`: where the primitives go (:func:`lodge.primitives.plan_primitives` with the options'
  beat alignment), which are placed in the dance, and the motion of each.
* :mod:`.global_stage`: the 13 primitives of every window, all windows in one batch; a genre per
  window, and chosen primitives held fixed (inpainted) while the others are re-sampled.
* :mod:`.local_stage`: the 256-frame segments, all (or chosen ones) in one batch, steered by the cues
  the primitives make; a genre per segment.
* :mod:`.post`: join smoothing and foot lock (on the whole song or a stretch of it), then the
  finished :class:`lodge.dance.Dance` (cut to the song, beat sync).
"""
from .base import StageModels, StageProgress, resolve_options
from .global_stage import GlobalInputs, GlobalResult, chain_windows, sample_global
from .local_stage import LocalInputs, LocalResult, SegmentCues, fit_cues, sample_local, sample_segments, segment_cues
from .music import cut_features, normalised_music, prepare_music
from .plan import cue_motion, hard_cue, placed_primitives, plan_song
from .post import finish_dance, post_process

__all__ = [
    "GlobalInputs", "GlobalResult", "LocalInputs", "LocalResult", "SegmentCues", "StageModels", "StageProgress",
    "chain_windows", "cue_motion", "cut_features", "finish_dance", "fit_cues", "hard_cue", "normalised_music",
    "placed_primitives", "plan_song", "post_process", "prepare_music", "resolve_options", "sample_global",
    "sample_local", "sample_segments", "segment_cues",
]
