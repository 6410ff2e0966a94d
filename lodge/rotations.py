"""Rotation conversions (torch, differentiable) between 6D, matrices, axis-angle and quaternions.

6D follows the pytorch3d convention used by the official Lodge code: the first two *rows* of
the rotation matrix, flattened. Quaternions are (w, x, y, z). Every function also accepts a
NumPy array and then returns one.
"""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

import numpy as np
import torch

Array = TypeVar("Array", torch.Tensor, np.ndarray)


def _numpy_compatible(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
    """Let a torch function take and return NumPy arrays too."""

    @functools.wraps(fn)
    def wrapper(x):
        if isinstance(x, np.ndarray):
            return fn(torch.from_numpy(np.ascontiguousarray(x))).numpy()
        return fn(x)

    return wrapper


@_numpy_compatible
def rotation_6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt on the two stored rows."""
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = torch.nn.functional.normalize(a1, dim=-1)
    b2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = torch.nn.functional.normalize(b2, dim=-1)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack((b1, b2, b3), dim=-2)


@_numpy_compatible
def matrix_to_rotation_6d(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 6): the first two rows."""
    return matrix[..., :2, :].reshape(*matrix.shape[:-2], 6).clone()


@_numpy_compatible
def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis * angle (radians) -> (..., 3, 3), Rodrigues' formula."""
    angle = torch.linalg.norm(axis_angle, dim=-1, keepdim=True)
    small = angle < 1e-8
    safe_angle = torch.where(small, torch.ones_like(angle), angle)
    axis = axis_angle / safe_angle
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack((zero, -z, y, z, zero, -x, -y, x, zero), dim=-1).reshape(*axis.shape[:-1], 3, 3)
    sin = torch.sin(angle)[..., None]
    cos = torch.cos(angle)[..., None]
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device).expand(k.shape)
    rot = eye + sin * k + (1 - cos) * (k @ k)
    # First-order expansion near zero keeps gradients finite.
    x0, y0, z0 = axis_angle.unbind(-1)
    k0 = torch.stack((zero, -z0, y0, z0, zero, -x0, -y0, x0, zero), dim=-1).reshape(k.shape)
    return torch.where(small[..., None], eye + k0, rot)


@_numpy_compatible
def quaternion_to_matrix(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) quaternion (w, x, y, z), any norm -> (..., 3, 3)."""
    w, x, y, z = torch.nn.functional.normalize(quat, dim=-1).unbind(-1)
    out = torch.stack(
        (
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ),
        dim=-1,
    )
    return out.reshape(*quat.shape[:-1], 3, 3)


@_numpy_compatible
def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 4) unit quaternion (w, x, y, z) with w >= 0."""
    m = matrix
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # Four candidate solutions; take the numerically best-conditioned one per element.
    q_abs = torch.sqrt(torch.clamp(torch.stack((
        1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22,
    ), dim=-1), min=0.0))
    m21_m12 = m[..., 2, 1] - m[..., 1, 2]
    m02_m20 = m[..., 0, 2] - m[..., 2, 0]
    m10_m01 = m[..., 1, 0] - m[..., 0, 1]
    m10p01 = m[..., 1, 0] + m[..., 0, 1]
    m02p20 = m[..., 0, 2] + m[..., 2, 0]
    m12p21 = m[..., 1, 2] + m[..., 2, 1]
    candidates = torch.stack((
        torch.stack((q_abs[..., 0] ** 2, m21_m12, m02_m20, m10_m01), dim=-1),
        torch.stack((m21_m12, q_abs[..., 1] ** 2, m10p01, m02p20), dim=-1),
        torch.stack((m02_m20, m10p01, q_abs[..., 2] ** 2, m12p21), dim=-1),
        torch.stack((m10_m01, m02p20, m12p21, q_abs[..., 3] ** 2), dim=-1),
    ), dim=-2)
    candidates = candidates / (2.0 * torch.clamp(q_abs[..., None], min=0.1))
    best = q_abs.argmax(dim=-1)
    quat = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    quat = torch.nn.functional.normalize(quat, dim=-1)
    return torch.where(quat[..., :1] < 0, -quat, quat)


@_numpy_compatible
def quaternion_to_axis_angle(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) (w, x, y, z) -> (..., 3) axis-angle with angle in [0, pi]."""
    quat = torch.nn.functional.normalize(quat, dim=-1)
    quat = torch.where(quat[..., :1] < 0, -quat, quat)
    xyz = quat[..., 1:]
    sin_half = torch.linalg.norm(xyz, dim=-1, keepdim=True)
    half = torch.atan2(sin_half, quat[..., :1])
    small = sin_half < 1e-8
    scale = torch.where(small, 2.0 + (half * half) / 3.0, 2.0 * half / torch.where(small, torch.ones_like(sin_half), sin_half))
    return xyz * scale


@_numpy_compatible
def axis_angle_to_quaternion(axis_angle: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 4) (w, x, y, z)."""
    angle = torch.linalg.norm(axis_angle, dim=-1, keepdim=True)
    half = 0.5 * angle
    small = angle < 1e-8
    scale = torch.where(small, 0.5 - angle * angle / 48.0, torch.sin(half) / torch.where(small, torch.ones_like(angle), angle))
    return torch.cat((torch.cos(half), axis_angle * scale), dim=-1)


@_numpy_compatible
def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 3)."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


@_numpy_compatible
def axis_angle_to_rotation_6d(axis_angle: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 6)."""
    return matrix_to_rotation_6d(axis_angle_to_matrix(axis_angle))


@_numpy_compatible
def rotation_6d_to_axis_angle(d6: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3)."""
    return matrix_to_axis_angle(rotation_6d_to_matrix(d6))
