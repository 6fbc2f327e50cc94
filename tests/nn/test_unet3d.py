"""3D U-Net: the paper's parameter count, shapes, wiring against a functional forward, 2D twin, errors."""
import pytest
import torch
import torch.nn.functional as F

from course.nn.unet3d import UNet3D, cicek2016_param_count, unet3d_cicek2016
from support import n_params


def conv_count(c_in: int, c_out: int, k: int) -> int:
    """Weights and bias of a k×k×k Conv3d."""
    return c_out * c_in * k ** 3 + c_out


# --- Çiçek et al. 2016: 19,069,955 parameters --------------------------------------------------------
def test_paper_configuration_has_the_papers_parameter_count():
    model = unet3d_cicek2016()
    assert cicek2016_param_count(model) == 19_069_955  # the number printed in the paper
    # the same number by hand, level by level (convs with bias, up-convs without)
    analysis = [(3, 32), (32, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512)]
    synthesis = [(768, 256), (256, 256), (384, 128), (128, 128), (192, 64), (64, 64)]
    by_hand = sum(conv_count(i, o, 3) for i, o in analysis + synthesis)
    by_hand += sum(c * c * 8 for c in (512, 256, 128))  # 2×2×2 up-convs that keep the channels
    by_hand += conv_count(64, 3, 1)  # head
    assert by_hand == 19_069_955
    # everything torch holds: + 2 per channel of the 14 batch norms + the up-convs' biases
    norm_channels = sum(o for _, o in analysis + synthesis)
    assert n_params(model) == 19_069_955 + 2 * norm_channels + (512 + 256 + 128) == 19_075_523
    assert n_params(unet3d_cicek2016(norm=None)) == 19_069_955 + 896
    assert cicek2016_param_count(unet3d_cicek2016(norm="instance")) == 19_069_955


def test_default_count_matches_a_hand_count():
    model = UNet3D(1, 2, (8, 16, 32), norm=None)
    by_hand = (conv_count(1, 8, 3) + conv_count(8, 8, 3) + conv_count(8, 16, 3) + conv_count(16, 16, 3)
               + conv_count(16, 32, 3) + conv_count(32, 32, 3)
               + (32 * 16 * 8 + 16) + conv_count(32, 16, 3) + conv_count(16, 16, 3)  # up 32→16, cat 16+16
               + (16 * 8 * 8 + 8) + conv_count(16, 8, 3) + conv_count(8, 8, 3)
               + conv_count(8, 2, 1))
    assert n_params(model) == by_hand


# --- shapes ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, shape", [
    (dict(), (2, 1, 8, 16, 24)),
    (dict(channels=(4, 8), norm="instance"), (1, 1, 6, 10, 14)),
    (dict(in_channels=3, out_channels=5, channels=(4, 6, 8), up="linear"), (2, 3, 12, 4, 20)),
    (dict(channels=(2, 4, 6, 8, 10), norm=None, double_before_pool=True, up_keeps_channels=True), (1, 1, 16, 32, 16)),
])
def test_output_has_the_input_size_and_one_logit_per_class(kwargs, shape):
    model = UNet3D(**kwargs)
    x = torch.randn(shape)
    y = model(x)
    assert y.shape == (shape[0], model.out_channels, *shape[2:])
    assert y.dtype == torch.float32


def test_2d_twin_shapes():
    model = UNet3D(2, 4, (4, 8, 16), spatial_dims=2)
    assert model(torch.randn(3, 2, 12, 20)).shape == (3, 4, 12, 20)
    assert not any(isinstance(m, torch.nn.Conv3d) for m in model.modules())


# --- wiring against an independent functional forward ---------------------------------------------------
def functional_forward(model: UNet3D, x: torch.Tensor) -> torch.Tensor:
    """The U-Net written out with torch.nn.functional, reading the module's weights (norm=None)."""
    def block(seq, h):
        h = F.relu(F.conv3d(h, seq[0].weight, seq[0].bias, padding=1))
        return F.relu(F.conv3d(h, seq[3].weight, seq[3].bias, padding=1))

    d0 = block(model.down[0], x)
    d1 = block(model.down[1], F.max_pool3d(d0, 2))
    d2 = block(model.down[2], F.max_pool3d(d1, 2))
    u1 = F.conv_transpose3d(d2, model.up[0].weight, model.up[0].bias, stride=2)
    h = block(model.decode[0], torch.cat([u1, d1], 1))
    u0 = F.conv_transpose3d(h, model.up[1].weight, model.up[1].bias, stride=2)
    h = block(model.decode[1], torch.cat([u0, d0], 1))
    return F.conv3d(h, model.head.weight, model.head.bias)


def test_forward_equals_a_functional_unet():
    torch.manual_seed(0)
    model = UNet3D(2, 3, (3, 5, 7), norm=None).double()
    x = torch.randn(2, 2, 4, 8, 12, dtype=torch.float64)
    torch.testing.assert_close(model(x), functional_forward(model, x))


def test_skip_connections_matter():
    """Zeroing the weights that read the skip half of a concatenation changes the output."""
    torch.manual_seed(1)
    model = UNet3D(1, 2, (3, 4, 5), norm=None).double()
    x = torch.randn(1, 1, 8, 8, 8, dtype=torch.float64)
    before = model(x)
    with torch.no_grad():
        model.decode[1][0].weight[:, 3:] = 0  # up-conv gives 3 channels, then 3 skip channels
    assert not torch.allclose(before, model(x))


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(2)
    for norm in ["batch", "instance", None]:
        model = UNet3D(1, 3, (4, 6, 8), norm=norm)
        loss = model(torch.randn(2, 1, 8, 12, 4)).square().mean()
        loss.backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, (norm, name)


def test_2d_twin_equals_3d_net_on_a_depth_constant_volume():
    """Inflate the 2D net: 3×3×3 kernels hold the 2D kernel in their middle depth slice, 2×2×2 up-convs
    hold it in both depth taps. On a volume whose slices are all equal, every slice of the 3D output
    is then the 2D output (batch-norm statistics are the same too, since all slices are equal)."""
    torch.manual_seed(3)
    net2 = UNet3D(2, 3, (4, 6, 8), spatial_dims=2, norm="batch").double()
    net3 = UNet3D(2, 3, (4, 6, 8), spatial_dims=3, norm="batch").double()
    with torch.no_grad():
        for m2, m3 in zip(net2.modules(), net3.modules()):
            if isinstance(m2, torch.nn.Conv2d):
                m3.weight.zero_()
                m3.weight[:, :, m3.weight.shape[2] // 2] = m2.weight
                m3.bias.copy_(m2.bias)
            elif isinstance(m2, torch.nn.ConvTranspose2d):
                m3.weight.copy_(m2.weight[:, :, None].expand_as(m3.weight))
                m3.bias.copy_(m2.bias)
            elif isinstance(m2, torch.nn.BatchNorm2d):
                m3.weight.copy_(torch.rand_like(m2.weight) + 0.5)
                m2.weight.copy_(m3.weight)
    image = torch.randn(2, 2, 12, 8, dtype=torch.float64)
    volume = image[:, :, None].expand(2, 2, 4, 12, 8).contiguous()
    y2 = net2(image)
    y3 = net3(volume)
    for d in range(4):
        torch.testing.assert_close(y3[:, :, d], y2)


# --- errors -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, fragment", [
    ((1, 1, 12, 16, 18), "divisible by 2^2 = 4"),
    ((1, 1, 7, 8, 8), "pad to (8, 8, 8)"),
    ((1, 2, 8, 8, 8), "C=1"),
    ((1, 8, 8, 8), "(N, C, D, H, W)"),
])
def test_bad_inputs_are_explained(shape, fragment):
    model = UNet3D(1, 2, (4, 6, 8))
    with pytest.raises(ValueError) as info:
        model(torch.randn(shape))
    assert fragment in str(info.value)


@pytest.mark.parametrize("kwargs", [dict(channels=(8,)), dict(norm="group"), dict(spatial_dims=1),
                                    dict(up="pixelshuffle"), dict(channels=(4, 0))])
def test_bad_configurations_are_rejected(kwargs):
    with pytest.raises(ValueError):
        UNet3D(**kwargs)


@pytest.mark.gpu
def test_cuda_forward_matches_cpu():
    torch.manual_seed(4)
    model = UNet3D(1, 3, (4, 8, 16), norm="instance").eval()
    x = torch.randn(2, 1, 16, 24, 8)
    expected = model(x)
    got = model.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-4)
