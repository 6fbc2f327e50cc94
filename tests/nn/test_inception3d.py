"""I3D: the parameter count of the paper's configuration, shapes, and that it is Inception-v1 inflated."""
import pytest
import torch
from torch import nn

from course.counting import count_params
from course.nn.inception3d import INCEPTION_V1_BLOCKS, I3D, InceptionBlock3d, Unit3D, i3d
from course.nn.inflation import inflate_model


def test_parameter_count_at_400_classes():
    with torch.device("meta"):
        assert count_params(i3d(num_classes=400)) == 12_697_264


@pytest.mark.parametrize("num_classes", [1, 101, 157])
def test_parameter_count_changes_only_in_the_logits(num_classes):
    with torch.device("meta"):
        model = i3d(num_classes=num_classes)
    assert count_params(model) == 12_697_264 - 1025 * 400 + 1025 * num_classes  # 1024 weights + 1 bias per class


def test_shapes_along_the_network_on_the_paper_input():
    with torch.device("meta"):
        model = i3d()
        x = torch.empty(2, 3, 64, 224, 224)
        expected = {"MaxPool3d_2a_3x3": (64, 32, 56, 56), "MaxPool3d_3a_3x3": (192, 32, 28, 28),
                    "Mixed_3c": (480, 32, 28, 28), "MaxPool3d_4a_3x3": (480, 16, 14, 14), "Mixed_4f": (832, 16, 14, 14),
                    "MaxPool3d_5a_2x2": (832, 8, 7, 7), "Mixed_5c": (1024, 8, 7, 7)}
        for name, layer in model.features.named_children():
            x = layer(x)
            if name in expected:
                assert tuple(x.shape) == (2, *expected[name]), name
        assert tuple(model(torch.empty(2, 3, 64, 224, 224)).shape) == (2, 400)


def test_module_names_and_units_follow_the_paper():
    model = i3d(num_classes=5)
    names = [n for n, _ in model.features.named_children()]
    assert names == ["Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
                     "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
                     "Mixed_4f", "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c"]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv3d)]
    assert all(c.bias is None for c in convs[:-1]) and convs[-1] is model.logits and model.logits.bias is not None
    assert model.features.Conv3d_1a_7x7.conv.kernel_size == (7, 7, 7)
    assert model.features.Conv3d_1a_7x7.conv.stride == (2, 2, 2)
    assert [b.out_channels for b in model.modules() if isinstance(b, InceptionBlock3d)] == \
        [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert sum(isinstance(m, nn.BatchNorm3d) for m in model.modules()) == len(convs) - 1


def test_forward_on_a_small_real_clip():
    """Real numbers on a short clip at the smallest size the 2×7×7 pool accepts (13 frames of 224×224)."""
    torch.manual_seed(0)
    model = I3D(num_classes=7).eval()
    with torch.no_grad():
        y = model(torch.randn(1, 3, 13, 224, 224))
    assert y.shape == (1, 7) and torch.isfinite(y).all()


# --- I3D is Inception-v1 inflated --------------------------------------------------------------------------
class BasicConv2d(nn.Sequential):
    def __init__(self, a: int, b: int, k: int, stride: int = 1) -> None:
        super().__init__(nn.Conv2d(a, b, k, stride, padding=k // 2, bias=False), nn.BatchNorm2d(b), nn.ReLU())


class Inception2d(nn.Module):
    def __init__(self, a: int, c0: int, c1r: int, c1: int, c2r: int, c2: int, c3: int) -> None:
        super().__init__()
        self.b0 = BasicConv2d(a, c0, 1)
        self.b1 = nn.Sequential(BasicConv2d(a, c1r, 1), BasicConv2d(c1r, c1, 3))
        self.b2 = nn.Sequential(BasicConv2d(a, c2r, 1), BasicConv2d(c2r, c2, 3))
        self.b3 = nn.Sequential(nn.MaxPool2d(3, 1, 1), BasicConv2d(a, c3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], dim=1)


def inception_v1_2d(num_classes: int) -> nn.Sequential:
    """Inception-v1 with batch norm, written here from the table of Szegedy et al. 2015 (independently of i3d)."""
    table = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), "pool",
             (480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
             (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128), "pool",
             (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]
    layers = [BasicConv2d(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1), BasicConv2d(64, 64, 1), BasicConv2d(64, 192, 3),
              nn.MaxPool2d(3, 2, 1)]
    layers += [nn.MaxPool2d(3, 2, 1) if row == "pool" else Inception2d(*row) for row in table]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1024, num_classes))


def test_i3d_has_the_weights_of_inception_v1_inflated():
    """Same parameter tensors (up to the classifier's layout) as the 2D network inflated with 7×7×7 and 3×3×3."""
    with torch.device("meta"):
        model2d = inception_v1_2d(400)
        inflated = inflate_model(model2d, 3, time_dims={"0.0": 7})
        model = i3d(num_classes=400)
    assert count_params(inflated) == count_params(model) == 12_697_264
    shapes = sorted(tuple(p.shape) for p in inflated.parameters() if p.dim() != 2)  # all but the Linear weight
    ours = sorted(tuple(p.shape) for p in model.parameters() if p is not model.logits.weight)
    assert shapes == ours
    assert tuple(model.logits.weight.shape[:2]) == tuple(model2d[-1].weight.shape)
    assert [row for row in INCEPTION_V1_BLOCKS.values()][0] == (64, 96, 128, 16, 32, 32)


def test_unit3d_pads_to_keep_the_size():
    unit = Unit3D(2, 4, (3, 5, 1))
    assert unit(torch.randn(1, 2, 5, 6, 7)).shape == (1, 4, 5, 6, 7)
    assert unit.conv.bias is None
