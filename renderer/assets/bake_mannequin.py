"""Developer tool: bake `mannequin_convex.npz` from the Apache-2.0 package mannequin-x (not a runtime module).

Run with a Python >= 3.11 that has ``mannequin-x`` installed:

    python renderer/assets/bake_mannequin.py

It evaluates the rigid convex mannequin (LOD 0, neutral shape, relaxed hands) in its rest pose and
stores every rigid part's vertices relative to the lodge skeleton joint that moves it (joints 0..21;
finger parts ride on their wrist), so the renderer can pose the parts with lodge's own forward
kinematics and never import mannequin at runtime.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from lodge.constants import FOOT_JOINTS, N_JOINTS, PARENTS  # noqa: E402
from lodge.skeleton import rest_joints  # noqa: E402


def _lodge_joint(mannequin_joint: int, parents: list[int]) -> int:
    """Walk up the mannequin hierarchy to the first of the 22 body joints (hands -> wrists)."""
    j = mannequin_joint
    while j >= N_JOINTS:
        j = parents[j]
    return j


def main(lod: int = 0) -> Path:
    from mannequin import Mannequin

    model = Mannequin("convex", lod=lod)
    weights = model._weights
    pose = model.rest_pose()
    world = model.vertices(pose).astype(np.float64)
    transforms = model.joint_transforms(pose)
    # The mannequin's mesh is drawn left/right symmetric, but it moves about the SMPL-X body's own
    # (asymmetric) joints, which are lodge's: each part is stored relative to those.
    ours = rest_joints().astype(np.float64)
    assert np.abs(transforms[:N_JOINTS, :3, 3] - ours).max() < 1e-5, "mannequin rest joints differ from lodge's"
    assert tuple(weights.parents[:N_JOINTS]) == PARENTS

    local = np.empty_like(world)
    vertex_joint = np.empty(len(world), np.int8)
    for joint, start, count in zip(weights.link_joint_indices, weights.link_vertex_starts, weights.link_vertex_counts):
        body_joint = _lodge_joint(joint, weights.parents)
        local[start:start + count] = world[start:start + count] - ours[body_joint]
        vertex_joint[start:start + count] = body_joint
    faces = []
    for start_v, start_f, count_f in zip(weights.link_vertex_starts, weights.link_face_starts, weights.link_face_counts):
        faces.append(weights.faces[start_f:start_f + count_f] + 0)  # faces are already global indices
    faces = np.concatenate(faces).astype(np.int32)
    # Lodge grounds motions with the lowest toe *joint* at y = 0; the sole sits this far below it.
    sole_offset = float(world[:, 1].min() - ours[list(FOOT_JOINTS[2:]), 1].min())
    out = HERE / "mannequin_convex.npz"
    np.savez_compressed(
        out,
        vertices=local.astype(np.float32),
        faces=faces,
        vertex_joint=vertex_joint,
        sole_offset=np.float32(sole_offset),
    )
    print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB): {len(local)} vertices, {len(faces)} faces, sole {sole_offset:+.4f} m")
    return out


if __name__ == "__main__":
    main()
