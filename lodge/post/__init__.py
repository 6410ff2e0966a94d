"""Post-processing of a generated dance: token seams in primitives, join smoothing at cue edges, travel speed limit, low-pass, floor, foot lock, beat sync.

The inference side of the library: the pipeline uses these, the training-data code may too, but they
import nothing from `lodge.data` or `lodge.train`.
"""
from .beat_sync import output_frame, sync_to_beats
from .footlock import lock_feet
from .ground import ground_primitives, stand_on_floor
from .joins import smooth_joins
from .lowpass import despike_motion, face_one_way, lowpass_motion
from .seams import close_token_seams
from .travel import limit_travel
from .warp import warp_motion

__all__ = ["close_token_seams", "despike_motion", "face_one_way", "ground_primitives", "limit_travel", "lock_feet", "lowpass_motion", "output_frame", "smooth_joins", "stand_on_floor", "sync_to_beats", "warp_motion"]
