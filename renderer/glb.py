"""`export_glb`: an animated glTF binary of the mannequin dancing (plays in gr.Model3D, three.js, Blender).

One node per skeleton joint (the SMPL hierarchy, y up, metres), each carrying its rigid mannequin part;
one animation "dance" with a rotation track per joint and a translation track on the pelvis, one key
per dance frame (linear interpolation).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pygltflib as gl

from lodge.constants import JOINT_NAMES, N_JOINTS, PARENTS
from lodge.dance import Dance
from lodge.motion import unpack_motion
from lodge.rotations import matrix_to_quaternion
from lodge.skeleton import rest_joints, rest_offsets

from . import palette
from .mannequin import load_mannequin


class _Blob:
    """Accumulates binary data, buffer views and accessors for one glTF buffer."""

    def __init__(self, gltf: gl.GLTF2):
        self.gltf = gltf
        self.data = bytearray()

    def add(self, array: np.ndarray, component: int, kind: str, target: int | None = None,
            bounds: bool = False) -> int:
        array = np.ascontiguousarray(array)
        while len(self.data) % 4:
            self.data.append(0)
        view = gl.BufferView(buffer=0, byteOffset=len(self.data), byteLength=array.nbytes, target=target)
        self.data.extend(array.tobytes())
        self.gltf.bufferViews.append(view)
        flat = array.reshape(len(array), -1)
        accessor = gl.Accessor(bufferView=len(self.gltf.bufferViews) - 1, componentType=component,
                               count=len(array), type=kind)
        if bounds:
            accessor.min = flat.min(axis=0).astype(float).tolist()
            accessor.max = flat.max(axis=0).astype(float).tolist()
        self.gltf.accessors.append(accessor)
        return len(self.gltf.accessors) - 1


def _continuous(quats: np.ndarray) -> np.ndarray:
    """Flip quaternion signs along time so consecutive keys are on the same hemisphere (no slerp spins)."""
    q = quats.copy()
    for t in range(1, len(q)):
        flip = (q[t] * q[t - 1]).sum(-1) < 0
        q[t, flip] *= -1
    return q


def _smooth_normals(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    tri = v[f]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n = np.zeros_like(v)
    for corner in range(3):
        np.add.at(n, f[:, corner], face_n)
    return (n / (np.linalg.norm(n, axis=1, keepdims=True) + 1e-12)).astype(np.float32)


def export_glb(dance: Dance, path: str | os.PathLike) -> Path:
    """Write the mannequin performing `dance` as an animated .glb and return its path."""
    _, transl, rotmats = unpack_motion(np.asarray(dance.motion, np.float32))
    frames = len(rotmats)
    quats = _continuous(np.asarray(matrix_to_quaternion(np.asarray(rotmats, np.float32)), np.float32))
    quats_xyzw = np.ascontiguousarray(quats[..., [1, 2, 3, 0]])  # glTF stores x, y, z, w
    root_pos = (np.asarray(transl) + rest_joints()[0]).astype(np.float32)
    times = (np.arange(frames) / float(dance.fps)).astype(np.float32)
    offsets = rest_offsets()
    parts = load_mannequin()

    gltf = gl.GLTF2(asset=gl.Asset(generator="Lodge Studio renderer"), scene=0)
    blob = _Blob(gltf)
    gltf.materials.append(gl.Material(
        name="mannequin",
        pbrMetallicRoughness=gl.PbrMetallicRoughness(
            baseColorFactor=[*palette.rgb(palette.BODY_COLOR).astype(float).tolist(), 1.0],
            metallicFactor=0.0, roughnessFactor=0.7),
    ))
    for j in range(N_JOINTS):
        v = np.ascontiguousarray(parts.vertices[j], np.float32)
        f = np.ascontiguousarray(parts.faces[j], np.uint32)
        pos = blob.add(v, gl.FLOAT, gl.VEC3, gl.ARRAY_BUFFER, bounds=True)
        nrm = blob.add(_smooth_normals(v, f), gl.FLOAT, gl.VEC3, gl.ARRAY_BUFFER)
        idx = blob.add(f.reshape(-1), gl.UNSIGNED_INT, gl.SCALAR, gl.ELEMENT_ARRAY_BUFFER)
        gltf.meshes.append(gl.Mesh(name=f"{JOINT_NAMES[j]}_part", primitives=[
            gl.Primitive(attributes=gl.Attributes(POSITION=pos, NORMAL=nrm), indices=idx, material=0)]))
    for j in range(N_JOINTS):
        children = [c for c in range(N_JOINTS) if PARENTS[c] == j]
        translation = root_pos[0] if j == 0 else offsets[j]
        gltf.nodes.append(gl.Node(name=JOINT_NAMES[j], mesh=j, children=children,
                                  translation=np.asarray(translation, float).tolist(),
                                  rotation=quats_xyzw[0, j].astype(float).tolist()))
    gltf.scenes.append(gl.Scene(name="dance", nodes=[0]))

    t_acc = blob.add(times, gl.FLOAT, gl.SCALAR, bounds=True)
    samplers, channels = [], []
    for j in range(N_JOINTS):
        out = blob.add(np.ascontiguousarray(quats_xyzw[:, j]), gl.FLOAT, gl.VEC4)
        samplers.append(gl.AnimationSampler(input=t_acc, output=out, interpolation="LINEAR"))
        channels.append(gl.AnimationChannel(sampler=len(samplers) - 1, target=gl.AnimationChannelTarget(node=j, path="rotation")))
    out = blob.add(root_pos, gl.FLOAT, gl.VEC3)
    samplers.append(gl.AnimationSampler(input=t_acc, output=out, interpolation="LINEAR"))
    channels.append(gl.AnimationChannel(sampler=len(samplers) - 1, target=gl.AnimationChannelTarget(node=0, path="translation")))
    gltf.animations.append(gl.Animation(name="dance", samplers=samplers, channels=channels))

    gltf.buffers.append(gl.Buffer(byteLength=len(blob.data)))
    gltf.set_binary_blob(bytes(blob.data))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    gltf.save_binary(str(path))
    return path
