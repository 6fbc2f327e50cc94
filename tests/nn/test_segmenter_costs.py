"""Costs of 3D U-Net, UNETR and Swin UNETR: meta-device counts equal a real CPU run; counts equal independent ones."""
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from course.counting import activation_memory
from course.nn.segmenter_costs import SEGMENTERS, UNET3D_CHANNELS, build_segmenter, format_costs, segmenter_costs
from course.nn.unetr import monai_unused_params
from support import n_params


SWIN_UNETR_PUBLISHED_M = 62.2  # Hatamizadeh et al. 2022, "Swin UNETR" (BrainLes), feature size 48


@pytest.fixture(scope="module")
def costs96():
    return {row["model"]: row for row in segmenter_costs()}


def torch_flops(model: torch.nn.Module, x: torch.Tensor) -> int:
    """FlopCounterMode directly (math attention kernel, as course.counting uses), not through course.counting."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return counter.get_total_flops()


# --- the meta device counts what a real run counts -------------------------------------------------------------
SMALL = (32, 32, 64)  # Swin UNETR's instance norm at 1/32 needs more than one voxel


@pytest.fixture(scope="module")
def small_meta_rows():
    return {r["model"]: r for r in segmenter_costs(SMALL, in_channels=2, out_channels=3)}


@pytest.mark.parametrize("name", SEGMENTERS)
def test_meta_counts_equal_a_real_cpu_forward(name, small_meta_rows):
    torch.manual_seed(0)
    real = build_segmenter(name, SMALL, in_channels=2, out_channels=3, device="cpu")
    x = torch.randn(1, 2, *SMALL)
    meta_row = small_meta_rows[name]
    # one real forward: FlopCounterMode around course.counting's storage-address rule of activation memory
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        real_bytes = activation_memory(real, x)
    assert meta_row["params"] == n_params(real)
    assert meta_row["flops"] == counter.get_total_flops() > 0
    assert meta_row["activation_bytes"] == real_bytes > 0  # the identity rule on meta tensors agrees


def test_alias_rule_skips_in_place_and_views_and_counts_new_outputs():
    model = torch.nn.Sequential(torch.nn.Conv3d(1, 2, 1), torch.nn.ReLU(inplace=True), torch.nn.Flatten(),
                                torch.nn.Linear(2 * 8, 5))
    for device in ("cpu", "meta"):
        x = torch.zeros(3, 1, 2, 2, 2, device=device)
        model = model.to(device)
        assert activation_memory(model, x) == (3 * 2 * 8 + 3 * 5) * 4  # conv and linear; ReLU in place, Flatten a view


# --- counts against independent ones at 96³ -------------------------------------------------------------------
def test_swin_unetr_count_is_monais_own_and_the_published_one(costs96):
    from monai.networks.nets import SwinUNETR

    swin = SwinUNETR(in_channels=1, out_channels=14, feature_size=48)
    assert costs96["Swin UNETR"]["params"] == sum(p.numel() for p in swin.parameters()) == 62_187_296
    print(f"Swin UNETR: {costs96['Swin UNETR']['params']:,} parameters, published {SWIN_UNETR_PUBLISHED_M}M")
    assert round(costs96["Swin UNETR"]["params"] / 1e6, 1) == SWIN_UNETR_PUBLISHED_M


def test_unetr_count_is_monais_less_its_unused_layer_norms(costs96):
    from monai.networks.nets import UNETR as MonaiUNETR

    with torch.device("meta"):
        theirs = MonaiUNETR(1, 14, (96, 96, 96))
    assert costs96["UNETR"]["params"] == n_params(theirs) - monai_unused_params(768) == 92_784_046


def test_unet_is_nnunets_plain_conv_unet_without_deep_supervision_heads(costs96):
    unet_mod = pytest.importorskip("dynamic_network_architectures.architectures.unet")
    with torch.device("meta"):
        nnunet = unet_mod.PlainConvUNet(1, 5, UNET3D_CHANNELS, torch.nn.Conv3d, 3, (1, 2, 2, 2, 2), 2, 14, 2,
                                        conv_bias=True, norm_op=torch.nn.InstanceNorm3d,
                                        norm_op_kwargs={"eps": 1e-5, "affine": True}, nonlin=torch.nn.LeakyReLU,
                                        deep_supervision=False).eval()
        x = torch.zeros(1, 1, 96, 96, 96)
    heads = sum(p.numel() for name, p in nnunet.named_parameters()
                if name.startswith("decoder.seg_layers.") and not name.startswith("decoder.seg_layers.3."))
    assert costs96["3D U-Net"]["params"] == n_params(nnunet) - heads == 16_547_086
    assert costs96["3D U-Net"]["flops"] == torch_flops(nnunet, x)  # strided conv or pooling: same FLOPs


def test_table_at_96_is_printed(costs96):
    rows = [costs96[name] for name in SEGMENTERS]
    table = format_costs(rows)
    print("\n" + table + "\n" + ", ".join(f"{r['model']} {r['seconds']:.2f} s" for r in rows))
    assert [line.split()[0] for line in table.splitlines()[1:]] == ["3D", "UNETR", "Swin"]
    assert all(r["flops"] > 0 and r["activation_bytes"] > 0 for r in rows)
    # the transformer encoder holds the parameters, the convolutions at full size the FLOPs
    assert costs96["UNETR"]["params"] > costs96["Swin UNETR"]["params"] > costs96["3D U-Net"]["params"]
    assert costs96["UNETR"]["flops"] < costs96["3D U-Net"]["flops"] < costs96["Swin UNETR"]["flops"]


# --- scaling with the volume ------------------------------------------------------------------------------------
def test_conv_net_costs_scale_with_the_volume_and_attention_faster(costs96):
    small = {r["model"]: r for r in segmenter_costs(SMALL)}  # 96³ has 13.5× the voxels of 32 × 32 × 64
    # the U-Net is convolutions only: FLOPs and activations exactly ∝ voxels
    assert 2 * costs96["3D U-Net"]["flops"] == 27 * small["3D U-Net"]["flops"]
    assert 2 * costs96["3D U-Net"]["activation_bytes"] == 27 * small["3D U-Net"]["activation_bytes"]
    # UNETR: everything ∝ voxels except attention, quadratic in the tokens (16 → 216): more than 13.5×
    assert 2 * costs96["UNETR"]["flops"] > 27 * small["UNETR"]["flops"]
    assert costs96["UNETR"]["params"] > small["UNETR"]["params"]  # position embeddings grow with the tokens
    assert costs96["Swin UNETR"]["params"] == small["Swin UNETR"]["params"]  # relative biases: fixed windows


# --- errors -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("roi", [(96, 96, 80), (96, 96), (0, 32, 64), (96.0, 96, 96), (32, 32, 32)])
def test_roi_size_errors(roi):
    with pytest.raises(ValueError, match="multiples of 32"):
        segmenter_costs(roi)


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown segmenter"):
        build_segmenter("SegResNet")
