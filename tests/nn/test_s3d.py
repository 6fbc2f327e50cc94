"""S3D: torchvision's parameter count, I3D as its all-3D case, the separable conv, bottom-/top-heavy mixes; FstCN."""
import pytest
import torch
import torch.nn.functional as F

from course.counting import count_flops, count_params
from course.nn.fstcn import fstcn
from course.nn.inception3d import i3d
from course.nn.s3d import CONV_KINDS, S3D, conv_unit, heavy_kinds, s3d, separable_conv3d, small_s3d

S3D_PARAMS = 8_320_048  # torchvision.models.video.s3d, 400 classes (its model table)


def test_s3d_parameter_count():
    with torch.device("meta"):
        assert count_params(s3d(num_classes=400)) == S3D_PARAMS


def test_all_3d_is_i3d():
    """Every temporal layer full 3D: the same parameter count as course.nn.inception3d's I3D (12,697,264)."""
    with torch.device("meta"):
        assert count_params(s3d(kinds=("3d",) * 11)) == count_params(i3d(num_classes=400)) == 12_697_264


def test_s3d_shapes_on_the_paper_input():
    with torch.device("meta"):
        model = s3d()
        x = torch.empty(1, 3, 64, 224, 224)
        expected = {"pool1": (64, 32, 56, 56), "pool2": (192, 32, 28, 28), "Mixed_3c": (480, 32, 28, 28),
                    "Mixed_4f": (832, 16, 14, 14), "Mixed_5c": (1024, 8, 7, 7)}
        for name, layer in model.features.named_children():
            x = layer(x)
            if name in expected:
                assert tuple(x.shape) == (1, *expected[name]), name
        assert model(torch.empty(1, 3, 64, 224, 224)).shape == (1, 400)


def test_separable_conv_is_a_rank_factored_3d_conv():
    """With non-negative inputs and spatial weights the ReLU is the identity, and spatial-then-temporal is one
    3D conv whose kernel is K[o, c, t, i, j] = Σ_m w_t[o, m, t] · w_s[m, c, i, j]."""
    torch.manual_seed(0)
    x = torch.rand(2, 3, 7, 9, 11, dtype=torch.float64)
    ws = torch.rand(5, 3, 1, 3, 3, dtype=torch.float64)
    wt = torch.randn(4, 5, 3, 1, 1, dtype=torch.float64)
    kernel = torch.einsum("omt,mcij->octij", wt[:, :, :, 0, 0], ws[:, :, 0])  # (4, 3, 3, 3, 3)
    assert torch.allclose(separable_conv3d(x, ws, wt), F.conv3d(x, kernel, padding=1))


def test_separable_conv_applies_the_relu_between():
    x = torch.randn(1, 2, 5, 6, 7)
    ws, wt = torch.randn(3, 2, 1, 3, 3), torch.zeros(2, 3, 1, 1, 1)
    wt[0, 0] = 1.0  # output 0 reads the spatial conv's channel 0 at the same time step
    assert torch.allclose(separable_conv3d(x, ws, wt)[:, 0], F.relu(F.conv3d(x, ws, padding=(0, 1, 1)))[:, 0])


@pytest.mark.parametrize("ws, wt", [((3, 2, 3, 3, 3), (2, 3, 3, 1, 1)), ((3, 2, 1, 2, 2), (2, 3, 3, 1, 1)),
                                    ((3, 2, 1, 3, 3), (2, 4, 3, 1, 1)), ((3, 2, 1, 3, 3), (2, 3, 2, 1, 1))])
def test_separable_conv_rejects_bad_weights(ws, wt):
    with pytest.raises(ValueError, match="weight"):
        separable_conv3d(torch.randn(1, 2, 5, 6, 7), torch.randn(ws), torch.randn(wt))


def test_heavy_kinds():
    assert heavy_kinds("bottom", 4, 1) == ("3d", "2d", "2d", "2d")
    assert heavy_kinds("top", 4, 1) == ("2d", "3d", "3d", "3d")
    assert heavy_kinds("top", 3, 3, other="sep") == ("sep",) * 3
    for bad in (("middle", 4, 1), ("top", 4, 5), ("top", 4, -1)):
        with pytest.raises(ValueError):
            heavy_kinds(*bad)


@pytest.mark.parametrize("kind", CONV_KINDS)
def test_conv_units_keep_sizes_and_stride(kind):
    unit = conv_unit(kind, 2, 4, 3, stride=(2, 2, 2))
    assert unit(torch.randn(1, 2, 7, 9, 11)).shape == (1, 4, 4, 5, 6)


def test_top_heavy_is_cheaper_than_bottom_heavy_at_the_same_number_of_3d_layers():
    """The paper's cost argument: 3D convs on the small top maps cost less than on the large bottom maps."""
    clip = torch.zeros(1, 1, 16, 32, 32)
    for n3d in (1, 2, 3):
        bottom = small_s3d(num_classes=4, kinds=heavy_kinds("bottom", 4, n3d))
        top = small_s3d(num_classes=4, kinds=heavy_kinds("top", 4, 4 - n3d))
        assert count_flops(top, clip) < count_flops(bottom, clip)


def test_small_s3d_forward_backward_on_odd_sizes():
    torch.manual_seed(0)
    model = small_s3d(num_classes=5, kinds=("3d", "sep", "2d", "3d"))
    y = model(torch.randn(2, 1, 9, 33, 31))
    assert y.shape == (2, 5)
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match="kinds"):
        S3D(3, kinds=("sep",) * 3)


def test_fstcn_is_order_blind_without_temporal_layers():
    torch.manual_seed(0)
    clip, perm = torch.randn(2, 1, 8, 17, 15), torch.randperm(8)
    spatial_only = fstcn(num_classes=4, in_channels=1, spatial_widths=(4, 8), temporal_layers=0).eval()
    assert torch.allclose(spatial_only(clip), spatial_only(clip[:, :, perm]), atol=1e-6)
    temporal = fstcn(num_classes=4, in_channels=1, spatial_widths=(4, 8), temporal_layers=2).eval()
    assert not torch.allclose(temporal(clip), temporal(clip[:, :, perm]), atol=1e-4)
    assert temporal(clip).shape == (2, 4)
    with pytest.raises(ValueError, match="temporal_kernel"):
        fstcn(num_classes=4, temporal_kernel=2)
