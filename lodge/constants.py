"""Fixed facts of the Lodge time base, motion format and skeleton (see docs/ARCHITECTURE.md)."""
from __future__ import annotations

FPS: int = 30
SAMPLE_RATE: int = 15360
HOP_LENGTH: int = 512  # SAMPLE_RATE / HOP_LENGTH == FPS exactly

GLOBAL_LEN: int = 1024  # frames in a global window (34.13 s)
SEG_LEN: int = 256  # frames in a local segment (8.53 s)
SEGS_PER_WINDOW: int = GLOBAL_LEN // SEG_LEN
PRIM_LEN: int = 8  # frames in a characteristic dance primitive
HARD_GUIDE: int = 4  # frames at each segment end fixed by a hard cue

MUSIC_DIM: int = 35
N_JOINTS: int = 22
CONTACT_DIM: int = 4
ROOT_DIM: int = 3
ROT_DIM: int = 6
MOTION_DIM: int = CONTACT_DIM + ROOT_DIM + N_JOINTS * ROT_DIM  # 139

# Slices of the 139-dim motion vector.
CONTACT_SLICE = slice(0, CONTACT_DIM)
ROOT_SLICE = slice(CONTACT_DIM, CONTACT_DIM + ROOT_DIM)
ROOT_X, ROOT_Y, ROOT_Z = ROOT_SLICE.start, ROOT_SLICE.start + 1, ROOT_SLICE.start + 2  # y is up
ROT_SLICE = slice(CONTACT_DIM + ROOT_DIM, MOTION_DIM)

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
# Contact label order: left ankle, right ankle, left toe, right toe.
FOOT_JOINTS: tuple[int, ...] = (7, 8, 10, 11)
# Joint index each joint maps to under the x -> -x reflection.
MIRROR_JOINTS: tuple[int, ...] = (0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20)
MIRROR_CONTACTS: tuple[int, ...] = (1, 0, 3, 2)

ANKLE_CONTACT_HEIGHT: float = 0.12
TOE_CONTACT_HEIGHT: float = 0.05

PRIMITIVE_KINDS: tuple[str, ...] = ("hard", "soft", "soft_mirror")
