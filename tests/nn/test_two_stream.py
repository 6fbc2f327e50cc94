"""Tests of course.nn.two_stream: flow stacking against an explicit loop, score fusion against SciPy's
softmax, the packed input, the models' shapes, and frozen streams during learned fusion."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch

from course.nn.fusion import SingleFrame
from course.nn.two_stream import FlowStream, TwoStream, fuse_scores, pack_two_stream, stack_flows
from course.train import fit


def test_stack_flows_interleaves_u_and_v_pair_by_pair():
    flows = torch.randn(2, 2, 5, 7, 9, generator=torch.Generator().manual_seed(0))
    stacked = stack_flows(flows)
    assert stacked.shape == (2, 10, 7, 9)
    expected = torch.cat([flows[:, c, k][:, None] for k in range(5) for c in range(2)], dim=1)  # u1 v1 u2 v2 ...
    assert torch.equal(stacked, expected)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5, 5), (2, 2, 5, 5)])
def test_stack_flows_rejects_bad_shapes(shape):
    with pytest.raises(ValueError):
        stack_flows(torch.zeros(shape))


def test_fuse_scores_averages_softmax_probabilities():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(6, 5, generator=g, dtype=torch.float64) * 3, torch.randn(6, 5, generator=g, dtype=torch.float64)
    for w in (0.0, 0.3, 0.5, 1.0):
        expected = (1 - w) * scipy.special.softmax(a.numpy(), axis=1) + w * scipy.special.softmax(b.numpy(), axis=1)
        np.testing.assert_allclose(fuse_scores(a, b, w).numpy(), expected, atol=1e-12)
    # averaging probabilities is not averaging logits: a confident stream does not drown the other
    assert not torch.allclose(fuse_scores(a, b), torch.softmax((a + b) / 2, dim=1))
    with pytest.raises(ValueError):
        fuse_scores(a, b, 1.5)
    with pytest.raises(ValueError):
        fuse_scores(a, b[:, :4])


def test_pack_two_stream_keeps_clip_and_flows_and_pads_the_last_flow():
    clip, flows = torch.rand(3, 1, 8, 11, 13), torch.randn(3, 2, 7, 11, 13)
    packed = pack_two_stream(clip, flows)
    assert packed.shape == (3, 3, 8, 11, 13)
    assert torch.equal(packed[:, :1], clip) and torch.equal(packed[:, 1:, :7], flows)
    assert torch.count_nonzero(packed[:, 1:, 7]) == 0
    with pytest.raises(ValueError):
        pack_two_stream(clip, flows[:, :, :6])


def test_flow_stream_shapes_and_checks():
    model = FlowStream(4, num_pairs=7)
    assert model(torch.randn(5, 2, 7, 32, 32)).shape == (5, 4)
    assert model(torch.randn(2, 2, 7, 33, 31)).shape == (2, 4)  # odd sizes
    assert 5_000 < sum(p.numel() for p in model.parameters()) < 20_000
    with pytest.raises(ValueError):
        model(torch.randn(2, 2, 6, 32, 32))


def test_average_fusion_is_the_log_of_fused_scores():
    torch.manual_seed(0)
    rgb, flow = SingleFrame(4).eval(), FlowStream(4, num_pairs=7).eval()
    clip, flows = torch.rand(3, 1, 8, 32, 32), torch.randn(3, 2, 7, 32, 32)
    model = TwoStream(rgb, flow, 4, flow_weight=0.7).eval()
    expected = torch.log(fuse_scores(rgb(clip), flow(flows), 0.7))
    assert torch.allclose(model(pack_two_stream(clip, flows)), expected, atol=1e-6)


def test_learned_fusion_trains_only_the_fusion_layer():
    torch.manual_seed(0)
    rgb, flow = SingleFrame(4), FlowStream(4, num_pairs=3)
    before = {k: v.clone() for k, v in [*rgb.state_dict().items(), *flow.state_dict().items()]}
    model = TwoStream(rgb, flow, 4, fusion="learned")
    data = (pack_two_stream(torch.rand(24, 1, 4, 16, 16), torch.randn(24, 2, 3, 16, 16)), torch.arange(24) % 4)
    combine_before = model.combine.weight.clone()
    fit(model, data, epochs=2, batch_size=8, lr=1e-2, progress=False, device="cpu")
    after = {k: v for k, v in [*rgb.state_dict().items(), *flow.state_dict().items()]}
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BatchNorm statistics
    assert not torch.equal(combine_before, model.combine.weight)
    assert model.training and not rgb.training and not flow.training


def test_two_stream_rejects_unknown_fusion_and_bad_input():
    with pytest.raises(ValueError):
        TwoStream(SingleFrame(4), FlowStream(4, num_pairs=7), 4, fusion="max")
    model = TwoStream(SingleFrame(4), FlowStream(4, num_pairs=7), 4)
    with pytest.raises(ValueError):
        model(torch.rand(2, 1, 8, 32, 32))
