"""Post-processing of a generated dance: low-pass, join smoothing at cue edges, foot lock, beat sync.

The inference side of the library: the pipeline uses these, the training-data code may too, but they
import nothing from `lodge.data` or `lodge.train`.
"""
from .beat_sync import output_frame, sync_to_beats
from .footlock import lock_feet
from .joins import smooth_joins
from .lowpass import lowpass_motion
from .warp import warp_motion

__all__ = ["lock_feet", "lowpass_motion", "output_frame", "smooth_joins", "sync_to_beats", "warp_motion"]
