"""The pyrender scene (soft lights, the body, a camera) built once and reused per frame, over the NumPy floor."""
from __future__ import annotations

import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # headless; must precede the first OpenGL import

import numpy as np
import pyrender
from OpenGL import GL as gl

from . import palette
from .camera import YFOV, look_at
from .floor import FloorPainter

class Stage:
    """A reusable scene for one dance: call :meth:`render` with each frame index.

    Built once: three directional lights, the camera and the body mesh, drawn over a transparent
    background; the floor and contact shadow are painted in NumPy (see floor.py) and the body composited
    over them. Per frame only the body's vertex buffer, its colour and the camera change.
    """

    def __init__(self, body, camera_poses: np.ndarray, tints: np.ndarray, size: int = 512,
                 antialias: bool = False):
        self.body = body
        self.camera_poses = camera_poses
        self.tints = tints
        self.scene = pyrender.Scene(bg_color=np.zeros(4), ambient_light=np.full(3, 0.25))
        self.floor = FloorPainter(size, camera_poses[0], body.floor_height, YFOV)
        self._add_lights()
        self.camera = self.scene.add(pyrender.PerspectiveCamera(yfov=YFOV, znear=0.1, zfar=80.0), pose=camera_poses[0])
        data = body.vertex_data(0)
        self.material = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=(*palette.rgb(palette.BODY_COLOR), 1.0), metallicFactor=0.0, roughnessFactor=0.7,
        )
        self.body_primitive = pyrender.Primitive(positions=data[:, :3].copy(), normals=data[:, 3:].copy(),
                                                 indices=body.faces, material=self.material)
        self.scene.add(pyrender.Mesh([self.body_primitive]))
        self.renderer = pyrender.OffscreenRenderer(size, size)
        self.size = size
        # Colour only: skip pyrender's depth read-back and its per-pixel depth linearisation.
        self.renderer._renderer._read_main_framebuffer = self._read_color
        self.multisampled = True  # pyrender always makes 4x buffers
        self.renderer.render(self.scene)  # creates the framebuffers and compiles the shaders
        if not antialias:
            self._single_sample()

    def _single_sample(self) -> None:
        """Give pyrender's 4x multisample buffers one sample: on llvmpipe 4x MSAA costs more than the whole scene."""
        r = self.renderer._renderer
        for buffer, fmt in ((r._main_cb_ms, gl.GL_RGBA), (r._main_db_ms, gl.GL_DEPTH_COMPONENT24)):
            gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, buffer)
            gl.glRenderbufferStorageMultisample(gl.GL_RENDERBUFFER, 0, fmt, self.size, self.size)
        gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, 0)
        self.multisampled = False

    def _add_lights(self) -> None:
        key = look_from(np.array([2.0, 4.0, 3.0]))
        fill = look_from(np.array([-3.0, 2.0, 1.5]))
        rim = look_from(np.array([0.0, 3.0, -4.0]))
        self.scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=1.7), pose=key)
        self.scene.add(pyrender.DirectionalLight(color=np.array([0.85, 0.9, 1.0]), intensity=0.6), pose=fill)
        self.scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=0.5), pose=rim)

    def _upload_body(self, frame: int) -> None:
        data = self.body.vertex_data(frame)
        prim = self.body_primitive
        if prim._vaid is None:  # not on the GPU yet: the first render uploads these arrays
            prim.positions, prim.normals = data[:, :3].copy(), data[:, 3:].copy()
            return
        # pyrender interleaves position and normal per vertex in the primitive's first buffer.
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, prim._buffers[0])
        gl.glBufferSubData(gl.GL_ARRAY_BUFFER, 0, data.nbytes, np.ascontiguousarray(data, np.float32))
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)

    def _read_color(self, scene, flags) -> np.ndarray:
        r = self.renderer._renderer
        width, height = r._main_fb_dims
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, r._main_fb_ms)
        if self.multisampled:  # resolve the samples first
            gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, r._main_fb)
            gl.glBlitFramebuffer(0, 0, width, height, 0, 0, width, height, gl.GL_COLOR_BUFFER_BIT, gl.GL_LINEAR)
            gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, r._main_fb)
        buf = gl.glReadPixels(0, 0, width, height, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE)
        return np.frombuffer(buf, np.uint8).reshape(height, width, 4)[::-1]

    def render(self, frame: int) -> np.ndarray:
        """Pose everything for `frame` and return an (H, W, 3) uint8 image."""
        self.renderer._platform.make_current()
        self._upload_body(frame)
        self.material.baseColorFactor = np.append(self.tints[frame], 1.0)
        pose = np.array(self.camera_poses[frame])
        self.scene.set_pose(self.camera, pose)
        rgba = self.renderer.render(self.scene)
        pelvis = self.body.pelvis(frame)
        rise = max(pelvis[1] - self.body.floor_height - 0.9, 0.0)  # the shadow fades as the dancer leaves the floor
        image = self.floor.paint(pose[[0, 2], 3], pelvis[[0, 2]], shadow_strength=0.42 * float(np.exp(-3.0 * rise)))
        return composite(image, rgba)

    def close(self) -> None:
        """Free the OpenGL context."""
        self.renderer.delete()


def composite(background: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """Body over floor. The GL background is transparent black, so `rgba` is premultiplied by coverage."""
    alpha = rgba[..., 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    if not len(rows):
        return background
    cols = np.flatnonzero(alpha[rows[0]:rows[-1] + 1].any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    a = alpha[box][..., None].astype(np.uint16)
    background[box] = ((background[box] * (255 - a) + 127) // 255 + rgba[box][..., :3]).clip(0, 255).astype(np.uint8)
    return background


def look_from(position: np.ndarray) -> np.ndarray:
    """Pose of a directional light at `position` shining at the origin."""
    return look_at(position, np.zeros(3))
