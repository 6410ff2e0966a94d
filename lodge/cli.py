"""Command line: `python -m lodge generate|edit|genres|export ...`.

Bad input ends with exit status 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from tqdm.auto import tqdm

from . import checks
from .config import PRESETS
from .sampling import DEFAULT_DDIM_STEPS, SAMPLERS, SamplingOptions
from .schedule import GenreSchedule

DEFAULTS = SamplingOptions()  # the request defaults (lodge.sampling owns them)

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (status 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see `{self.prog} --help`)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m lodge", description="Lodge: music to long 3D dance.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate a dance for a music file")
    gen.add_argument("music", help="audio file (wav, mp3, ogg, flac, m4a)")
    gen.add_argument("--genre", required=True,
                     help="dance genre (see `python -m lodge genres`), or a whole schedule such as 'salsa,60:breaking'")
    gen.add_argument("--genre-from", action="append", default=[], metavar="SECONDS:GENRE",
                     help="change to GENRE from SECONDS on (repeatable: --genre salsa --genre-from 60:breaking "
                          "--genre-from 120:modern); a change takes effect at the nearest segment boundary (8.53 s grid)")
    gen.add_argument("--seed", type=int, default=DEFAULTS.seed)
    gen.add_argument("--soft", type=float, default=DEFAULTS.soft,
                     help="soft-cue guidance fraction s in [0, 1] (default: the checkpoint's, see its model card)")
    gen.add_argument("--steps", type=int, default=DEFAULTS.steps,
                     help=f"denoising steps, 1 to {checks.MAX_STEPS} (default: {DEFAULT_DDIM_STEPS} for DDIM, all for DDPM)")
    gen.add_argument("--sampler", choices=SAMPLERS, default=DEFAULTS.sampler)
    gen.add_argument("--guidance", type=float, default=DEFAULTS.guidance_weight,
                     help="classifier-free guidance weight (default: the checkpoint's)")
    gen.add_argument("--global-guidance", type=float, default=DEFAULTS.global_guidance_weight,
                     help="the global stage's (the primitives') guidance weight (default: the checkpoint's)")
    gen.add_argument("--global-pose-guidance", type=float, default=DEFAULTS.global_pose_guidance_weight,
                     help="the global stage's guidance weight on where each primitive stands, while its motion "
                          "takes --global-guidance (default: the checkpoint's)")
    gen.add_argument("--genre-guidance", type=float, default=DEFAULTS.genre_guidance_weight,
                     help="guidance on the genre, both stages (0: off; default: the checkpoint's)")
    gen.add_argument("--speed-guidance", type=float, default=DEFAULTS.speed_guidance_weight,
                     help="guidance on the speed, both stages (0: off; default: the checkpoint's; models told a speed)")
    gen.add_argument("--energy", type=float, default=DEFAULTS.energy,
                     help=f"how fast the dancer moves, as a multiple of the genre's typical speed "
                          f"({checks.MIN_ENERGY:g} to {checks.MAX_ENERGY:g}; only models whose networks are told a speed)")
    gen.add_argument("--beat-sync", action="store_true",
                     help="re-time the dance a little so its moves hit the beats (lodge.post.beat_sync)")
    gen.add_argument("--seconds", type=float, default=None,
                     help=f"use only the first N seconds (at least {checks.MIN_SECONDS:g}); only they are decoded")
    gen.add_argument("--max-seconds", type=float, default=DEFAULTS.max_seconds,
                     help=f"refuse longer songs (default {DEFAULTS.max_seconds:g}; 0: no limit)")
    gen.add_argument("--checkpoint", default=None, help="checkpoint directory (default: shipped weights)")
    gen.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    gen.add_argument("--out", required=True, help="output directory (dance.npz is written there)")

    edit = sub.add_parser(
        "edit", help="regenerate part of a dance.npz written by `generate` (or by an earlier edit)",
        description="Regenerate part of a dance and keep the rest: every frame outside the regenerated "
                    "segments stays as it was. Segments are the 8.53 s stretches numbered from 0 that "
                    "`generate` and `edit` list after writing. Writes DIR/dance.npz.")
    what = edit.add_mutually_exclusive_group(required=True)
    what.add_argument("--reroll", metavar="SEGMENTS",
                      help="comma-separated segment numbers to regenerate with a new seed, e.g. 3,4")
    what.add_argument("--copy-move", metavar="SRC:DST[:mirror]",
                      help="copy the move shown at SRC seconds to the beat nearest DST seconds "
                           "(':mirror' copies its mirror image); the segment at DST is regenerated")
    what.add_argument("--genre-schedule", metavar="SCHEDULE",
                      help="new genre schedule, e.g. 'salsa,60:breaking'; segments whose genre changes are regenerated")
    edit.add_argument("dance", help="dance.npz written by `generate` or `edit`")
    edit.add_argument("--new-moves", action="store_true",
                      help="with --reroll: also re-sample the moves (soft primitives) of those segments")
    edit.add_argument("--seed", type=int, default=None,
                      help="random seed of the edit (default: the dance's seed plus the number of edits so far plus 1)")
    edit.add_argument("--checkpoint", default=None, help="checkpoint directory (default: shipped weights); "
                                                         "use the one that generated the dance")
    edit.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    edit.add_argument("--out", required=True, help="output directory (the edited dance.npz is written there)")

    genres = sub.add_parser("genres", help="list the genres a checkpoint knows")
    genres.add_argument("--checkpoint", default=None)

    exp = sub.add_parser("export", help="export a dance.npz to BVH and SMPL-X parameters")
    exp.add_argument("dance", help="dance.npz written by `generate`")
    exp.add_argument("--bvh", default=None, help="BVH output path")
    exp.add_argument("--smplx", default=None, help="SMPL-X parameters (.npz, AMASS-style keys) output path")
    train = sub.add_parser("train", help="train one stage on a built corpus (see lodge.data.build_corpus)")
    train.add_argument("stage", choices=("global", "local", "finetune"))
    train.add_argument("--data", required=True, help="corpus directory (items/ + split.json)")
    train.add_argument("--out", required=True, help="checkpoint directory (created; resumed if present)")
    train.add_argument("--preset", choices=sorted(PRESETS), default="small", help="model size for a new checkpoint")
    train.add_argument("--steps", type=int, default=2000)
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--lr", type=float, default=2e-4)
    train.add_argument("--save-every", type=int, default=250)
    train.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this long")
    train.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    train.add_argument("--half", action="store_true", help="store fp16 weights")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--fk-fraction", type=float, default=1.0,
                       help="share of each batch that gets the forward-kinematics losses (cheaper steps on a CPU); 0 = the x0 loss alone")
    train.add_argument("--genre-power", type=float, default=1.0,
                       help="each genre's share of the trained frames is its number of frames to this power "
                            "(1: every track alike; 0: every genre alike)")
    train.add_argument("--genre-drop", type=float, default=0.0,
                       help="share of samples trained with the null genre instead of their own, so sampling can "
                            "guide on the genre (0 = off; a network without a null genre gets one)")
    train.add_argument("--overlap-unpatch", action="store_true",
                       help="cross-fade neighbouring tokens' outputs (overlap-add un-patching); a "
                            "network without it is switched over, keeping its weights")
    train.add_argument("--prim-motion-gain", type=float, default=None,
                       help="global stage: denoise primitives with their motion about their mean pose amplified by "
                            "this factor (a trained network is switched to it; default: the network's own, 1 for a new one)")
    train.add_argument("--root-range", type=float, default=None,
                       help="local stage: denoise the horizontal root within +-M metres instead of the motion normaliser's "
                            "range (a trained network is switched to it; default: the network's own)")
    train.add_argument("--root-weight", type=float, default=1.0,
                       help="how much more the horizontal root's error counts in the x0 terms than another dimension's")
    train.add_argument("--disc-weight", type=float, default=None,
                       help="local stage: weight of the multi-genre discriminator's adversarial loss (0 = off; "
                            "default: lodge.train.trainer.TrainSettings)")
    train.add_argument("--disc-r1", type=float, default=None,
                       help="local stage: the discriminator's R1 gradient penalty weight (default: lodge.train.trainer.TrainSettings)")
    train.add_argument("--disc-max-t", type=int, default=None,
                       help="local stage: the discriminator judges the predictions of samples noised to t below "
                            "this only (default: lodge.train.trainer.TrainSettings)")
    train.add_argument("--cue-mismatch", type=float, default=0.0,
                       help="local stage: share of samples whose noisy input beside each cue shows the same dance "
                            "8-32 frames away, so the network learns to meet cues it disagrees with (0 = off)")
    train.add_argument("--music-jitter", type=float, default=0.0,
                       help="per example, shift each continuous music column by an offset ~ N(0, S^2) (normalised "
                            "units), so no song is recognised by its sound alone (0 = off)")
    train.add_argument("--prim-step-weight", type=float, default=0.0,
                       help="global stage: weight of the step between consecutive primitives' mean poses against "
                            "the data's (0 = off)")
    train.add_argument("--x0-vel-weight", type=float, default=0.0,
                       help="weight of the frame-to-frame change of x0 against the data's (normalised units; 0 = off)")
    train.add_argument("--x0-speed-weight", type=float, default=0.0,
                       help="weight of the size of each sample's predicted motion against the data's (squared "
                            "log ratio; 0 = off)")
    train.add_argument("--time-stretch", type=float, default=1.0,
                       help="half the training segments (local) or windows (global) are played faster or slower by a "
                            "factor up to this (log-uniform; 1 = never), so the network learns what the speed it "
                            "is told means")
    train.add_argument("--window-offsets", action="store_true",
                       help="global stage: a dance shorter than the window starts 0 or more whole segments late, "
                            "so the window's later primitives learn every genre, not only those with long takes")
    train.add_argument("--speed-condition", action="store_true",
                       help="tell the network each example's speed (mean root-relative joint speed); at sampling "
                            "it is told the genre's typical speed times the energy (a trained network is given it)")

    from .evaluate.args import add_arguments as add_evaluate_arguments

    add_evaluate_arguments(sub.add_parser("evaluate", help="score the model, baselines and ablations on a test set"))
    merge = sub.add_parser("merge", help="combine the global net of one checkpoint with the local net of another")
    merge.add_argument("--global", dest="global_dir", required=True, help="checkpoint with the trained global stage")
    merge.add_argument("--local", dest="local_dir", required=True, help="checkpoint with the trained local stage")
    merge.add_argument("--out", required=True)
    merge.add_argument("--half", action="store_true", help="store fp16 weights")
    merge.add_argument("--global-guidance", type=float, default=None,
                       help="the merged checkpoint's default guidance weight for the global stage "
                            "(default: the local checkpoint's setting)")
    merge.add_argument("--global-pose-guidance", type=float, default=None,
                       help="the merged checkpoint's default guidance weight on where each primitive stands "
                            "(default: the local checkpoint's setting)")
    merge.add_argument("--speed-guidance", type=float, default=None,
                       help="the merged checkpoint's default guidance weight on the speed (a network told a speed "
                            "needed; default: the local checkpoint's setting)")
    merge.add_argument("--genre-guidance", type=float, default=None,
                       help="the merged checkpoint's default guidance weight on the genre (both networks need a "
                            "null genre; default: the local checkpoint's setting)")
    from .config import CALIBRATION_SEARCHED

    cal = sub.add_parser("calibrate", help="find each genre's genre guidance weight, mirror switch, speed and global guidance factors "
                                           "on training dances "
                                           "(new music on their beats) and write them into a checkpoint's config.json "
                                           "(lodge.train.calibrate)")
    cal.add_argument("--checkpoint", required=True, help="the checkpoint directory to calibrate (changed in place)")
    cal.add_argument("--data", required=True, help="a built corpus (its training split is used)")
    cal.add_argument("--genres", nargs="*", default=None, help="only these genres (default: all the checkpoint knows)")
    # Unset numbers take lodge.train.calibrate.CalibrationSettings' defaults.
    cal.add_argument("--primitive-items", type=int, help="training items per genre for the primitives' energy "
                     "(global stage only)")
    cal.add_argument("--primitive-seconds", type=float, help="... the first seconds of each")
    cal.add_argument("--speed-items", type=int, help="training items per genre for the dance's speed")
    cal.add_argument("--speed-seconds", type=float, help="... the first seconds of each")
    cal.add_argument("--energy-target", type=float, help="the primitives' energy sought, times the real primitives'")
    cal.add_argument("--fast-share-limit", type=float, help="the share of the dance's frames allowed faster than "
                     "the real dancers' 99th percentile")
    cal.add_argument("--peak-percentile", type=float, help="the percentile of the dance's frame speeds held "
                     "at or below the real dancers' fastest frame")
    cal.add_argument("--slow-window-percentile", type=float, help="the percentile of the genre's training "
                     "windows' speeds that its told speed stays at or above")
    cal.add_argument("--genre-guidance-weights", type=float, nargs="+", help="the genre guidance weights tried, "
                     "in order; the first that spreads the dance enough is kept")
    cal.add_argument("--spread-target", type=float, help="the pose spread sought with genre guidance, times the "
                     "real dancers'")
    cal.add_argument("--training-music", dest="fresh_music", action="store_false", default=None,
                     help="measure on the training items' own music instead of fresh renderings on their beats")
    cal.add_argument("--rounds", type=int, help="measurements per factor and genre")
    cal.add_argument("--seed", type=int)
    cal.add_argument("--factors", nargs="+", choices=CALIBRATION_SEARCHED, default=list(CALIBRATION_SEARCHED),
                     help="which weights and factors to search (the others keep the checkpoint's)")
    cal.add_argument("--reset", action="store_true", help="start from no calibration instead of the checkpoint's")
    return parser


def _calibrate(args: argparse.Namespace) -> int:
    import json

    import torch

    from .checkpoint import CONFIG_FILE
    from .data.dataset import load_corpus
    from .pipeline import LodgePipeline
    from .train.calibrate import CalibrationSettings, calibrate

    config_path = Path(args.checkpoint, CONFIG_FILE)
    if not config_path.is_file():
        raise FileNotFoundError(f"no checkpoint at {args.checkpoint} (no {CONFIG_FILE})")
    if not Path(args.data, "split.json").is_file():
        raise FileNotFoundError(f"no corpus at {args.data}: build it with python -m lodge.data.build_corpus")
    pipe = LodgePipeline.from_pretrained(args.checkpoint, device="cpu")
    if args.reset:
        pipe.cfg.genre_calibration = None
    given = {name: getattr(args, name) for name in
             ("primitive_items", "primitive_seconds", "speed_items", "speed_seconds", "energy_target",
              "fast_share_limit", "peak_percentile", "slow_window_percentile", "genre_guidance_weights", "spread_target", "fresh_music", "rounds",
              "seed")}
    if given["genre_guidance_weights"] is not None:
        given["genre_guidance_weights"] = tuple(given["genre_guidance_weights"])
    settings = CalibrationSettings(**{name: value for name, value in given.items() if value is not None})
    with torch.no_grad():
        result = calibrate(pipe, load_corpus(args.data, "train"), settings, genres=args.genres, factors=args.factors,
                           log=lambda m: print(m, flush=True))
    meta = json.loads(config_path.read_text())
    meta["genre_calibration"] = result
    config_path.write_text(json.dumps(meta, indent=1))
    print(f"wrote the calibration into {config_path}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from .train.trainer import merge_checkpoints

    out = merge_checkpoints(args.global_dir, args.local_dir, args.out, half=args.half,
                            global_guidance_weight=args.global_guidance,
                            genre_guidance_weight=args.genre_guidance,
                            global_pose_guidance_weight=args.global_pose_guidance,
                            speed_guidance_weight=args.speed_guidance)
    print(f"wrote {out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    import torch

    from .train.trainer import Trainer, TrainSettings

    if not Path(args.data, "split.json").is_file():
        raise FileNotFoundError(f"no corpus at {args.data}: build one with `python -m lodge.data.build_corpus --out DIR`")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    settings = TrainSettings(
        stage=args.stage, data=args.data, out=args.out, preset=args.preset, steps=args.steps,
        batch_size=args.batch_size, lr=args.lr, save_every=args.save_every, max_minutes=args.max_minutes,
        device=device, half=args.half, seed=args.seed, fk_fraction=args.fk_fraction,
        x0_vel_weight=args.x0_vel_weight, x0_speed_weight=args.x0_speed_weight, root_weight=args.root_weight,
        time_stretch=args.time_stretch,
        window_offsets=args.window_offsets,
        genre_power=args.genre_power,
        genre_drop_prob=args.genre_drop, overlap_unpatch=args.overlap_unpatch,
        cue_mismatch_prob=args.cue_mismatch, music_jitter=args.music_jitter,
        prim_motion_gain=args.prim_motion_gain, prim_step_weight=args.prim_step_weight,
        root_range=args.root_range, speed_condition=args.speed_condition,
        **{name: value for name, value in (("disc_weight", args.disc_weight), ("disc_r1", args.disc_r1),
                                           ("disc_max_t", args.disc_max_t)) if value is not None},
    )
    path = Trainer(settings).run()
    print(f"checkpoint written to {path}")
    return 0


def _writable_folder(out: str) -> Path:
    """Create `out` if needed and prove a file can be written there; ValueError with one line if not."""
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise checks.InputError(f"Cannot write to the output folder '{out}': {reason}.") from None
    return folder


def _check_generate(args: argparse.Namespace) -> argparse.Namespace:
    """Every argument of `generate` checked and cleaned before any work starts (InputError if one is bad);
    the sampling ones become ``args.options``."""
    args.options = SamplingOptions(
        seed=args.seed, sampler=args.sampler, steps=args.steps, soft=args.soft, guidance_weight=args.guidance,
        global_guidance_weight=args.global_guidance, genre_guidance_weight=args.genre_guidance,
        global_pose_guidance_weight=args.global_pose_guidance, max_seconds=args.max_seconds, duration=args.seconds,
        beat_sync=args.beat_sync, energy=args.energy, speed_guidance_weight=args.speed_guidance,
    )
    args.schedule = GenreSchedule.parse(",".join([args.genre, *args.genre_from]))
    music = Path(args.music)
    if not music.is_file():
        raise checks.InputError(f"Music file not found: '{args.music}'." if not music.exists()
                                else f"'{args.music}' is a folder, not a music file.")
    if not os.access(music, os.R_OK):
        raise checks.InputError(f"Cannot read the music file '{args.music}'.")
    if args.checkpoint is not None and not Path(args.checkpoint).is_dir():
        raise checks.InputError(f"Checkpoint folder not found: '{args.checkpoint}'.")
    args.out = _writable_folder(args.out)
    return args


def _generate(args: argparse.Namespace) -> int:
    from .audio import load_audio
    from .pipeline import LodgePipeline

    args = _check_generate(args)
    # The music next (cheap, and the likeliest to be wrong), then the model.
    opts: SamplingOptions = args.options
    wave = load_audio(args.music, max_seconds=opts.max_seconds, duration=opts.duration)
    pipe = LodgePipeline.from_pretrained(args.checkpoint, device=args.device)
    schedule = args.schedule.resolved(pipe.genres)
    with _ProgressBars() as progress:
        dance = pipe(wave, schedule, opts, progress=progress)
    _write_dance(dance, args.out)
    return 0


class _ProgressBars:
    """A progress callback (stage, fraction) drawing one tqdm bar per stage; closes them on exit."""

    def __init__(self) -> None:
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, fraction: float) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=100, desc=f"{stage:>6}", unit="%", leave=True)
        bar.n = int(round(100 * fraction))
        bar.refresh()

    def __enter__(self) -> "_ProgressBars":
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self.bars.values():
            bar.close()


def _write_dance(dance, out: Path) -> Path:
    """Write ``out/dance.npz`` and say what it holds (the segments too, for `edit --reroll`); what
    `generate` and `edit` both write."""
    path = dance.save_npz(out / "dance.npz")
    print(f"wrote {path} ({dance.duration:.1f} s, {len(dance.primitives)} primitives, genre {dance.genre})")
    if dance.edits:
        last = dance.edits[-1]
        frames = ", ".join(f"{a / dance.fps:.1f}-{b / dance.fps:.1f} s" for a, b in last["frames"])
        print(f"edit {len(dance.edits)}: {last['op']} of segment(s) {', '.join(map(str, last['segments']))} "
              f"(seed {last['seed']}); changed {frames}")
    print("segments: " + ", ".join(f"{i}: {a:.1f}-{b:.1f} s" for i, (a, b) in enumerate(dance.segment_ranges())))
    return path


def _reroll_segments(text: str) -> list[int]:
    """'3,4' -> [3, 4]; InputError for anything else."""
    try:
        segments = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        segments = []
    if not segments:
        raise checks.InputError(f"--reroll takes segment numbers separated by commas, like 3,4, not {text!r}.")
    return segments


def _copy_move(text: str) -> tuple[float, float, bool]:
    """'12.5:40' or '12.5:40:mirror' -> (12.5, 40.0, mirrored); InputError for anything else."""
    parts = text.split(":")
    mirrored = len(parts) == 3 and parts[2].strip().lower() == "mirror"
    try:
        if len(parts) != 2 and not mirrored:
            raise ValueError
        return checks.finite_number(parts[0], "The source time"), checks.finite_number(parts[1], "The target time"), mirrored
    except (ValueError, checks.InputError):
        raise checks.InputError(f"--copy-move takes SOURCE_SECONDS:TARGET_SECONDS or SOURCE:TARGET:mirror, "
                                f"not {text!r}.") from None


def _load_dance(path: str):
    from .dance import Dance

    if not Path(path).is_file():
        raise checks.InputError(f"Dance file not found: '{path}'.")
    try:
        return Dance.load_npz(path)
    except Exception:  # noqa: BLE001 - any unreadable file is the same mistake for the user
        raise checks.InputError(f"Cannot read '{path}' as a dance.npz written by `python -m lodge generate`.") from None


def _edit(args: argparse.Namespace) -> int:
    from . import edits
    from .pipeline import LodgePipeline

    # Everything that can be wrong with the request is checked before the model loads.
    if args.new_moves and args.reroll is None:
        raise checks.InputError("--new-moves goes with --reroll.")
    segments = _reroll_segments(args.reroll) if args.reroll is not None else None
    moved = _copy_move(args.copy_move) if args.copy_move is not None else None
    schedule = GenreSchedule.parse(args.genre_schedule) if args.genre_schedule is not None else None
    if args.checkpoint is not None and not Path(args.checkpoint).is_dir():
        raise checks.InputError(f"Checkpoint folder not found: '{args.checkpoint}'.")
    out = _writable_folder(args.out)
    dance = _load_dance(args.dance)
    state = edits.EditState.of(dance)
    seed = checks.check_seed(args.seed) if args.seed is not None else (state.options.seed + len(dance.edits) + 1) % (checks.MAX_SEED + 1)
    pipe = LodgePipeline.from_pretrained(args.checkpoint, device=args.device)
    with _ProgressBars() as progress:
        if segments is not None:
            edited = pipe.reroll(dance, segments, seed, new_moves=args.new_moves, progress=progress)
        elif moved is not None:
            edited = pipe.copy_move(dance, moved[0], moved[1], mirrored=moved[2], seed=seed, progress=progress)
        else:
            edited = pipe.restyle(dance, schedule, seed=seed, progress=progress)
    _write_dance(edited, out)
    return 0


def _genres(args: argparse.Namespace) -> int:
    from .checkpoint import load_checkpoint
    from .pipeline import DEFAULT_CHECKPOINT

    ckpt = load_checkpoint(Path(args.checkpoint) if args.checkpoint else DEFAULT_CHECKPOINT)
    print("\n".join(ckpt.cfg.genres))
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export_files

    for path in export_files(args.dance, args.bvh, args.smplx):
        print(f"wrote {path}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluate.run import main as evaluate_main

    return evaluate_main(args)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _build_parser().parse_args(argv)
    handlers = {"generate": _generate, "edit": _edit, "genres": _genres, "export": _export, "train": _train, "merge": _merge, "calibrate": _calibrate, "evaluate": _evaluate}
    try:
        return handlers[args.command](args)
    except (ValueError, FileNotFoundError, OSError) as exc:  # AudioError, GenreError, CheckpointError...
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
