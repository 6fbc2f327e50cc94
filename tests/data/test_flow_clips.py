"""Tests of course.data.flow_clips: the frames really move by the flow they come with (checked with
SciPy's spline interpolation), the motions have the documented form, and everything is seeded."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from course.data.flow_clips import MOTION_KINDS, synthetic_flow_clips, textured_images


def test_textured_images_are_seeded_and_span_zero_to_one():
    a, b = textured_images(3, 21, 34, seed=1), textured_images(3, 21, 34, seed=1)
    assert a.shape == (3, 21, 34) and a.dtype == torch.float32 and torch.equal(a, b)
    assert not torch.equal(a, textured_images(3, 21, 34, seed=2))
    assert torch.allclose(a.amin(dim=(1, 2)), torch.zeros(3)) and torch.allclose(a.amax(dim=(1, 2)), torch.ones(3))
    # textured: gradients almost everywhere (the flow is recoverable), but smooth
    gx = a[:, :, 1:] - a[:, :, :-1]
    assert (gx.abs() > 1e-3).float().mean() > 0.9 and gx.abs().max() < 0.3


@pytest.mark.parametrize("kind", MOTION_KINDS)
def test_shapes_dtypes_and_determinism(kind):
    c = synthetic_flow_clips(kind, num_clips=3, num_frames=4, height=19, width=25, seed=3)
    assert c.clips.shape == (3, 1, 4, 19, 25) and c.clips.dtype == torch.float32
    assert c.flows.shape == (3, 2, 3, 19, 25) and c.flows.dtype == torch.float32
    assert c.valid.shape == (3, 3, 19, 25) and c.valid.dtype == torch.bool
    d = synthetic_flow_clips(kind, num_clips=3, num_frames=4, height=19, width=25, seed=3)
    assert all(torch.equal(x, y) for x, y in zip(c, d))
    assert not torch.equal(c.clips, synthetic_flow_clips(kind, num_clips=3, num_frames=4, height=19, width=25,
                                                         seed=4).clips)


@pytest.mark.parametrize("kind", MOTION_KINDS)
def test_each_frame_is_the_previous_one_moved_by_the_flow(kind):
    """frame_{t+1}(p + flow(p)) = frame_t(p): sample frame t+1 with SciPy's cubic splines at p + flow."""
    c = synthetic_flow_clips(kind, num_clips=2, num_frames=3, height=41, width=53, seed=5)
    for n in range(2):
        for t in range(2):
            u, v = c.flows[n, 0, t].double().numpy(), c.flows[n, 1, t].double().numpy()
            ys, xs = np.mgrid[0:41, 0:53].astype(np.float64)
            moved = ndi.map_coordinates(c.clips[n, 0, t + 1].double().numpy(), [ys + v, xs + u], order=3)
            inner = c.valid[n, t].numpy().copy()
            inner[:3], inner[-3:], inner[:, :3], inner[:, -3:] = False, False, False, False
            residual = np.abs(moved - c.clips[n, 0, t].numpy())[inner]
            change = np.abs(c.clips[n, 0, t + 1].numpy() - c.clips[n, 0, t].numpy())[inner]
            # measured: residual 0.0005-0.0016 (interpolation), change 0.015-0.04
            assert residual.mean() < 0.003 and residual.mean() < 0.15 * change.mean()


def test_translation_is_constant_with_the_requested_length():
    c = synthetic_flow_clips("translation", num_clips=5, amount=2.5, seed=6)
    lengths = c.flows.norm(dim=1)  # (N, T - 1, H, W)
    assert torch.allclose(lengths, torch.full_like(lengths, 2.5), atol=1e-5)
    assert torch.allclose(c.flows, c.flows[..., :1, :1].expand_as(c.flows))
    assert c.valid.all(dim=(1, 2, 3)).logical_not().all()  # some pixels leave the frame


def test_rotation_flow_is_perpendicular_to_the_radius_and_proportional_to_it():
    c = synthetic_flow_clips("rotation", num_clips=1, amount=4.0, height=31, width=41, seed=7)
    flow = c.flows[0, :, 0].double()  # (2, H, W)
    speed = flow.norm(dim=0)
    center = torch.nonzero(speed == speed.min())[0]  # (y, x): the fixed point, within 2 px of the middle
    assert abs(center[0].item() - 15) <= 3 and abs(center[1].item() - 20) <= 3
    ys, xs = torch.meshgrid(torch.arange(31.0), torch.arange(41.0), indexing="ij")
    radius = torch.stack([xs, ys]).double()
    chord = 2 * math.sin(math.radians(4.0) / 2)  # |A p − p| = chord · |p − c|
    # speeds grow linearly with the distance from the fixed point
    r = (radius - radius[:, center[0], center[1]][:, None, None]).norm(dim=0)
    far = r > 10
    assert torch.allclose(speed[far] / r[far], torch.full_like(r[far], chord), rtol=0.2)


def test_zoom_flow_points_away_from_or_towards_the_centre():
    c = synthetic_flow_clips("zoom", num_clips=4, amount=0.05, height=31, width=41, seed=8)
    flow = c.flows[:, :, 0]
    ys, xs = torch.meshgrid(torch.arange(31.0), torch.arange(41.0), indexing="ij")
    out = torch.stack([xs - 20, ys - 15])  # roughly from the centre
    cosine = torch.nn.functional.cosine_similarity(flow, out[None], dim=1)  # (N, H, W)
    r = out.norm(dim=0)
    per_clip = cosine[:, r > 8].mean(dim=1)
    assert (per_clip.abs() > 0.9).all()  # radial: all outward (zoom in) or all inward (zoom out)


@pytest.mark.parametrize("kwargs", [dict(kind="shear"), dict(kind="zoom", num_frames=1),
                                    dict(kind="rotation", height=5), dict(kind="translation", amount=-1.0)])
def test_bad_arguments_raise_value_error(kwargs):
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError):
        synthetic_flow_clips(kind, **kwargs)
