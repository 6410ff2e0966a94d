"""Rendering speed: frames/s at 512x512 for the mannequin, naive vs optimised, the real-mesh (SMPL-X)
path beside it at 512 and 384 px, and the time to a finished 60-second video (render + H.264/AAC encode
in one pass).

    python benchmarks/bench_render.py [--size 512] [--frames 150] [--seconds 60] [--skip-video] [--skip-mesh]

naive:     the body rebuilt as a new mesh every frame, pyrender's default read-back (colour + depth) and
           its 4x multisampling: what a straightforward pyrender loop does.
optimised: the scene built once, the body's single vertex buffer updated in place (one draw call),
           colour-only read-back, single-sample framebuffer (renderer.stage.Stage).
real mesh: the SMPL-X path (renderer.body.SmplBody through the `smplx` package) on a synthetic,
           format-valid SMPL-X model with the real topology's 10,475 vertices (the mannequin's mesh on
           SMPL-X rest joints, see tests/fixtures/synthetic_body.py; no license-gated file needed). Frames
           are posed through `smplx` a batch at a time as the render reaches them (included in its rows;
           the posing cost alone is printed too); per frame the renderer recomputes normals and streams
           the vertex buffer, as for the mannequin.
Reports wall-clock frames/s and process CPU ms per frame (all llvmpipe threads): on a shared machine the
CPU figure is the steadier one.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from lodge.dance import Dance, Primitive  # noqa: E402
from lodge.motion import motion_to_joints, pack_motion, rest_motion, unpack_motion  # noqa: E402
from lodge.rotations import axis_angle_to_matrix  # noqa: E402


def synthetic_dance(seconds: float, fps: int = 30) -> Dance:
    """A travelling, swaying dance with primitives every two seconds."""
    frames = int(seconds * fps)
    contacts, transl, _ = unpack_motion(rest_motion(frames))
    t = np.arange(frames) / fps
    aa = np.zeros((frames, 22, 3), np.float32)
    aa[:, 16, 2] = -0.9 + 0.6 * np.sin(2 * np.pi * t)
    aa[:, 17, 2] = 0.9 + 0.6 * np.sin(2 * np.pi * t + 1)
    aa[:, 18, 1] = 0.9 * np.sin(2 * np.pi * 0.5 * t)
    aa[:, 19, 1] = -0.9 * np.sin(2 * np.pi * 0.5 * t)
    aa[:, 1, 0] = -0.6 * np.sin(2 * np.pi * t).clip(0)
    aa[:, 4, 0] = 1.1 * np.sin(2 * np.pi * t).clip(0)
    aa[:, 0, 1] = 0.8 * np.sin(0.4 * np.pi * t)
    transl = np.array(transl)
    transl[:, 0] = 1.2 * np.sin(0.1 * np.pi * t)
    transl[:, 2] = 0.8 * np.sin(0.07 * np.pi * t)
    motion = pack_motion(contacts, transl, axis_angle_to_matrix(aa))
    kinds = ("hard", "soft", "soft_mirror")
    prims = [Primitive(s, kinds[i % 3]) for i, s in enumerate(range(10, frames - 8, 2 * fps))]
    return Dance(motion=motion, joints=motion_to_joints(motion), genre="bench", beats=np.arange(0, frames, 15),
                 primitives=prims, segment_starts=np.arange(0, frames, 256))


def _timed(fn, frames: int) -> tuple[float, float]:
    """(wall frames/s, CPU ms per frame) of fn(i) over `frames` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(frames):
        fn(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return frames / wall, 1000 * cpu / frames


def bench_naive(dance: Dance, size: int, frames: int) -> tuple[float, float]:
    import pyrender
    import trimesh

    from renderer import palette
    from renderer.body import MannequinBody
    from renderer.camera import YFOV, camera_path

    body = MannequinBody(dance.motion)
    cams = camera_path(body.positions[:, 0], body.floor_height)
    scene = pyrender.Scene(bg_color=[*palette.rgb(palette.BACKGROUND_COLOR), 1.0], ambient_light=np.full(3, 0.25))
    floor = trimesh.creation.box(extents=(60, 0.01, 60))
    floor.apply_translation((0, body.floor_height - 0.005, 0))
    scene.add(pyrender.Mesh.from_trimesh(floor))
    for pos in ((2.0, 4.0, 3.0), (-3.0, 2.0, 1.5), (0.0, 3.0, -4.0)):
        from renderer.camera import look_at
        scene.add(pyrender.DirectionalLight(intensity=1.5), pose=look_at(np.array(pos), np.zeros(3)))
    cam = scene.add(pyrender.PerspectiveCamera(yfov=YFOV), pose=cams[0])
    renderer = pyrender.OffscreenRenderer(size, size)
    state = {"node": None}

    def frame(i: int) -> None:
        if state["node"] is not None:
            scene.remove_node(state["node"])
        data = body.vertex_data(i)
        mesh = trimesh.Trimesh(data[:, :3].copy(), body.faces, process=False)
        state["node"] = scene.add(pyrender.Mesh.from_trimesh(mesh, smooth=True))
        scene.set_pose(cam, cams[i])
        renderer.render(scene)

    frame(0)
    try:
        return _timed(frame, frames)
    finally:
        renderer.delete()


def bench_optimised(dance: Dance, size: int, frames: int, antialias: bool = False, body=None) -> tuple[float, float]:
    from renderer import palette
    from renderer.body import make_body
    from renderer.camera import camera_path
    from renderer.stage import Stage

    body = body or make_body(dance.motion)
    cams = camera_path(body.positions[:, 0], body.floor_height)
    tints, _ = palette.cue_tints(dance.primitives, dance.num_frames)
    stage = Stage(body, cams, tints, size=size, antialias=antialias)
    try:
        return _timed(stage.render, frames)
    finally:
        stage.close()


def mesh_body(dance: Dance, folder: Path):
    """(the SMPL-X body of `dance` on a synthetic model written to `folder`, ms per frame to pose it)."""
    from renderer.body import SmplBody
    from tests.fixtures.synthetic_body import write_model_folder

    write_model_folder(folder)
    body = SmplBody(dance.motion, folder, "smplx")
    start = time.perf_counter()
    for first in range(0, body.num_frames, body.BATCH):
        body.vertices(first)
    return body, 1000 * (time.perf_counter() - start) / body.num_frames


def bench_video(seconds: float, size: int, body: str = "mannequin") -> float:
    """Seconds from a Dance to a finished MP4 with music (scene set-up, render, encode); for a real-mesh
    `body` ("smplx") the synthetic SMPL-X model is written first (not timed)."""
    import soundfile as sf

    from renderer import render_video

    dance = synthetic_dance(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        sr = 44100
        t = np.arange(int(seconds * sr)) / sr
        song = Path(tmp) / "song.wav"
        sf.write(song, (0.2 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32), sr)
        smpl_dir = None
        if body != "mannequin":
            from tests.fixtures.synthetic_body import write_model_folder

            smpl_dir = write_model_folder(Path(tmp) / "models")
        start = time.perf_counter()
        render_video(dance, Path(tmp) / "out.mp4", song, size=size, body=body, smpl_dir=smpl_dir)
        return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--skip-video", action="store_true")
    p.add_argument("--skip-mesh", action="store_true", help="skip the real-mesh (SMPL-X) rows")
    args = p.parse_args()
    dance = synthetic_dance(max(args.frames / 30 + 1, 2))
    print(f"cores: {os.cpu_count()}  load average: {os.getloadavg()[0]:.2f}  size: {args.size}x{args.size}")
    for name, fn in (("naive (new mesh per frame, depth read, 4x MSAA)", lambda: bench_naive(dance, args.size, args.frames)),
                     ("optimised + 4x MSAA (--antialias)", lambda: bench_optimised(dance, args.size, args.frames, True)),
                     ("optimised (default)", lambda: bench_optimised(dance, args.size, args.frames))):
        fps, cpu = fn()
        print(f"{name:52s} {fps:6.1f} frames/s  {cpu:6.1f} CPU ms/frame")
    if not args.skip_mesh:
        with tempfile.TemporaryDirectory() as tmp:
            body, pose_ms = mesh_body(dance, Path(tmp))
        print(f"real mesh: {body.num_vertices} vertices, {len(body.faces)} faces; posing through smplx "
              f"{pose_ms:.1f} ms/frame (in the rows below)")
        rows = [(f"mannequin, optimised, {size} px", size, None) for size in sorted({args.size, 384}, reverse=True)]
        rows += [(f"real mesh (SMPL-X), optimised, {size} px", size, body) for size in sorted({args.size, 384}, reverse=True)]
        for name, size, mesh in rows:
            fps, cpu = bench_optimised(dance, size, args.frames, body=mesh)
            print(f"{name:52s} {fps:6.1f} frames/s  {cpu:6.1f} CPU ms/frame")
    if not args.skip_video:
        took = bench_video(args.seconds, args.size)
        print(f"{args.seconds:.0f}-second video (render + encode, default settings): {took:.1f} s "
              f"({args.seconds * 30 / took:.1f} frames/s end to end)")
        if not args.skip_mesh:
            for body in ("mannequin", "smplx"):
                took = bench_video(args.seconds, 384, body)
                print(f"{args.seconds:.0f}-second video, {body}, 384 px: {took:.1f} s "
                      f"({args.seconds * 30 / took:.1f} frames/s end to end)")


if __name__ == "__main__":
    main()
