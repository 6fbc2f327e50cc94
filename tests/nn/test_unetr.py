"""UNETR from scratch against monai.networks.nets.UNETR: parameter counts, equal outputs after copying weights, errors.

Large configurations are built on the meta device (shapes only, no memory, no time).
"""
import pytest
import torch

from course.nn.unetr import UNETR, load_monai_state_dict, monai_state_dict, monai_unused_params, unetr
from support import n_params, perturbed

from monai.networks.nets import UNETR as MonaiUNETR  # noqa: E402

PAPER_PARAMS_M = 92.58  # Hatamizadeh et al. 2022, the table of parameters and FLOPs (≈ 92.6M)


# --- parameter counts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs", [
    ((1, 14, 96), dict()),  # the paper's BTCV configuration: feature 16, hidden 768, 12 heads
    ((4, 3, (128, 128, 128)), dict(feature_size=32, norm_name="batch")),
    ((1, 2, (32, 48, 16)), dict(feature_size=8, hidden_size=96, mlp_dim=384, num_heads=4)),
    ((3, 5, (16, 16, 16)), dict(feature_size=7, hidden_size=30, mlp_dim=50, num_heads=5, qkv_bias=True)),
])
def test_parameter_count_equals_monai(args, kwargs):
    with torch.device("meta"):
        ours, theirs = UNETR(*args, **kwargs), MonaiUNETR(*args, **kwargs)
    hidden = kwargs.get("hidden_size", 768)
    # MONAI's blocks each hold a LayerNorm (norm_cross_attn) that UNETR never calls; ours has none
    assert n_params(ours) + monai_unused_params(hidden) == n_params(theirs)
    used = sum(p.numel() for name, p in theirs.named_parameters() if "norm_cross_attn" not in name)
    assert n_params(ours) == used


def test_paper_configuration_count_printed_against_the_published_figure():
    with torch.device("meta"):
        ours, theirs = UNETR(1, 14, (96, 96, 96)), MonaiUNETR(1, 14, (96, 96, 96))
    print(f"UNETR 96³ in 1 out 14: ours {n_params(ours):,}, MONAI {n_params(theirs):,}, paper {PAPER_PARAMS_M}M")
    assert n_params(ours) == 92_784_046 and n_params(theirs) == 92_802_478
    assert abs(n_params(ours) / 1e6 - PAPER_PARAMS_M) / PAPER_PARAMS_M < 0.005  # the paper rounds a near count


def test_small_builder_is_monai_compatible_and_small():
    model = unetr(num_classes=2)
    assert model.img_size == (32, 32, 32) and len(model.vit.blocks) == 12 and model.taps == (3, 6, 9)
    assert n_params(model) == 2_438_290
    theirs = MonaiUNETR(1, 2, 32, feature_size=8, hidden_size=96, mlp_dim=384, num_heads=4)
    load_monai_state_dict(model, theirs.state_dict())  # strict: every name and shape agrees


# --- outputs equal after copying weights --------------------------------------------------------------------
@pytest.mark.parametrize("in_channels, out_channels, img_size, kwargs", [
    (1, 3, (16, 16, 16), dict(feature_size=5, hidden_size=36, mlp_dim=20, num_heads=3)),
    (2, 4, (32, 16, 48), dict(feature_size=3, hidden_size=24, mlp_dim=40, num_heads=2, qkv_bias=True)),
    (1, 2, (16, 32, 16), dict(feature_size=7, hidden_size=12, mlp_dim=12, num_heads=4, norm_name="batch")),
])
def test_outputs_equal_monai_after_copying_weights(in_channels, out_channels, img_size, kwargs):
    torch.manual_seed(0)
    theirs = perturbed(MonaiUNETR(in_channels, out_channels, img_size, **kwargs))
    ours = UNETR(in_channels, out_channels, img_size, **kwargs).eval()
    load_monai_state_dict(ours, theirs.state_dict())
    x = torch.randn(2, in_channels, *img_size)
    with torch.no_grad():
        expected, got = theirs(x), ours(x)
    assert got.shape == (2, out_channels, *img_size)
    scale = expected.abs().max().item()  # batch norm in eval (unit running statistics) lets values grow
    torch.testing.assert_close(got, expected, atol=1e-5 * max(1.0, scale), rtol=1e-5)
    # and back: our weights under MONAI's names give MONAI the same output
    back = MonaiUNETR(in_channels, out_channels, img_size, **kwargs).eval()
    back.load_state_dict(monai_state_dict(ours), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(back(x), got, atol=1e-5 * max(1.0, scale), rtol=1e-5)


def test_taps_are_monais_hidden_states_3_6_9():
    """Change block 4's output only (counted from 1) and the encoder2 skip must change: the tap is index 3."""
    torch.manual_seed(1)
    model = perturbed(UNETR(1, 2, 16, feature_size=4, hidden_size=16, mlp_dim=16, num_heads=2))
    seen = {}
    model.encoder2.register_forward_hook(lambda m, a, out: seen.__setitem__("enc2_in", a[0]))
    x = torch.randn(1, 1, 16, 16, 16)
    with torch.no_grad():
        model(x)
        tokens = model.vit.patch_embedding(x)
        for block in model.vit.blocks[:4]:
            tokens = block(tokens)
    torch.testing.assert_close(seen["enc2_in"], model.fold(tokens, (1, 1, 1)))


def test_fold_puts_token_d_h_w_at_its_grid_position():
    model = UNETR(1, 2, (32, 48, 16), feature_size=2, hidden_size=4, mlp_dim=4, num_heads=1, num_layers=4)
    D, H, W = model.feat_size  # (2, 3, 1)
    tokens = torch.arange(D * H * W, dtype=torch.float32).repeat_interleave(4).reshape(1, D * H * W, 4)
    grid = model.fold(tokens, model.feat_size)
    assert grid.shape == (1, 4, D, H, W)
    d, h, w = 1, 2, 0
    assert grid[0, :, d, h, w].tolist() == [float((d * H + h) * W + w)] * 4


@pytest.mark.parametrize("num_layers, taps", [(4, (1, 2, 3)), (8, (2, 4, 6)), (12, (3, 6, 9))])
def test_general_tap_rule(num_layers, taps):
    model = UNETR(1, 2, 16, feature_size=2, hidden_size=8, mlp_dim=8, num_heads=2, num_layers=num_layers)
    assert model.taps == taps and len(model.vit.blocks) == num_layers
    assert model(torch.randn(1, 1, 16, 16, 16)).shape == (1, 2, 16, 16, 16)


# --- errors --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, match", [
    ((1, 2, (96, 96, 90)), dict(), "divisible by patch_size 16"),
    ((1, 2, 100), dict(), r"\(112, 112, 112\)"),
    ((1, 2, 32), dict(hidden_size=100, num_heads=12), "divisible by num_heads"),
    ((1, 2, 32), dict(num_layers=6), "multiple of 4"),
    ((1, 2, 32), dict(patch_size=8), "patch_size must be 16"),
    ((1, 2, 32), dict(norm_name="group"), "norm_name"),
    ((1, 2, (32, 32)), dict(), "triple"),
])
def test_constructor_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        UNETR(*args, **kwargs)


@pytest.mark.parametrize("shape", [(1, 1, 32, 32, 16), (1, 2, 32, 32, 32), (1, 32, 32, 32)])
def test_forward_rejects_other_shapes(shape):
    model = unetr(num_classes=2)
    with pytest.raises(ValueError, match="expected"):
        model(torch.zeros(shape))
