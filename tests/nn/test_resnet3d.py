"""Video ResNets: torchvision's published parameter counts, layouts, shapes, and the R(2+1)D count gap."""
import pytest
import torch

from course.nn.factorized import Conv2Plus1d, midplanes
from course.nn.resnet3d import (BasicBlock, block_mid_channels, create_video_resnet, make_conv, make_stem,
                                mc3_18, r2plus1d_18, r2plus1d_18_paper, r3d_18, rmc3_18, small_video_resnet)
from support import n_params

BUILDERS = {"r3d_18": r3d_18, "mc3_18": mc3_18, "rmc3_18": rmc3_18, "r2plus1d_18": r2plus1d_18,
            "r2plus1d_18_paper": r2plus1d_18_paper}
# torchvision.models.video: R3D_18_Weights / MC3_18_Weights / R2Plus1D_18_Weights.KINETICS400_V1 "num_params"
PUBLISHED = {"r3d_18": 33_371_472, "mc3_18": 11_695_440, "r2plus1d_18": 31_505_325}


def on_meta(builder, **kw):  # noqa: ANN001, ANN201 - shapes only: no memory, no initialisation cost
    with torch.device("meta"):
        return builder(**kw)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_counts_equal_torchvisions_published_ones(name):
    assert n_params(on_meta(BUILDERS[name])) == PUBLISHED[name]
    assert n_params(on_meta(BUILDERS[name], num_classes=10)) == PUBLISHED[name] - 390 * 513  # fc 512→400 vs →10


def test_paper_exact_r2plus1d_has_r3ds_count_and_torchvisions_gap_is_explained():
    r3d, paper, tv = (on_meta(b) for b in (r3d_18, r2plus1d_18_paper, r2plus1d_18))
    # measured: 33,383,797 / 33,371,472 = 1.00037 — the M_i rule keeps the count
    assert n_params(paper) == 33_383_797
    assert abs(n_params(paper) / n_params(r3d) - 1) < 5e-4
    # torchvision's R(2+1)D differs from the paper-exact one in exactly four places
    paper_modules = dict(paper.named_modules())
    gaps = {}
    for name, module in tv.named_modules():
        if isinstance(module, Conv2Plus1d) and module.mid_channels != paper_modules[name].mid_channels:
            gaps[name] = (module.mid_channels, paper_modules[name].mid_channels,
                          n_params(paper_modules[name]) - n_params(module))
    assert gaps == {  # conv2 of the first block of layer2-4 reuses conv1's M (1.8·N) instead of its own (2.25·N)
        "layer2.0.conv2.0": (230, 288, 89_204),
        "layer3.0.conv2.0": (460, 576, 356_584),
        "layer4.0.conv2.0": (921, 1152, 1_419_726),
    }
    stem_gap = n_params(paper.stem) - n_params(tv.stem)  # stem M = 45 instead of the rule's 83
    assert (tv.stem[0].out_channels, paper.stem[0].out_channels, stem_gap) == (45, 83, 12_958)
    assert n_params(paper) - n_params(tv) == sum(g for _, _, g in gaps.values()) + stem_gap


def test_torchvision_rule_is_conv1s_m_for_both_convs():
    for i, o in [(64, 64), (64, 128), (128, 256), (256, 512), (3, 64)]:
        m1, m2 = block_mid_channels("torchvision", i, o)
        assert m1 == m2 == midplanes(i, o, 3, 3)
        assert block_mid_channels("paper", i, o) == (midplanes(i, o, 3, 3), midplanes(o, o, 3, 3))
    with pytest.raises(ValueError):
        block_mid_channels("vmz", 64, 64)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_forward_shape_on_a_small_clip(name):
    torch.manual_seed(0)
    model = BUILDERS[name](num_classes=7).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 8, 64, 64))
    assert logits.shape == (1, 7) and torch.isfinite(logits).all()


@pytest.mark.parametrize("name, expected", [
    # (T, H, W) after the stem and layer1..layer4 for a (1, 3, 16, 112, 112) clip
    ("r3d_18", [(16, 56, 56), (16, 56, 56), (8, 28, 28), (4, 14, 14), (2, 7, 7)]),
    ("r2plus1d_18", [(16, 56, 56), (16, 56, 56), (8, 28, 28), (4, 14, 14), (2, 7, 7)]),
    ("mc3_18", [(16, 56, 56), (16, 56, 56), (16, 28, 28), (16, 14, 14), (16, 7, 7)]),  # 2D: no temporal stride
    ("rmc3_18", [(16, 56, 56), (16, 56, 56), (8, 28, 28), (4, 14, 14), (2, 7, 7)]),
])
def test_feature_map_sizes(name, expected):
    model = on_meta(BUILDERS[name])
    sizes, x = [], torch.empty(1, 3, 16, 112, 112, device="meta")
    for part in [model.stem, model.layer1, model.layer2, model.layer3, model.layer4]:
        x = part(x)
        sizes.append(tuple(x.shape[2:]))
    assert sizes == expected
    assert x.shape[1] == 512


def _kernels(module: torch.nn.Module) -> list[tuple[int, int, int]]:
    return [m.kernel_size for m in module.modules() if isinstance(m, torch.nn.Conv3d) and m.kernel_size != (1, 1, 1)]


def test_mixed_convolutions_have_3d_kernels_only_where_they_should():
    mc3, rmc3 = on_meta(mc3_18), on_meta(rmc3_18)
    # MC3: 3D in groups 1-2 (stem, layer1), 2D from group 3 on
    assert _kernels(mc3.stem) == [(3, 7, 7)] and set(_kernels(mc3.layer1)) == {(3, 3, 3)}
    for layer in (mc3.layer2, mc3.layer3, mc3.layer4):
        assert set(_kernels(layer)) == {(1, 3, 3)}
    # rMC3: the reverse
    assert _kernels(rmc3.stem) == [(1, 7, 7)] and set(_kernels(rmc3.layer1)) == {(1, 3, 3)}
    for layer in (rmc3.layer2, rmc3.layer3, rmc3.layer4):
        assert set(_kernels(layer)) == {(3, 3, 3)}
    # R(2+1)D: no full 3D kernel anywhere
    assert set(_kernels(on_meta(r2plus1d_18))) == {(1, 7, 7), (3, 1, 1), (1, 3, 3)}
    assert {k for k in _kernels(on_meta(r3d_18))} == {(3, 7, 7), (3, 3, 3)}


def test_state_dict_layout_is_torchvisions():
    keys = set(on_meta(r2plus1d_18).state_dict())
    for key in ["stem.0.weight", "stem.1.running_var", "stem.3.weight", "stem.4.bias",
                "layer1.0.conv1.0.0.weight", "layer1.0.conv1.0.1.weight", "layer1.0.conv1.0.3.weight",
                "layer1.0.conv1.1.weight", "layer1.0.conv2.0.3.weight", "layer2.0.downsample.0.weight",
                "layer2.0.downsample.1.running_mean", "fc.weight", "fc.bias"]:
        assert key in keys
    assert "layer1.0.downsample.0.weight" not in keys
    assert "layer1.0.conv1.0.weight" in set(on_meta(r3d_18).state_dict())


def test_building_blocks():
    assert isinstance(make_conv("2+1d", 4, 8, 2), Conv2Plus1d)
    assert make_conv("2d", 4, 8, 2).stride == (1, 2, 2) and make_conv("3d", 4, 8, 2).stride == (2, 2, 2)
    block = BasicBlock(4, 8, "2d", stride=2)
    assert block.downsample[0].stride == (1, 2, 2)  # no temporal stride in 2D groups
    assert BasicBlock(8, 8, "3d").downsample is None
    assert block(torch.randn(2, 4, 3, 9, 11)).shape == (2, 8, 3, 5, 6)
    assert make_stem("2+1d", 64, kernel_size=(3, 7, 7))[0].out_channels == 83
    for bad in [lambda: make_conv("4d", 4, 8), lambda: make_stem("1d", 8),
                lambda: create_video_resnet(widths=(8, 16)), lambda: create_video_resnet(midplanes_rule="x")]:
        with pytest.raises(ValueError):
            bad()


def test_small_configuration_matches_parameter_counts():
    counts = {k: n_params(small_video_resnet(k, num_classes=4, in_channels=1)) for k in ("r3d", "r2plus1d", "r2d")}
    assert abs(counts["r2plus1d"] / counts["r3d"] - 1) < 0.01  # matched (measured: 225,702 vs 225,068)
    assert counts["r2d"] < counts["r3d"] / 2
    torch.manual_seed(0)
    for kind in ("r3d", "r2plus1d", "r2d", "mc3", "rmc3"):
        model = small_video_resnet(kind, num_classes=4, in_channels=1)
        x = torch.rand(3, 1, 8, 32, 32, requires_grad=True)
        logits = model(x)
        assert logits.shape == (3, 4)
        logits.sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()
    with pytest.raises(ValueError):
        small_video_resnet("i3d", num_classes=4)


@pytest.mark.gpu
def test_small_network_runs_on_cuda_like_on_cpu():
    torch.manual_seed(0)
    model = small_video_resnet("r2plus1d", num_classes=4, in_channels=1).eval()
    x = torch.rand(2, 1, 8, 32, 32)
    with torch.no_grad():
        expected = model(x)
        got = model.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-4)


# --- against torchvision itself (not installable on the CPU CI machine; runs where it is installed) -------
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_same_modules_and_outputs_as_torchvision(name):
    video = pytest.importorskip("torchvision.models.video")
    torch.manual_seed(0)
    theirs = getattr(video, name)(weights=None).eval()
    ours = BUILDERS[name]().eval()
    assert n_params(theirs) == n_params(ours) == PUBLISHED[name]
    their_state = theirs.state_dict()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in their_state.items()}
    ours.load_state_dict(their_state)
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))
