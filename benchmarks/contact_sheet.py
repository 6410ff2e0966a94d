"""Side-by-side contact sheets for blind reading: a generated dance beside a real dancer of the same genre.

    python benchmarks/contact_sheet.py --data CORPUS [--genres salsa breaking ...] [--checkpoint DIR]
        [--frames 12] [--every 1.0] [--size 160] [--out docs]

For each genre the longest held-out test item is taken: its real dancer is one row, and the model's
dance to the same music (seed 0, default settings) the other. Both start at the same place facing the
camera, as every generated dance does (the real take is turned about the vertical to it). Both rows
show the same frames (every ``--every`` seconds, closer together when the item is too short), the
same follow camera and the same mannequin body, with no cue tint. Which row is which is drawn at random per genre (seeded by the
genre name); the rows are labelled "A" and "B" and the key is written to ``contact_sheets.md`` in
the output folder, so that the sheets can be read blind first.
"""
from __future__ import annotations

import argparse
import os
import sys
import zlib
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from lodge.constants import FPS  # noqa: E402
from lodge.data.dataset import CorpusItem, load_corpus  # noqa: E402

MAX_BYTES = 150 * 1024
LABEL_W, HEADER_H = 34, 44
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def longest_test_item(corpus: Path, genre: str) -> CorpusItem:
    """The longest item of `genre` in the corpus' test split."""
    items = [it for it in load_corpus(corpus, "test") if it.genre == genre]
    if not items:
        raise ValueError(f"no test item of genre {genre!r} in {corpus}")
    return max(items, key=len)


def frame_indices(num_frames: int, count: int, every_s: float) -> np.ndarray:
    """`count` frames spaced `every_s` apart (closer when the dance is short), centred in the dance."""
    step = max(1, min(int(round(every_s * FPS)), (num_frames - 1) // max(count - 1, 1)))
    start = max(0, (num_frames - 1 - step * (count - 1)) // 2)
    return start + step * np.arange(count)


def facing_the_camera(motion: np.ndarray) -> np.ndarray:
    """The motion turned and shifted so that its first frame stands at the origin facing the camera (+z),
    where every generated dance starts. A real take faces wherever the mocap studio had it face, and a
    dancer seen from behind or from the side reads differently from one seen from the front."""
    from lodge.train.windows import to_canonical

    return to_canonical(motion, motion[0])


def render_row(motion: np.ndarray, frames: np.ndarray, size: int) -> list[np.ndarray]:
    """The mannequin in `motion` at `frames`, seen by the follow camera, body in its resting colour."""
    from renderer import palette
    from renderer.body import make_body
    from renderer.camera import camera_path
    from renderer.stage import Stage

    body = make_body(np.asarray(motion, np.float32), body="mannequin")
    cameras = camera_path(body.positions[:, 0], body.floor_height, "follow", fps=FPS)
    tints, _ = palette.cue_tints([], len(motion))
    stage = Stage(body, cameras, tints, size=size)
    try:
        return [stage.render(int(f)).copy() for f in frames]
    finally:
        stage.close()


def compose(rows: list[list[np.ndarray]], labels: list[str], times: np.ndarray, title: str) -> Image.Image:
    """One image: a header of times, then each row of frames with its label at the left."""
    size = rows[0][0].shape[0]
    width = LABEL_W + size * len(rows[0])
    sheet = Image.new("RGB", (width, HEADER_H + size * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(FONT, 13) if Path(FONT).exists() else ImageFont.load_default()
    big = ImageFont.truetype(FONT, 20) if Path(FONT).exists() else font
    draw.text((4, 5), title, fill="black", font=font)
    for k, t in enumerate(times):
        draw.text((LABEL_W + k * size + 4, 25), f"{t:.1f} s", fill="#555555", font=font)
    for r, (row, label) in enumerate(zip(rows, labels)):
        y = HEADER_H + r * size
        draw.text((8, y + size // 2 - 12), label, fill="black", font=big)
        for k, img in enumerate(row):
            sheet.paste(Image.fromarray(img), (LABEL_W + k * size, y))
    return sheet


def save_small(image: Image.Image, path: Path, max_bytes: int = MAX_BYTES) -> int:
    """Save as JPEG at the best quality that stays under `max_bytes`; returns the size."""
    for quality in (85, 78, 70, 62, 55, 48, 40):
        image.save(path, "JPEG", quality=quality, optimize=True)
        if path.stat().st_size <= max_bytes:
            break
    return path.stat().st_size


def make_sheet(pipe, corpus: Path, genre: str, out_dir: Path, count: int, every_s: float, size: int) -> dict:
    """Generate and render one genre's sheet; returns its caption record (with the key)."""
    from lodge.evaluate.data import features_from_music

    item = longest_test_item(corpus, genre)
    generated = pipe(features_from_music(item.music), genre, seed=0, max_seconds=None).motion
    n = min(len(generated), len(item.motion))
    frames = frame_indices(n, count, every_s)
    generated_first = bool(np.random.default_rng(zlib.crc32(genre.encode())).random() < 0.5)
    real = facing_the_camera(item.motion[:n])
    motions = [generated, real] if generated_first else [real, generated]
    rows = [render_row(m[:n], frames, size) for m in motions]
    times = (frames - frames[0]) / FPS
    sheet = compose(rows, ["A", "B"], times, f"{genre}: one row is a real dancer, one is generated")
    path = out_dir / f"contact_sheet_{genre}.jpg"
    nbytes = save_small(sheet, path)
    return {"genre": genre, "file": path.name, "item": item.item_id, "take": item.take, "bytes": nbytes,
            "every_s": float((frames[1] - frames[0]) / FPS), "frames": count, "start_s": float(frames[0] / FPS),
            "generated": "A" if generated_first else "B", "real": "B" if generated_first else "A"}


def write_key(records: list[dict], out_dir: Path, checkpoint: str) -> Path:
    """`contact_sheets.md`: how the sheets were made and which row is which."""
    lines = ["# Contact sheets: generated beside real", "",
             "Made by `python benchmarks/contact_sheet.py`. Each sheet: the longest held-out test item of the genre; "
             "one row is its real dancer (CMU mocap), the other the model's dance to the same music "
             f"({checkpoint}, seed 0, default settings). Same frames, follow camera and mannequin; no cue tint; both "
             "start at the same place facing the camera (the real take turned about the vertical to it). "
             "Read them blind first; the key is below.", "",
             "| sheet | test item | frames | key |", "|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['file']} | {r['item']} | {r['frames']} every {r['every_s']:.2f} s from {r['start_s']:.1f} s "
                     f"| <details><summary>show</summary>{r['generated']} = generated, {r['real']} = real</details> |")
    path = out_dir / "contact_sheets.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """CLI."""
    from lodge.pipeline import LodgePipeline

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="corpus directory (items/ + split.json)")
    ap.add_argument("--checkpoint", default=None, help="checkpoint directory (default: shipped weights)")
    ap.add_argument("--genres", nargs="+", default=None, help="genres (default: every genre of the model)")
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--every", type=float, default=1.0, help="seconds between frames (less if the item is short)")
    ap.add_argument("--size", type=int, default=160, help="pixels per frame")
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args(argv)
    pipe = LodgePipeline.from_pretrained(args.checkpoint, device="cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    for genre in args.genres or pipe.genres:
        rec = make_sheet(pipe, args.data, genre, args.out, args.frames, args.every, args.size)
        records.append(rec)
        print(f"{rec['file']}: {rec['item']}, every {rec['every_s']:.2f} s, {rec['bytes'] / 1024:.0f} KB")
    key = write_key(records, args.out, args.checkpoint or "shipped weights")
    print(f"wrote {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
