"""course.nn.adapt: RGB first convolutions adapted to CT channels, checked through torch's own convolutions."""
import pytest
import torch
from torch import nn

from course.nn.adapt import adapt_conv_module, adapt_input_channels

torch.manual_seed(0)


def _rgb_conv(kind: str) -> nn.Module:
    """An RGB first convolution with awkward sizes and a bias, standing in for a pretrained stem."""
    if kind == "3d":
        conv = nn.Conv3d(3, 5, kernel_size=(3, 5, 4), stride=(1, 2, 2), padding=(1, 2, 1), dilation=(1, 1, 2))
    else:
        conv = nn.Conv2d(3, 5, kernel_size=(5, 4), stride=2, padding=(2, 1), dilation=(1, 2))
    with torch.no_grad():  # weights far from symmetric over RGB, so a wrong combination shows
        conv.weight.normal_()
        conv.weight[:, 0] *= 3.0
        conv.bias.normal_()
    return conv.double()


def _gray(kind: str, channels: int = 1) -> torch.Tensor:
    """A gray volume (N, 1, D, H, W) or image (N, 1, H, W) of odd sizes, float64."""
    shape = (2, channels, 7, 17, 14) if kind == "3d" else (2, channels, 17, 14)
    return torch.randn(shape, dtype=torch.float64)


@pytest.mark.parametrize("kind", ["3d", "2d"])
def test_sum_boring_volume_gives_the_pretrained_response(kind):
    """Check that a gray volume as RGB through the original conv equals it as 1 channel through the adapted conv."""
    conv = _rgb_conv(kind)
    x = _gray(kind)
    expected = conv(x.repeat(1, 3, *([1] * (x.dim() - 2))))
    adapted = adapt_conv_module(conv, 1, mode="sum")
    assert type(adapted) is type(conv)
    assert adapted.in_channels == 1 and adapted.weight.shape[1] == 1
    torch.testing.assert_close(adapted(x), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", ["3d", "2d"])
def test_mean_gives_a_third_of_the_response(kind):
    """Check that "mean" gives one third of the pretrained response to the repeated volume (bias aside)."""
    conv = _rgb_conv(kind)
    x = _gray(kind)
    no_bias = conv(x.repeat(1, 3, *([1] * (x.dim() - 2)))) - conv.bias.view(1, -1, *([1] * (x.dim() - 2)))
    adapted = adapt_conv_module(conv, 1, mode="mean")
    torch.testing.assert_close(adapted(x) - adapted.bias.view(1, -1, *([1] * (x.dim() - 2))), no_bias / 3,
                               atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", ["3d", "2d"])
def test_first_is_the_red_kernel(kind):
    """Check that "first" equals the red slice, and responds as the original to a volume in the red channel only."""
    conv = _rgb_conv(kind)
    weight = adapt_input_channels(conv.weight, 1, mode="first")
    torch.testing.assert_close(weight, conv.weight[:, :1].detach(), atol=0, rtol=0)
    x = _gray(kind)
    red_only = torch.cat([x, torch.zeros_like(x), torch.zeros_like(x)], dim=1)
    torch.testing.assert_close(adapt_conv_module(conv, 1, mode="first")(x), conv(red_only), atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind, in_channels", [("3d", 2), ("2d", 2), ("3d", 4)])
def test_sum_spread_over_channels_gives_the_pretrained_response(kind, in_channels):
    """Check that with in_channels > 1 a volume repeated over the channels gives the pretrained response."""
    conv = _rgb_conv(kind)
    x = _gray(kind)
    ones = [1] * (x.dim() - 2)
    adapted = adapt_conv_module(conv, in_channels, mode="sum")
    assert adapted.weight.shape[1] == in_channels
    expected = conv(x.repeat(1, 3, *ones))
    torch.testing.assert_close(adapted(x.repeat(1, in_channels, *ones)), expected, atol=1e-5, rtol=0)


def test_module_keeps_the_settings_and_copies():
    """Check that the adapted conv keeps the conv settings and dtype, and copies the bias (shares nothing)."""
    conv = nn.Conv3d(3, 4, 3, stride=(2, 1, 1), padding=1, dilation=(1, 2, 1), padding_mode="replicate", bias=True)
    new = adapt_conv_module(conv, 1)
    for name in ("out_channels", "kernel_size", "stride", "padding", "dilation", "padding_mode"):
        assert getattr(new, name) == getattr(conv, name), name
    assert new.weight.dtype == conv.weight.dtype
    torch.testing.assert_close(new.bias, conv.bias)
    with torch.no_grad():
        new.bias.add_(1.0)
        new.weight.add_(1.0)
    assert not torch.equal(new.bias, conv.bias)  # a copy, not the same parameter
    assert adapt_conv_module(nn.Conv2d(3, 4, 3, bias=False), 1).bias is None


def test_weight_is_detached_and_keeps_dtype():
    """Check that the adapted weight is a new tensor without grad history and with the input dtype."""
    w = torch.randn(6, 3, 3, 3, 3, dtype=torch.float16, requires_grad=True)
    out = adapt_input_channels(w, 1)
    assert out.dtype == torch.float16 and not out.requires_grad and out.shape == (6, 1, 3, 3, 3)


@pytest.mark.parametrize("shape, in_channels, mode", [
    ((4, 3, 3), 1, "sum"),            # 3D weight (a Conv1d)
    ((4, 3, 1, 3, 3, 3), 1, "sum"),   # 6D
    ((4, 1, 3, 3, 3), 1, "sum"),      # not RGB
    ((4, 4, 3, 3), 1, "sum"),         # RGBA
    ((4, 3, 3, 3, 3), 1, "max"),      # unknown mode
    ((4, 3, 3, 3, 3), 0, "sum"),      # no channels
    ((4, 3, 3, 3), -2, "mean"),
])
def test_bad_weights_and_options_are_refused(shape, in_channels, mode):
    """Check that a weight that is not an RGB 4D/5D conv weight, an unknown mode or in_channels < 1 is a ValueError."""
    with pytest.raises(ValueError):
        adapt_input_channels(torch.zeros(shape), in_channels, mode=mode)


def test_grouped_and_non_conv_modules_are_refused():
    """Check that groups != 1 is a ValueError and a module that is not a Conv2d/Conv3d a TypeError."""
    with pytest.raises(ValueError, match="groups"):
        adapt_conv_module(nn.Conv3d(3, 6, 3, groups=3))
    with pytest.raises(TypeError):
        adapt_conv_module(nn.Linear(3, 4))
