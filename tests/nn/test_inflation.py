"""Inflation (I3D): kernels, sizes, batch norm, state dicts, and the boring-video property on several networks."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.nn.inflation import (ReplicatePadTime, boring_clip, inflate_batchnorm, inflate_conv, inflate_conv_args,
                                 inflate_model, inflate_pool, inflate_state_dict, inflate_weight, batchnorm_from_2d,
                                 small_resnet2d)
from support import n_params


def randomize_batchnorms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial running statistics and affine parameters, so that batch norm matters in eval mode."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.rand(c, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            with torch.no_grad():
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.rand(c, generator=g) - 0.5)
    return model.eval()


def per_frame(fn, clip: torch.Tensor) -> torch.Tensor:
    """Apply a 2D function to every frame of (N, C, T, H, W): the frames go through one by one."""
    return torch.stack([fn(clip[:, :, t]) for t in range(clip.shape[2])], dim=2)


# --- inflate_weight --------------------------------------------------------------------------------
@pytest.mark.parametrize("time_dim", [1, 2, 3, 5])
@pytest.mark.parametrize("mode", ["average", "center"])
def test_inflate_weight_shape_and_sum_over_time(time_dim, mode):
    w = torch.randn(4, 3, 3, 5, dtype=torch.float64)
    w3 = inflate_weight(w, time_dim, mode)
    assert w3.shape == (4, 3, time_dim, 3, 5) and w3.dtype == torch.float64
    torch.testing.assert_close(w3.sum(dim=2), w)


def test_average_inflation_on_a_boring_clip_equals_conv2d_away_from_the_ends():
    torch.manual_seed(0)
    frame, w, T, t = torch.randn(2, 3, 11, 9, dtype=torch.float64), torch.randn(5, 3, 3, 3, dtype=torch.float64), 7, 3
    y3 = F.conv3d(boring_clip(frame, T), inflate_weight(w, t, "average"), padding=(1, 1, 1))  # zeros in time
    y2 = F.conv2d(frame, w, padding=1)
    for k in range(1, T - 1):
        torch.testing.assert_close(y3[:, :, k], y2)
    # at the ends one of the three taps reads a zero frame: 2/3 of the response
    torch.testing.assert_close(y3[:, :, 0], y2 * 2 / 3)
    torch.testing.assert_close(y3[:, :, -1], y2 * 2 / 3)


@pytest.mark.parametrize("time_dim", [3, 5])
def test_center_inflation_is_the_2d_conv_frame_by_frame_on_any_clip(time_dim):
    torch.manual_seed(1)
    clip, w = torch.randn(2, 3, 6, 10, 7, dtype=torch.float64), torch.randn(4, 3, 3, 3, dtype=torch.float64)
    y3 = F.conv3d(clip, inflate_weight(w, time_dim, "center"), padding=(time_dim // 2, 1, 1))
    torch.testing.assert_close(y3, per_frame(lambda x: F.conv2d(x, w, padding=1), clip))


def test_average_inflation_repeats_the_kernel():
    w = torch.randn(2, 2, 3, 3)
    w3 = inflate_weight(w, 4)
    for k in range(4):
        torch.testing.assert_close(w3[:, :, k], w / 4)
    assert inflate_weight(w, 4, "center")[:, :, [0, 1, 3]].abs().max() == 0


@pytest.mark.parametrize("args", [(torch.randn(2, 3, 3), 3, "average"), (torch.randn(1, 1, 1, 3, 3), 3, "average"),
                                  (torch.randn(2, 2, 3, 3), 0, "average"), (torch.randn(2, 2, 3, 3), 3, "middle"),
                                  (torch.randn(2, 2, 3, 3), 2.0, "average")])
def test_inflate_weight_rejects_bad_input(args):
    with pytest.raises(ValueError):
        inflate_weight(*args)


# --- inflate_conv_args and inflate_conv --------------------------------------------------------------
def test_inflate_conv_args_hand_computed():
    assert inflate_conv_args(3, 1, 1, 3) == ((3, 3, 3), (1, 1, 1), (1, 1, 1))
    assert inflate_conv_args((7, 5), (2, 1), (3, 2), 5, 2) == ((5, 7, 5), (2, 2, 1), (2, 3, 2))
    assert inflate_conv_args(1, 2, 0, 1) == ((1, 1, 1), (1, 2, 2), (0, 0, 0))
    assert inflate_conv_args([3, 3], [1, 1], [0, 0], 4) == ((4, 3, 3), (1, 1, 1), (2, 0, 0))


@pytest.mark.parametrize("bad", [((3, 3, 3), 1, 1, 3), (3, 0, 1, 3), (3, 1, -1, 3), (3, 1, 1, 0), (3, 1, 1, 3, 0),
                                 (3, 1, "same", 3), (True, 1, 1, 3)])
def test_inflate_conv_args_rejects_bad_sizes(bad):
    with pytest.raises(ValueError):
        inflate_conv_args(*bad)


@pytest.mark.parametrize("kernel, stride, padding, dilation, groups, bias", [
    (3, 1, 1, 1, 1, True), ((5, 3), (2, 1), (2, 0), 1, 1, False), (3, 2, 2, 2, 3, True), (1, 1, 0, 1, 1, False)])
@pytest.mark.parametrize("time_dim, mode", [(3, "average"), (5, "center"), (1, "average")])
def test_inflate_conv_keeps_the_2d_conv_on_every_frame(kernel, stride, padding, dilation, groups, bias, time_dim, mode):
    torch.manual_seed(2)
    conv2 = nn.Conv2d(6, 9, kernel, stride, padding, dilation=dilation, groups=groups, bias=bias).double()
    conv3 = inflate_conv(conv2, time_dim, mode)
    assert isinstance(conv3, nn.Conv3d) and conv3.weight.dtype == torch.float64
    assert conv3.kernel_size[0] == time_dim and conv3.padding[0] == time_dim // 2 and conv3.stride[0] == 1
    assert n_params(conv3) == conv2.weight.numel() * time_dim + (9 if bias else 0)
    frame = torch.randn(2, 6, 13, 11, dtype=torch.float64)
    T = 2 * time_dim + 1
    y3 = conv3(boring_clip(frame, T))
    assert y3.shape[2] == T
    inner = slice(time_dim // 2, T - time_dim // 2) if mode == "average" else slice(None)
    torch.testing.assert_close(y3[:, :, inner], boring_clip(conv2(frame), T)[:, :, inner])


def test_inflate_conv_time_stride_and_padding():
    conv3 = inflate_conv(nn.Conv2d(2, 3, 3, padding=1), 3, time_stride=2, time_padding=0)
    assert conv3.stride == (2, 1, 1) and conv3.padding == (0, 1, 1)
    assert conv3(torch.randn(1, 2, 9, 5, 5)).shape == (1, 3, 4, 5, 5)


def test_inflate_conv_rejects_other_layers():
    with pytest.raises(ValueError):
        inflate_conv(nn.Conv3d(2, 3, 3), 3)
    with pytest.raises(ValueError, match="numeric padding"):
        inflate_conv(nn.Conv2d(2, 3, 3, padding="same"), 3)


# --- boring_clip ----------------------------------------------------------------------------------
def test_boring_clip_against_stack():
    frame = torch.randn(2, 3, 5, 7)
    clip = boring_clip(frame, 6)
    torch.testing.assert_close(clip, torch.stack([frame] * 6, dim=2))
    clip[0, 0, 0, 0, 0] = 100.0  # a copy, not a view of the frame
    assert frame[0, 0, 0, 0] != 100.0
    for bad in [(torch.randn(3, 5, 7), 4), (frame, 0), (frame, 2.5)]:
        with pytest.raises(ValueError):
            boring_clip(*bad)


# --- batch norm -------------------------------------------------------------------------------------
def test_batchnorm_from_2d_equals_torch_batchnorm3d_and_the_2d_one_frame_by_frame():
    bn2 = randomize_batchnorms(nn.BatchNorm2d(5, eps=1e-3).double(), seed=3)
    clip = torch.randn(2, 5, 3, 7, 6, dtype=torch.float64)
    y = batchnorm_from_2d(clip, bn2.running_mean, bn2.running_var, bn2.weight.detach(), bn2.bias.detach(), eps=1e-3)
    bn3 = inflate_batchnorm(bn2).eval()
    assert isinstance(bn3, nn.BatchNorm3d) and bn3.eps == 1e-3
    torch.testing.assert_close(y, bn3(clip))
    torch.testing.assert_close(y, per_frame(bn2, clip))
    with pytest.raises(ValueError):
        batchnorm_from_2d(clip[0], bn2.running_mean, bn2.running_var, bn2.weight, bn2.bias)
    with pytest.raises(ValueError):
        batchnorm_from_2d(clip, bn2.running_mean[:4], bn2.running_var, bn2.weight, bn2.bias)


def test_batchnorm_in_training_mode_sees_the_same_statistics_on_a_boring_clip():
    bn2, frame = nn.BatchNorm2d(4).train(), torch.randn(3, 4, 6, 5) * 2 + 1
    bn3 = inflate_batchnorm(bn2).train()
    torch.testing.assert_close(bn3(boring_clip(frame, 7)), boring_clip(bn2(frame), 7))
    torch.testing.assert_close(bn3.running_mean, bn2.running_mean)  # (the running variance's n / (n − 1) differs)


# --- pooling ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool", [nn.MaxPool2d(3, 2, 1), nn.MaxPool2d(3, 2, ceil_mode=True), nn.AvgPool2d((3, 2), 2),
                                  nn.AvgPool2d(3, 1, 1, count_include_pad=False), nn.AdaptiveAvgPool2d((2, 3)),
                                  nn.AdaptiveMaxPool2d(1)])
def test_inflate_pool_on_a_boring_clip(pool):
    frame = torch.randn(2, 3, 11, 10)
    y3 = inflate_pool(pool)(boring_clip(frame, 5))
    expected = pool(frame).unsqueeze(2)
    if not isinstance(pool, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        expected = boring_clip(pool(frame), 5)  # time is kept
    torch.testing.assert_close(y3, expected)


def test_inflate_pool_rejects_other_layers():
    with pytest.raises(ValueError):
        inflate_pool(nn.MaxPool3d(2))


# --- whole networks: the boring-video property ---------------------------------------------------------
class InceptionNet2d(nn.Module):
    """A tiny GoogLeNet-style net: conv → max pool → an Inception block (4 branches, cat) → adaptive pool."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, 8, 5, stride=2, padding=2, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(3, stride=2, ceil_mode=True))
        self.b0 = nn.Conv2d(8, 4, 1)
        self.b1 = nn.Sequential(nn.Conv2d(8, 3, 1), nn.ReLU(), nn.Conv2d(3, 5, 3, padding=1))
        self.b2 = nn.Sequential(nn.Conv2d(8, 2, 1), nn.ReLU(), nn.Conv2d(2, 3, 5, padding=2))
        self.b3 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(8, 3, 1))
        self.head = nn.Sequential(nn.BatchNorm2d(15), nn.ReLU(), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(),
                                  nn.Dropout(0.3), nn.Linear(60, 7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        return self.head(torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], dim=1))


def vgg_like() -> nn.Module:
    def block(a, b):
        return [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]

    return nn.Sequential(*block(2, 6), nn.MaxPool2d(2), *block(6, 8), *block(8, 8), nn.AvgPool2d(2),
                         nn.AdaptiveAvgPool2d(3), nn.Flatten(), nn.Linear(72, 16), nn.ReLU(), nn.Linear(16, 5))


def monai_resnet2d() -> nn.Module:
    from monai.networks.nets import ResNet
    return ResNet("basic", [1, 1, 1, 1], [4, 8, 8, 16], spatial_dims=2, n_input_channels=2, num_classes=6)


def monai_densenet2d() -> nn.Module:
    from monai.networks.nets import DenseNet
    return DenseNet(spatial_dims=2, in_channels=2, out_channels=4, init_features=8, growth_rate=4, block_config=(2, 2),
                    bn_size=2)


def hf_resnet2d() -> nn.Module:
    from transformers import ResNetConfig, ResNetForImageClassification

    class Logits(nn.Module):  # the Hugging Face model returns an output object; keep the logits
        def __init__(self) -> None:
            super().__init__()
            config = ResNetConfig(num_channels=2, embedding_size=8, hidden_sizes=[8, 12], depths=[1, 1],
                                  layer_type="bottleneck", num_labels=5)
            self.model = ResNetForImageClassification(config)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.model(pixel_values=x).logits

    return Logits()


NETWORKS = {"small_resnet2d": lambda: small_resnet2d(num_classes=5, in_channels=2), "vgg_like": vgg_like,
            "inception": InceptionNet2d, "monai_resnet": monai_resnet2d, "monai_densenet": monai_densenet2d,
            "hf_resnet": hf_resnet2d}


@pytest.mark.parametrize("mode, time_padding", [("average", "replicate"), ("center", "zeros"), ("center", "replicate")])
@pytest.mark.parametrize("name", list(NETWORKS))
def test_boring_video_gives_the_2d_output(name, mode, time_padding):
    torch.manual_seed(0)
    model2d = randomize_batchnorms(NETWORKS[name]().double())
    model3d = inflate_model(model2d, 3, mode=mode, time_padding=time_padding).eval()
    frame = torch.randn(3, 2, 33, 31, dtype=torch.float64)
    with torch.no_grad():
        expected = model2d(frame)
        got = model3d(boring_clip(frame, 5))
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected)
    assert not any(isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d)) for m in model3d.modules())


@pytest.mark.parametrize("name", ["small_resnet2d", "vgg_like", "monai_resnet"])
def test_average_inflation_with_zero_time_padding_differs_at_the_clip_ends(name):
    """I3D's setting: the property holds only away from the ends, so the pooled output moves."""
    torch.manual_seed(0)
    model2d = randomize_batchnorms(NETWORKS[name]().double())
    model3d = inflate_model(model2d, 3).eval()
    frame = torch.randn(2, 2, 33, 31, dtype=torch.float64)
    with torch.no_grad():
        gap = (model3d(boring_clip(frame, 5)) - model2d(frame)).abs().max()
    assert gap > 1e-4


def test_inflate_model_leaves_the_2d_model_alone_and_copies_the_training_mode():
    model2d = small_resnet2d(num_classes=3).train()
    before = {k: v.clone() for k, v in model2d.state_dict().items()}
    model3d = inflate_model(model2d, 3)
    assert model3d.training and isinstance(model2d.stem[0], nn.Conv2d)
    for k, v in model2d.state_dict().items():
        torch.testing.assert_close(v, before[k])
    assert model3d(torch.randn(2, 1, 8, 32, 32)).shape == (2, 3)


def test_parameters_match_monai_3d_resnet():
    """Inflating MONAI's 2D ResNet (3×3 → 3×3×3, 1×1 → 1×1×1, the 7×7 stem → 7×7×7) gives MONAI's 3D ResNet's count."""
    from monai.networks.nets import ResNet

    model3d = inflate_model(monai_resnet2d(), 3, time_dims={"conv1": 7})
    reference = ResNet("basic", [1, 1, 1, 1], [4, 8, 8, 16], spatial_dims=3, n_input_channels=2, num_classes=6,
                       conv1_t_size=7)
    assert n_params(model3d) == n_params(reference)
    shapes = sorted(tuple(p.shape) for p in model3d.parameters())
    assert shapes == sorted(tuple(p.shape) for p in reference.parameters())


def test_replicate_padding_module():
    x = torch.arange(3.0).view(1, 1, 3, 1, 1)
    assert ReplicatePadTime(2)(x).flatten().tolist() == [0, 0, 0, 1, 2, 2, 2]


def test_inflate_model_rejects_what_it_cannot_inflate():
    with pytest.raises(ValueError, match="cannot inflate"):
        inflate_model(nn.Sequential(nn.Conv1d(2, 3, 3)), 3)
    with pytest.raises(ValueError, match="time_padding"):
        inflate_model(small_resnet2d(num_classes=2), 3, time_padding="circular")
    with pytest.raises(ValueError, match="time_dims"):
        inflate_model(small_resnet2d(num_classes=2), 3, time_dims={"nope": 3})


# --- inflate_state_dict ---------------------------------------------------------------------------------
def test_inflate_state_dict_loads_into_the_inflated_model_and_equals_its_weights():
    model2d = randomize_batchnorms(small_resnet2d(num_classes=4, widths=(3, 5, 7)), seed=4)
    model3d = inflate_model(model2d, 5)
    state = inflate_state_dict(model2d.state_dict(), 5)
    assert set(state) == set(model3d.state_dict())
    for k, v in model3d.state_dict().items():
        torch.testing.assert_close(state[k], v)
    fresh = inflate_model(small_resnet2d(num_classes=4, widths=(3, 5, 7)), 5)
    fresh.load_state_dict(state)  # strict: every key and shape fits
    assert state["stem.0.weight"].shape == (3, 1, 5, 3, 3)
    assert state["layers.1.shortcut.0.weight"].shape == (5, 3, 1, 1, 1)
    state["stem.1.running_mean"] += 1
    assert not torch.equal(state["stem.1.running_mean"], model2d.state_dict()["stem.1.running_mean"])
    with pytest.raises(ValueError):
        inflate_state_dict(model2d.state_dict(), 0)
