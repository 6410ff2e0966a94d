"""Where a generated dance is too fast: joint speed by distance to the nearest primitive, and how far
apart consecutive primitives lie, against the real dance to the same music.

    python benchmarks/cue_speed.py --data CORPUS [--checkpoint DIR] [--genres party salsa ...]
        [--items 4] [--seconds 40] [--global-guidance W] [--soft S] [--steps N] [--no-mirror]
        [--real-cues]

For each genre, the first ``--items`` training items of at least 10 s (every third, so that they
come from different takes) are danced to their own music (seed 0), and two tables are printed:

- joint speed (root-relative, m/s) of the generated dance by distance in frames to the nearest frame
  of a primitive the global stage placed (inside, 2-3, 4-7, 8-15, 16-31, 32+), with and without the
  pelvis' heading (joints turned to face +z every frame), beside the real dancer's mean speed;
- the straight-line travel (heading-free joints, m/s) from each primitive's last frame to the next
  one's first, generated primitives against the real dance at the same frames.

With ``--real-cues`` the global network is left out: the local stage is steered by primitives cut
from the real dance at the frames the plan gives them, and the table shows the local network alone:
joint speed by distance in frames to the nearest imposed (cue) frame, as the local stage samples it
and after post-processing (without mirrored copies, which the real dance does not hold). Its first columns say how far the network's own frames beside a cue
disagree with the cue (a real dance has no jump there).

Training items are used on purpose: a network that cannot match the real dancer's speed on music it
was trained on will not on a new song. Every number is a mean over frames (or primitive pairs) pooled
over the items. A diagnostic, not a bar: the realism table (`python -m lodge evaluate
--realism-only`) is what the project is judged by.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from lodge.constants import FPS  # noqa: E402
from lodge.metrics.realism import root_relative  # noqa: E402
from lodge.motion import heading, motion_to_joints  # noqa: E402

BINS = (0, 2, 4, 8, 16, 32)  # lower edges, in frames from the nearest primitive frame
MIN_FRAMES = 300


def heading_free(joints: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """(..., J, 3) world joints -> pelvis-relative joints turned by -yaw about the vertical (yaw (...,))."""
    rel = joints - joints[..., :1, :]
    c, s = np.cos(-yaw)[..., None], np.sin(-yaw)[..., None]
    out = rel.copy()
    out[..., 0] = c * rel[..., 0] + s * rel[..., 2]
    out[..., 2] = -s * rel[..., 0] + c * rel[..., 2]
    return out


def step_speed(rel: np.ndarray) -> np.ndarray:
    """(T, J, 3) -> (T - 1,) mean joint speed of each frame step, m/s."""
    return np.linalg.norm(np.diff(rel, axis=0), axis=-1).mean(-1) * FPS


def distance_to_marked(marked: np.ndarray) -> np.ndarray:
    """(frames,) distance of each frame to the nearest marked frame (0 on one; 10**6 with none)."""
    where = np.flatnonzero(marked)
    if len(where) == 0:
        return np.full(len(marked), 10**6)
    return np.abs(np.arange(len(marked))[:, None] - where[None]).min(1)


def distance_to_primitives(frames: int, starts: list[int], length: int) -> np.ndarray:
    """(frames,) distance of each frame to the nearest frame of any primitive (0 inside one)."""
    inside = np.zeros(frames, bool)
    for start in starts:
        inside[max(0, start):max(0, start + length)] = True
    return distance_to_marked(inside)


def pooled_mean(parts: list[np.ndarray]) -> float:
    """Mean over the concatenated parts; NaN when they hold nothing."""
    return float(np.concatenate(parts).mean()) if sum(len(p) for p in parts) else float("nan")


def genre_report(pipe, items, genre: str, options) -> str:
    from lodge.evaluate.data import features_from_music

    world = {b: [] for b in BINS}
    canon = {b: [] for b in BINS}
    real_speed, gaps_gen, gaps_real = [], [], []
    for item in items:
        n = len(item.motion)
        dance = pipe(features_from_music(item.music[:n]), genre, options)
        prim = np.asarray(dance.primitive_motion, np.float32)  # (P, 8, 139), in time order
        starts = [p.start for p in dance.primitives]
        length = prim.shape[1]
        speed = step_speed(root_relative(dance.joints))
        speed_canon = step_speed(heading_free(dance.joints, heading(dance.motion)))
        dist = distance_to_primitives(len(speed), starts, length)
        for lo, hi in zip(BINS, BINS[1:] + (10**7,)):
            sel = (dist >= lo) & (dist < hi)
            world[lo].append(speed[sel])
            canon[lo].append(speed_canon[sel])
        real_joints = motion_to_joints(item.motion[:n])
        real_speed.append(step_speed(root_relative(real_joints)))
        prim_rel = heading_free(motion_to_joints(prim), heading(prim))
        real_rel = heading_free(real_joints, heading(item.motion[:n]))
        for k in range(len(starts) - 1):
            a, b = starts[k] + length - 1, starts[k + 1]
            if a < 0 or b <= a or b >= n:
                continue
            gaps_gen.append(np.linalg.norm(prim_rel[k + 1, 0] - prim_rel[k, -1], axis=-1).mean() / (b - a) * FPS)
            gaps_real.append(np.linalg.norm(real_rel[b] - real_rel[a], axis=-1).mean() / (b - a) * FPS)
    cells = " | ".join(f"{pooled_mean(world[b]):.2f} / {pooled_mean(canon[b]):.2f}" for b in BINS)
    gap = f"{np.mean(gaps_gen):.3f} / {np.mean(gaps_real):.3f}" if gaps_gen else "n/a"
    return f"| {genre} | {pooled_mean(real_speed):.3f} | {cells} | {gap} |"


def real_cue_primitives(motion: np.ndarray, plan) -> np.ndarray:
    """(W, 13, 8, 139) primitives cut from a real (T, 139) dance at the plan's frames (song
    coordinates; frames before the start or past the end repeat the first or last frame)."""
    from lodge.constants import GLOBAL_LEN, PRIM_LEN

    frames = plan.window_prim_frames()  # (W, 13) window-relative starts
    starts = frames + (np.arange(plan.num_windows) * GLOBAL_LEN)[:, None]
    idx = np.clip(starts[..., None] + np.arange(PRIM_LEN), 0, len(motion) - 1)
    return np.asarray(motion, np.float32)[idx]


def real_cue_report(pipe, items, genre: str, options) -> str:
    """The local network steered by real cues: '| genre | real | raw by distance | post by distance |'."""
    import torch

    from lodge.constants import GLOBAL_LEN
    from lodge.evaluate.data import features_from_music
    from lodge.schedule import GenreSchedule
    from lodge.stages.local_stage import LocalInputs, sample_local
    from lodge.stages.music import normalised_music
    from lodge.stages.plan import plan_song
    from lodge.stages.post import post_process

    options = pipe.resolve_options(options)
    raw = {b: [] for b in BINS}
    post = {b: [] for b in BINS}
    real_speed = []
    for item in items:
        n = len(item.motion)
        features = features_from_music(item.music[:n])
        plan = plan_song(features, options)
        music = normalised_music(pipe, features.features, plan.num_windows * GLOBAL_LEN)
        genres = GenreSchedule.coerce(genre).resolved(pipe.genres).segment_genres(plan, pipe.genres)
        prims = real_cue_primitives(item.motion[:n], plan)
        local = sample_local(pipe, LocalInputs(music, genres, plan, prims), options,
                             torch.Generator().manual_seed(options.seed))
        motion, fixed = (a[:n] for a in local.song_motion())
        dist = distance_to_marked(fixed)[:-1]  # per frame step, from its first frame
        for table, dance in ((raw, motion), (post, post_process(motion, fixed, options))):
            speed = step_speed(root_relative(motion_to_joints(dance)))
            for lo, hi in zip(BINS, BINS[1:] + (10**7,)):
                table[lo].append(speed[(dist >= lo) & (dist < hi)])
        real_speed.append(step_speed(root_relative(motion_to_joints(item.motion[:n]))))
    cells = lambda table: " / ".join(f"{pooled_mean(table[b]):.2f}" for b in BINS)  # noqa: E731
    return f"| {genre} | {pooled_mean(real_speed):.3f} | {cells(raw)} | {cells(post)} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a corpus built by lodge.data.build_corpus")
    parser.add_argument("--checkpoint", default=None, help="default: the shipped weights")
    parser.add_argument("--genres", nargs="*", default=None)
    parser.add_argument("--items", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--global-guidance", type=float, default=None)
    parser.add_argument("--soft", type=float, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--no-mirror", action="store_true", help="without the soft cues' mirrored copies")
    parser.add_argument("--real-cues", action="store_true",
                        help="the local network alone, steered by cues cut from the real dance")
    args = parser.parse_args(argv)

    import torch

    from lodge.data.dataset import load_corpus
    from lodge.pipeline import LodgePipeline
    from lodge.sampling import SamplingOptions

    torch.set_num_threads(2)
    pipe = LodgePipeline.from_pretrained(args.checkpoint, device="cpu")
    options = SamplingOptions(seed=0, steps=args.steps, soft=args.soft, global_guidance_weight=args.global_guidance,
                              mirror=not (args.no_mirror or args.real_cues))  # a real cue's mirror is not real
    corpus = load_corpus(args.data, split="train")
    frames = int(args.seconds * FPS)
    if args.real_cues:
        print("The local network steered by real cues. Cells: joint speed (m/s) by frames from the nearest cue "
              f"frame ({' / '.join(str(b) + '+' for b in BINS)}), as sampled and after post-processing.\n")
        print("| genre | real speed | sampled | post-processed |\n|---|---|---|---|")
    else:
        print("Cells: joint speed / heading-free joint speed (m/s) by frames from the nearest primitive; "
          "gap: heading-free straight-line travel between consecutive primitives (m/s).\n")
        print("| genre | real speed | " + " | ".join(f"{lo}+ frames" if lo else "inside" for lo in BINS)
              + " | primitive gap gen / real |")
        print("|---" * (len(BINS) + 3) + "|")
    for genre in args.genres or pipe.genres:
        items = [it for it in corpus if it.genre == genre and len(it.motion) >= MIN_FRAMES][::3][:args.items]
        if not items:
            print(f"| {genre} | no training items of {MIN_FRAMES} frames |")
            continue
        items = [dataclasses.replace(it, motion=it.motion[:frames], music=it.music[:frames]) for it in items]
        report = real_cue_report if args.real_cues else genre_report
        print(report(pipe, items, genre, options), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
