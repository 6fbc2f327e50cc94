"""Synthetic clips with known optical flow: a seeded texture under translation, rotation or zoom.

To measure an optical flow method one needs the true flow. Here it is known by construction: a
smooth random texture is a continuous image Tex(p) (bicubic interpolation of a grid larger than
the frame), and a motion is an affine map A of the plane (pixel coordinates, x along width, y
along height). Frame t shows the texture moved t times,

    frame_t(q) = Tex(A^{-t} q),

so a point p of frame t is at A·p in frame t + 1, and the flow between any two consecutive frames is

    flow(p) = A·p − p        (the course convention: frame_{t+1}(p + flow(p)) = frame_t(p)).

Three kinds of motion, with random parameters per clip drawn from the seed:

    "translation"  A·p = p + d, |d| = ``amount`` pixels in a uniformly random direction
    "rotation"     about a point near the centre by ±``amount`` degrees per frame
    "zoom"         about a point near the centre by a factor 1 ± ``amount`` per frame

The texture is a sum of three octaves of bicubically upsampled Gaussian noise (features 4, 8 and
16 pixels wide), rescaled to [0, 1]: textured everywhere, so the aperture problem is mild and the
flow is recoverable, and smooth enough for the derivatives of the flow constraint. It extends a
margin beyond the frame, so content that enters a frame is texture too. Where p + flow(p) leaves
the frame, the second frame cannot show where p went: those pixels are marked not ``valid``.

    textured_images(num_images, height, width, seed=...)           (N, H, W) float32 in [0, 1]
    synthetic_flow_clips(kind, num_clips=..., num_frames=..., ...)  FlowClips(clips, flows, valid)
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = ["MOTION_KINDS", "FlowClips", "textured_images", "synthetic_flow_clips"]

#: The kinds of motion of :func:`synthetic_flow_clips`.
MOTION_KINDS: tuple[str, ...] = ("translation", "rotation", "zoom")
_DEFAULT_AMOUNT = {"translation": 1.5, "rotation": 3.0, "zoom": 0.04}  # px, degrees, relative scale per frame
_OCTAVES = ((4, 0.25), (8, 0.5), (16, 1.0))  # (feature size in px, weight) of the texture's noise octaves


class FlowClips(NamedTuple):
    """Clips with their true flow (layouts of ``course.video.flow``)."""

    clips: torch.Tensor  #: (N, 1, T, H, W) float32 in [0, 1], the Conv3d layout
    flows: torch.Tensor  #: (N, 2, T − 1, H, W) float32, pixels: the flow from frame t to t + 1 at index t
    valid: torch.Tensor  #: (N, T − 1, H, W) bool, True where p + flow(p) lies inside the frame


def _textures(num_images: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """(N, H, W) float64 in [0, 1]: octaves of bicubically upsampled Gaussian noise."""
    total = torch.zeros(num_images, 1, height, width, dtype=torch.float64)
    for feature, weight in _OCTAVES:
        coarse = torch.randn(num_images, 1, height // feature + 4, width // feature + 4, generator=generator,
                             dtype=torch.float64)
        fine = F.interpolate(coarse, scale_factor=feature, mode="bicubic", align_corners=False)
        total += weight * fine[..., 2 * feature:2 * feature + height, 2 * feature:2 * feature + width]
    low = total.amin(dim=(1, 2, 3), keepdim=True)
    high = total.amax(dim=(1, 2, 3), keepdim=True)
    return ((total - low) / (high - low))[:, 0]


def textured_images(num_images: int, height: int, width: int, *, seed: int = 0) -> torch.Tensor:
    """Smooth random textures: the same seed and sizes give the same images, bit for bit.

    Args:
        num_images: N, >= 1.
        height: H in pixels, >= 1.
        width: W in pixels, >= 1.
        seed: the seed of the noise.

    Returns:
        (N, H, W) float32 in [0, 1] (each image spans the whole range).

    Raises:
        ValueError: a size < 1.
    """
    if min(num_images, height, width) < 1:
        raise ValueError(f"num_images, height and width must be >= 1, got {num_images}, {height}, {width}")
    return _textures(num_images, height, width, torch.Generator().manual_seed(seed)).float()


def _motions(kind: str, num_clips: int, amount: float, center: tuple[float, float],
             generator: torch.Generator) -> torch.Tensor:
    """(N, 3, 3) float64 homogeneous maps A in pixel coordinates (x, y, 1), one per clip."""
    A = torch.eye(3, dtype=torch.float64).repeat(num_clips, 1, 1)
    draws = torch.rand(num_clips, 3, generator=generator, dtype=torch.float64)
    if kind == "translation":
        angle = 2 * math.pi * draws[:, 0]
        A[:, 0, 2], A[:, 1, 2] = amount * torch.cos(angle), amount * torch.sin(angle)
        return A
    sign = torch.where(draws[:, 0] < 0.5, -1.0, 1.0).double()
    c = torch.tensor(center, dtype=torch.float64) + 4 * (draws[:, 1:] - 0.5)  # (N, 2): centre ± 2 px
    if kind == "rotation":
        theta = sign * math.radians(amount)
        M = torch.stack([torch.stack([torch.cos(theta), -torch.sin(theta)], -1),
                         torch.stack([torch.sin(theta), torch.cos(theta)], -1)], -2)  # (N, 2, 2)
    else:  # zoom
        M = (1 + sign * amount)[:, None, None] * torch.eye(2, dtype=torch.float64)
    A[:, :2, :2] = M
    A[:, :2, 2] = c - (M @ c[:, :, None])[:, :, 0]  # A·p = c + M·(p − c)
    return A


def synthetic_flow_clips(kind: str, *, num_clips: int = 4, num_frames: int = 2, height: int = 47, width: int = 63,
                         amount: float | None = None, seed: int = 0) -> FlowClips:
    """Seeded clips of a moving texture and their exact optical flow (see the module docstring).

    Args:
        kind: "translation", "rotation" or "zoom".
        num_clips: N, >= 1.
        num_frames: T, >= 2.
        height: H in pixels, >= 8.
        width: W in pixels, >= 8.
        amount: size of the motion per frame: pixels (translation), degrees (rotation) or the
            relative change of scale (zoom, 0.04 = 4 %); None uses 1.5 px, 3° and 0.04.
        seed: the same seed (with the same other arguments) gives the same clips.

    Returns:
        :class:`FlowClips` with clips (N, 1, T, H, W) float32 in [0, 1], flows (N, 2, T − 1, H, W)
        float32 in pixels and valid (N, T − 1, H, W) bool.

    Raises:
        ValueError: an unknown kind, T < 2, sizes too small, or amount < 0.
    """
    # 1. validate
    if kind not in MOTION_KINDS:
        raise ValueError(f"kind must be one of {MOTION_KINDS}, got {kind!r}")
    if num_clips < 1 or num_frames < 2 or height < 8 or width < 8:
        raise ValueError(f"need num_clips >= 1, num_frames >= 2, height and width >= 8; got {num_clips}, "
                         f"{num_frames}, {height}, {width}")
    amount = _DEFAULT_AMOUNT[kind] if amount is None else float(amount)
    if amount < 0:
        raise ValueError(f"amount must be >= 0, got {amount}")
    N, T, H, W = num_clips, num_frames, height, width
    generator = torch.Generator().manual_seed(seed)
    # 2. a texture larger than the frame by a margin that covers the motion of the whole clip
    A = _motions(kind, N, amount, ((W - 1) / 2, (H - 1) / 2), generator)  # (N, 3, 3)
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64),
                            indexing="ij")
    points = torch.stack([xs, ys, torch.ones_like(xs)]).reshape(3, -1)  # (3, H·W) homogeneous (x, y, 1)
    sources = torch.stack([torch.linalg.matrix_power(torch.linalg.inv(A), t) @ points for t in range(T)], 1)
    sources = sources[:, :, :2].reshape(N, T, 2, H, W)  # (N, T, 2, H, W): A^{-t} q for every pixel q
    margin = int(math.ceil(float((sources - torch.stack([xs, ys])).abs().max()))) + 4
    texture = _textures(N, H + 2 * margin, W + 2 * margin, generator)  # (N, H + 2m, W + 2m)
    # 3. frame t samples the texture at A^{-t} q (bicubic; pixel p of the frame is texel p + margin)
    tex_h, tex_w = texture.shape[-2:]
    gx = 2 * (sources[:, :, 0] + margin) / (tex_w - 1) - 1  # (N, T, H, W), align_corners=True
    gy = 2 * (sources[:, :, 1] + margin) / (tex_h - 1) - 1
    grid = torch.stack([gx, gy], dim=-1).reshape(N, T * H, W, 2)
    frames = F.grid_sample(texture[:, None], grid, mode="bicubic", align_corners=True)  # (N, 1, T·H, W)
    clips = frames.reshape(N, 1, T, H, W)
    # 4. the flow A·p − p, the same between every pair of frames; valid where A·p stays in the frame
    moved = (A @ points)[:, :2].reshape(N, 2, H, W)  # (N, 2, H, W)
    flow = moved - torch.stack([xs, ys])  # (N, 2, H, W), pixels
    inside = ((moved[:, 0] >= 0) & (moved[:, 0] <= W - 1) & (moved[:, 1] >= 0) & (moved[:, 1] <= H - 1))
    flows = flow[:, :, None].expand(N, 2, T - 1, H, W)
    return FlowClips(clips=clips.float(), flows=flows.float().contiguous(),
                     valid=inside[:, None].expand(N, T - 1, H, W).contiguous())
