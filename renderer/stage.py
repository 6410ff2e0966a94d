"""The pyrender scene: floor, soft lights, a blob shadow, the body and a camera, built once and reused per frame."""
from __future__ import annotations

import os

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # headless; must precede the first OpenGL import

import numpy as np
import pyrender
from OpenGL import GL as gl

from . import palette
from .camera import YFOV, look_at

FLOOR_SIZE = 60.0  # metres
TILE = 0.5  # metres per checker tile


def _checker_texture(pixels_per_tile: int = 32) -> np.ndarray:
    """A 2x2-tile checker with thin grid lines, RGB uint8; tiles once per metre on the floor."""
    n = 2 * pixels_per_tile
    yy, xx = np.mgrid[0:n, 0:n]
    checker = ((yy // pixels_per_tile + xx // pixels_per_tile) % 2).astype(bool)
    img = np.where(checker[..., None], palette.rgb8(palette.FLOOR_COLORS[1]), palette.rgb8(palette.FLOOR_COLORS[0]))
    line = (yy % pixels_per_tile == 0) | (xx % pixels_per_tile == 0)
    img[line] = palette.rgb8(palette.GRID_COLOR)
    return img.astype(np.uint8)


def _blob_texture(size: int = 64) -> np.ndarray:
    """RGBA radial gradient: a soft contact shadow."""
    yy, xx = np.mgrid[0:size, 0:size]
    r = np.hypot(xx - (size - 1) / 2, yy - (size - 1) / 2) / (size / 2)
    alpha = np.clip(1.0 - r, 0.0, 1.0) ** 1.6 * 0.55
    img = np.zeros((size, size, 4), np.uint8)
    img[..., 3] = (alpha * 255).astype(np.uint8)
    return img


def _textured_quad(size: float, uv_repeat: float, texture: np.ndarray, blend: bool) -> pyrender.Mesh:
    """A horizontal square (y = 0) centred on the origin, facing up."""
    h = size / 2
    verts = np.array([[-h, 0, -h], [h, 0, -h], [h, 0, h], [-h, 0, h]], np.float32)
    faces = np.array([[0, 2, 1], [0, 3, 2]], np.int32)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32) * uv_repeat
    prim = pyrender.Primitive(
        positions=verts, indices=faces, texcoord_0=uv,
        normals=np.tile([0.0, 1.0, 0.0], (4, 1)).astype(np.float32),
        material=pyrender.MetallicRoughnessMaterial(
            baseColorTexture=pyrender.Texture(source=texture, source_channels="RGBA" if blend else "RGB"),
            metallicFactor=0.0, roughnessFactor=1.0,
            alphaMode="BLEND" if blend else "OPAQUE",
        ),
    )
    return pyrender.Mesh([prim])


class Stage:
    """A reusable scene for one dance: call :meth:`render` with each frame index.

    Built once: floor, blob shadow, three directional lights, the camera and the body mesh. Per frame
    only the body's vertex buffer, its colour, the shadow and the camera change.
    """

    def __init__(self, body, camera_poses: np.ndarray, tints: np.ndarray, size: int = 512,
                 floor_center: np.ndarray | None = None):
        self.body = body
        self.camera_poses = camera_poses
        self.tints = tints
        self.scene = pyrender.Scene(bg_color=np.append(palette.rgb(palette.BACKGROUND_COLOR), 1.0),
                                    ambient_light=np.full(3, 0.25))
        floor_y = body.floor_height
        center = np.zeros(2) if floor_center is None else np.asarray(floor_center, np.float64)
        floor_pose = np.eye(4)
        # Whole-metre offsets keep the checker's tiles at fixed world positions.
        floor_pose[:3, 3] = [np.round(center[0]), floor_y, np.round(center[1])]
        self.scene.add(_textured_quad(FLOOR_SIZE, FLOOR_SIZE, _checker_texture(), blend=False), pose=floor_pose)
        self.shadow = self.scene.add(_textured_quad(1.3, 1.0, _blob_texture(), blend=True), pose=np.eye(4))
        self.shadow_y = floor_y + 0.003
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
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, r._main_fb)
        gl.glBlitFramebuffer(0, 0, width, height, 0, 0, width, height, gl.GL_COLOR_BUFFER_BIT, gl.GL_LINEAR)
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, r._main_fb)
        buf = gl.glReadPixels(0, 0, width, height, gl.GL_RGB, gl.GL_UNSIGNED_BYTE)
        return np.frombuffer(buf, np.uint8).reshape(height, width, 3)[::-1]

    def render(self, frame: int) -> np.ndarray:
        """Pose everything for `frame` and return an (H, W, 3) uint8 image."""
        self.renderer._platform.make_current()
        self._upload_body(frame)
        self.material.baseColorFactor = np.append(self.tints[frame], 1.0)
        pelvis = self.body.pelvis(frame)
        shadow = np.eye(4)
        height = max(pelvis[1] - self.shadow_y, 0.3)
        shadow[:3, :3] *= np.clip(1.1 - 0.25 * (height - 0.9), 0.6, 1.3)  # shrink as the dancer rises
        shadow[:3, 3] = [pelvis[0], self.shadow_y, pelvis[2]]
        self.scene.set_pose(self.shadow, shadow)
        self.scene.set_pose(self.camera, np.array(self.camera_poses[frame]))
        return self.renderer.render(self.scene)

    def close(self) -> None:
        """Free the OpenGL context."""
        self.renderer.delete()


def look_from(position: np.ndarray) -> np.ndarray:
    """Pose of a directional light at `position` shining at the origin."""
    return look_at(position, np.zeros(3))
