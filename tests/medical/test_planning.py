"""Unit tests of course.medical.planning: hand-computed tables, odd sizes, errors, and each rule against
the nnunetv2 function it follows (get_pool_and_conv_props, compute_steps_for_sliding_window, the
planner's determine_fullres_target_spacing, the CT and z-score normalizations, the fingerprint's
cropping and sampling, PlainConvUNet.compute_conv_feature_map_size). Whole plans are compared with
nnU-Net's planner in test_planning_nnunet.py."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from course.medical.planning import (
    Fingerprint,
    ct_normalize,
    estimate_memory,
    evenly_spaced_starts,
    fingerprint,
    fit_patch_size,
    measure_activation_memory,
    memory_reference,
    plan,
    plan_table,
    pooling_plan,
    pooling_strides,
    target_spacing,
    zscore_normalize,
)
from course.patches import window_starts

nnunetv2 = pytest.importorskip("nnunetv2")
from nnunetv2.experiment_planning.experiment_planners.network_topology import get_pool_and_conv_props  # noqa: E402
from nnunetv2.inference.sliding_window_prediction import compute_steps_for_sliding_window  # noqa: E402


# ---------------------------------------------------------------- target_spacing

def _nnunet_target_spacing(spacings, shapes):
    """nnU-Net's own rule, called on a stand-in planner that holds only the fingerprint it reads."""
    from nnunetv2.experiment_planning.experiment_planners.default_experiment_planner import ExperimentPlanner
    stand_in = SimpleNamespace(overwrite_target_spacing=None, anisotropy_threshold=3,
                               dataset_fingerprint={"spacings": np.asarray(spacings).tolist(),
                                                    "shapes_after_crop": np.asarray(shapes).tolist()})
    return ExperimentPlanner.determine_fullres_target_spacing(stand_in)


TARGET_TABLE = [  # spacings, shapes, expected (hand-computed), why
    ([[1, 1, 1], [2, 2, 2], [3, 1, 1]], [[50, 60, 70]] * 3, [2, 1, 1], "median per axis; no anisotropy (2 < 3 x 1)"),
    ([[5, 0.8, 0.8], [5, 0.8, 0.8], [3, 0.8, 0.8], [6, 0.8, 0.8]], [[20, 200, 200]] * 4,
     [3.6, 0.8, 0.8],
     "anisotropic: 10th percentile of (3, 5, 5, 6) = 3 + 0.3 * (5 - 3) = 3.6"),
    ([[5, 0.8, 0.8]] * 4, [[100, 200, 200]] * 4, [5, 0.8, 0.8], "coarse axis but many voxels (100 * 3 >= 200): median"),
    ([[2.0, 0.8, 0.8]] * 4, [[20, 200, 200]] * 4, [2.0, 0.8, 0.8], "few voxels but 2.0 < 3 x 0.8: median"),
]


@pytest.mark.parametrize("spacings, shapes, expected, why", TARGET_TABLE)
def test_target_spacing_hand_table(spacings, shapes, expected, why):
    """Check the median and the anisotropy rule on hand-computed tables."""
    np.testing.assert_allclose(target_spacing(np.array(spacings), np.array(shapes)), expected, rtol=1e-12, err_msg=why)


def test_target_spacing_is_never_finer_than_the_other_axes():
    """Check the clamp: a 10th percentile finer than the other axes becomes their coarsest spacing + 1e-5."""
    spacings = np.array([[0.5, 1, 1]] + [[5, 1, 1]] * 9)  # 10th percentile of axis 0 = 0.5 + 0.9 * 4.5 = 4.55
    np.testing.assert_allclose(target_spacing(spacings, np.array([[20, 200, 200]] * 10)), [4.55, 1, 1])
    spacings = np.array([[0.6, 1, 1]] * 2 + [[5, 1, 1]] * 3)  # 10th percentile = 0.6 < 1 -> 1 + 1e-5
    np.testing.assert_allclose(target_spacing(spacings, np.array([[20, 200, 200]] * 5)), [1 + 1e-5, 1, 1], rtol=1e-12)
    assert target_spacing(spacings, np.array([[20, 200, 200]] * 5), anisotropy_threshold=10)[0] == 5


def test_target_spacing_equals_nnunet_on_random_tables():
    """Check against nnU-Net's determine_fullres_target_spacing on 300 random datasets (any coarse axis)."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 12))
        spacings = rng.choice([0.5, 0.7, 0.8, 1.0, 1.5, 2.5, 3.0, 5.0, 7.0], size=(n, 3))
        shapes = rng.integers(8, 400, size=(n, 3))
        np.testing.assert_allclose(target_spacing(spacings, shapes), _nnunet_target_spacing(spacings, shapes), rtol=1e-12)


@pytest.mark.parametrize("spacings, shapes, match", [
    (np.ones((4, 2)), np.ones((4, 2)), r"\(N, 3\)"),
    (np.ones(3), np.ones(3), r"\(N, 3\)"),
    (np.zeros((0, 3)), np.zeros((0, 3)), r"\(N, 3\)"),
    (np.array([[1, 0, 1]]), np.ones((1, 3)), "> 0 mm"),
    (np.array([[1, -1, 1]]), np.ones((1, 3)), "> 0 mm"),
    (np.array([[1, np.nan, 1]]), np.ones((1, 3)), "finite"),
    (np.ones((4, 3)), np.ones((3, 3)), "shapes must be"),
    (np.ones((2, 3)), np.zeros((2, 3)), "shapes must be"),
])
def test_target_spacing_errors(spacings, shapes, match):
    """Check that bad tables raise a ValueError that names the problem."""
    with pytest.raises(ValueError, match=match):
        target_spacing(spacings, shapes)
    with pytest.raises(ValueError, match="anisotropy_threshold"):
        target_spacing(np.ones((2, 3)), np.ones((2, 3)), anisotropy_threshold=0)


# ---------------------------------------------------------------- normalization

@pytest.mark.parametrize("shape, dtype", [((5, 7, 9), np.float32), ((33, 34, 35), np.int16), ((11,), np.float64)])
def test_ct_normalize_formula_and_nnunet(shape, dtype):
    """Check against the direct numpy formula and nnU-Net's CTNormalization; the input stays untouched."""
    from nnunetv2.preprocessing.normalization.default_normalization_schemes import CTNormalization
    volume = (np.random.default_rng(3).normal(0, 600, shape)).astype(dtype)
    before = volume.copy()
    stats = {"percentile_00_5": -150.5, "percentile_99_5": 420.0, "mean": 60.25, "std": 75.5}
    out = ct_normalize(volume, lower=stats["percentile_00_5"], upper=stats["percentile_99_5"], mean=stats["mean"],
                       std=stats["std"])
    expected = (np.clip(volume.astype(np.float64), -150.5, 420.0) - 60.25) / 75.5
    assert out.dtype == np.float32 and out.shape == shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    nnunet = CTNormalization(use_mask_for_norm=False, intensityproperties=stats).run(volume.copy())
    np.testing.assert_array_equal(out, nnunet)
    np.testing.assert_array_equal(volume, before)
    assert out.min() == pytest.approx((-150.5 - 60.25) / 75.5) and out.max() == pytest.approx((420 - 60.25) / 75.5)


def test_ct_normalize_std_zero_and_errors():
    """Check std 0 divides by 1e-8 (as nnU-Net) and that bad statistics raise ValueErrors."""
    out = ct_normalize(np.array([1.0, 2.0]), lower=0, upper=10, mean=1.0, std=0.0)
    np.testing.assert_allclose(out, [0.0, 1e8])
    for kwargs, match in [(dict(lower=5, upper=1, mean=0, std=1), "lower <= upper"),
                          (dict(lower=0, upper=1, mean=0, std=-1), "std >= 0"),
                          (dict(lower=0, upper=np.inf, mean=0, std=1), "finite"),
                          (dict(lower=0, upper=1, mean=np.nan, std=1), "finite")]:
        with pytest.raises(ValueError, match=match):
            ct_normalize(np.zeros((2, 2, 2)), **kwargs)
    with pytest.raises(ValueError, match="numeric"):
        ct_normalize(np.array(["a"]), lower=0, upper=1, mean=0, std=1)
    with pytest.raises(ValueError, match="non-empty"):
        ct_normalize(np.zeros((0, 3)), lower=0, upper=1, mean=0, std=1)


@pytest.mark.parametrize("with_mask", [False, True])
def test_zscore_normalize_equals_nnunet(with_mask):
    """Check against nnU-Net's ZScoreNormalization, with and without the non-zero mask."""
    from nnunetv2.preprocessing.normalization.default_normalization_schemes import ZScoreNormalization
    rng = np.random.default_rng(4)
    volume = rng.normal(300, 50, (9, 10, 11)).astype(np.float32)
    mask = rng.random(volume.shape) < 0.6
    volume[~mask] = 0
    seg = np.where(mask, 0, -1)  # nnU-Net marks the outside of the non-zero mask with -1
    theirs = ZScoreNormalization(use_mask_for_norm=with_mask, intensityproperties={}).run(volume.copy(), seg)
    ours = zscore_normalize(volume, mask if with_mask else None)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="mask"):
        zscore_normalize(volume, mask[:-1])


# ---------------------------------------------------------------- pooling_plan

def test_pooling_plan_hand_examples():
    """Check two hand-worked topologies: isotropic 128^3 and an anisotropic 5 mm / 0.8 mm patch."""
    iso = pooling_plan((128, 128, 128), (1.0, 1.0, 1.0))
    assert iso.num_stages == 6 and iso.patch_size == (128, 128, 128)
    assert iso.strides == [(1, 1, 1)] + [(2, 2, 2)] * 5 and iso.kernel_sizes == [(3, 3, 3)] * 6
    # 5 mm slices: in-plane pooled first; spacing 0.8 -> 1.6 -> 3.2 -> 6.4, so D joins at the 3rd pooling
    # (5 / 3.2 < 2) and its kernel becomes 3 at the 3rd stage (5 / 3.2 < 2 as well)
    aniso = pooling_plan((20, 192, 160), (5.0, 0.8, 0.8))
    assert aniso.strides == [(1, 1, 1), (1, 2, 2), (1, 2, 2), (2, 2, 2), (2, 2, 2), (1, 2, 2)]
    assert aniso.kernel_sizes == [(1, 3, 3), (1, 3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3)]
    assert aniso.pools_per_axis == (2, 5, 5) and aniso.divisor == (4, 32, 32) and aniso.patch_size == (20, 192, 160)


def test_pooling_plan_odd_and_fractional_patches_round_up():
    """Check the divisible patch: 45.5 (a median) and 37 round up to multiples of 2^poolings."""
    p = pooling_plan((45.5, 37, 9), (1.0, 1.0, 1.0))
    # 45.5 -> 23 -> 12 -> 6: 3 poolings (8); 37 -> 19 -> 10 -> 5: 3 (8); 9 -> 5: 1 (2)
    assert p.pools_per_axis == (3, 3, 1) and p.patch_size == (48, 40, 10)
    lone = pooling_plan((11, 3, 3), (1.0, 1.0, 1.0))  # one axis left: halved only while >= 3 * 4 voxels
    assert lone.num_stages == 1 and lone.patch_size == (11, 3, 3)
    assert pooling_plan((12, 3, 3), (1.0, 1.0, 1.0)).strides == [(1, 1, 1), (2, 1, 1)]


PATCH_TABLE = [((p0, p1, p2), sp) for p0, p1, p2 in [(128, 128, 128), (256, 256, 256), (40, 224, 192), (7, 33, 35),
                                                     (96, 160, 160), (1, 64, 64), (300, 17, 5), (48, 48, 48)]
               for sp in [(1.0, 1.0, 1.0), (5.0, 0.8, 0.8), (0.7, 0.7, 2.5), (3.0, 1.0, 0.5), (1.5, 1.2, 1.0)]]


@pytest.mark.parametrize("patch, spacing", PATCH_TABLE)
def test_pooling_plan_equals_nnunet(patch, spacing):
    """Check against nnU-Net's get_pool_and_conv_props (no stage cap, as nnU-Net v2 plans)."""
    pools, strides, kernels, padded, divisor = get_pool_and_conv_props(spacing, patch, 4, 999999)
    ours = pooling_plan(patch, spacing, max_stages=None)
    assert tuple(ours.strides) == strides and tuple(ours.kernel_sizes) == kernels
    assert ours.patch_size == tuple(int(v) for v in padded) and ours.divisor == tuple(divisor.tolist())
    assert ours.pools_per_axis == tuple(pools) and ours.num_stages == len(strides)
    capped = pooling_plan(patch, spacing)  # the default cap of 6 stages changes only deeper plans
    if len(strides) <= 6:
        assert capped == ours
    else:
        assert capped.num_stages == 6 and capped.strides == ours.strides[:6]


@pytest.mark.parametrize("patch, spacing", PATCH_TABLE)
def test_pooling_strides_are_plain_lists_equal_to_nnunets(patch, spacing):
    """Check pooling_strides (the graded part of the rule) against nnU-Net's strides, as plain lists of ints."""
    _, strides, _, _, _ = get_pool_and_conv_props(spacing, patch, 4, 999999)
    ours = pooling_strides(patch, spacing)
    assert ours == [list(s) for s in strides]
    assert all(type(v) is int for stage in ours for v in stage)
    assert pooling_plan(patch, spacing, max_stages=None).strides == [tuple(s) for s in ours]


@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_pooling_strides_other_bottleneck_sizes_equal_nnunets(m):
    """Check min_feature_map_size other than 4 against get_pool_and_conv_props's argument of the same name."""
    for patch, spacing in PATCH_TABLE[::3]:
        _, strides, _, _, _ = get_pool_and_conv_props(spacing, patch, m, 999999)
        assert pooling_strides(patch, spacing, min_feature_map_size=m) == [list(s) for s in strides]


def test_pooling_plan_random_equals_nnunet():
    """Check 500 random patches and spacings against get_pool_and_conv_props."""
    rng = np.random.default_rng(5)
    for _ in range(500):
        patch = rng.integers(1, 300, 3).tolist()
        spacing = rng.choice([0.5, 0.8, 1.0, 1.5, 2.5, 3.0, 5.0], 3).tolist()
        _, strides, kernels, padded, _ = get_pool_and_conv_props(spacing, patch, 4, 999999)
        ours = pooling_plan(patch, spacing, max_stages=None)
        assert (tuple(ours.strides), tuple(ours.kernel_sizes), ours.patch_size) == (strides, kernels, tuple(padded))


@pytest.mark.parametrize("patch, spacing, kwargs, match", [
    ((64, 64), (1, 1, 1), {}, "same length"),
    ((64,), (1,), {}, "same length"),
    ((64, 0, 64), (1, 1, 1), {}, "> 0"),
    ((64, 64, 64), (1, -1, 1), {}, "> 0"),
    ((64, 64, 64), (1, np.nan, 1), {}, "> 0"),
    ((64, 64, 64), (1, 1, 1), {"min_feature_map_size": 0}, "min_feature_map_size"),
    ((64, 64, 64), (1, 1, 1), {"min_feature_map_size": True}, "min_feature_map_size"),
    ((64, 64, 64), (1, 1, 1), {"min_feature_map_size": 4.0}, "min_feature_map_size"),
    ((64, 64, 64), (1, 1, 1), {"max_stages": 0}, "max_stages"),
    ((64, 64, 64), (1, 1, 1), {"max_stages": 2.5}, "max_stages"),
])
def test_pooling_plan_errors(patch, spacing, kwargs, match):
    """Check that bad patches, spacings and caps raise ValueErrors."""
    with pytest.raises(ValueError, match=match):
        pooling_plan(patch, spacing, **kwargs)
    if "max_stages" not in kwargs:
        with pytest.raises(ValueError, match=match):
            pooling_strides(patch, spacing, **kwargs)


# ---------------------------------------------------------------- evenly_spaced_starts

def test_evenly_spaced_starts_hand_table_and_monai_contrast():
    """Check nnU-Net's own example (110, 64, 0.5) -> 0, 23, 46, against MONAI's fixed step 0, 32, 46."""
    assert evenly_spaced_starts(110, 64, 0.5) == [0, 23, 46]
    assert window_starts(110, 64, 0.5) == [0, 32, 46]
    assert evenly_spaced_starts(64, 64) == [0]
    assert evenly_spaced_starts(65, 64) == [0, 1]
    assert evenly_spaced_starts(100, 10, 1.0) == list(range(0, 100, 10))


@pytest.mark.parametrize("roi", [1, 5, 16, 32, 64, 96, 128])
@pytest.mark.parametrize("step_size", [0.25, 0.5, 0.6, 1.0])
def test_evenly_spaced_starts_equals_nnunet(roi, step_size):
    """Check against nnU-Net's compute_steps_for_sliding_window for every size from roi to roi + 200."""
    for size in range(roi, roi + 201):
        expected = compute_steps_for_sliding_window((size,), (roi,), step_size)[0]
        assert evenly_spaced_starts(size, roi, step_size) == expected, (size, roi, step_size)


@pytest.mark.parametrize("args, match", [((10, 20), "pad"), ((0, 1), "size"), ((10, 0), "roi"), ((10.0, 5), "size"),
                                         ((10, 5, 0.0), "step_size"), ((10, 5, 1.5), "step_size"), ((True, 1), "size")])
def test_evenly_spaced_starts_errors(args, match):
    """Check that a tile larger than the axis, non-integer sizes and bad steps raise ValueErrors."""
    with pytest.raises(ValueError, match=match):
        evenly_spaced_starts(*args)


# ---------------------------------------------------------------- memory

def test_estimate_memory_hand_count():
    """Check a two-stage count by hand: encoder 2*8*64 + 2*16*8, decoder 3*8*64, head 2*64."""
    assert estimate_memory((4, 4, 4), [(1, 1, 1), (2, 2, 2)], num_classes=2, features_per_stage=(8, 16)) == \
        2 * 8 * 64 + 2 * 16 * 8 + 3 * 8 * 64 + 2 * 64
    with pytest.raises(ValueError, match="stride"):
        estimate_memory((4, 4, 4), [(1, 1), (2, 2)])
    with pytest.raises(ValueError, match="feature"):
        estimate_memory((4, 4, 4), [(1, 1, 1), (2, 2, 2)], features_per_stage=(8,))


@pytest.mark.parametrize("patch, spacing, num_classes", [((64, 64, 64), (1, 1, 1), 2), ((40, 224, 192), (3, 0.8, 0.8), 3),
                                                         ((37, 51, 45), (1, 1, 1), 4), ((160, 160, 160), (1, 1, 1), 2)])
def test_estimate_memory_equals_nnunet_network(patch, spacing, num_classes):
    """Check against compute_conv_feature_map_size of the PlainConvUNet that nnU-Net instantiates."""
    from dynamic_network_architectures.architectures.unet import PlainConvUNet
    topology = pooling_plan(patch, spacing, max_stages=None)
    n = topology.num_stages
    net = PlainConvUNet(1, n, tuple(min(320, 32 * 2 ** s) for s in range(n)), torch.nn.Conv3d, topology.kernel_sizes,
                        topology.strides, (2,) * n, num_classes, (2,) * (n - 1), conv_bias=True,
                        norm_op=torch.nn.InstanceNorm3d)
    assert estimate_memory(topology.patch_size, topology.strides, num_classes=num_classes) == \
        int(net.compute_conv_feature_map_size(topology.patch_size))


def test_estimate_memory_counts_the_conv_outputs_of_a_course_unet():
    """Check the proxy against conv outputs counted by hooks on the course UNet3D; the measurement is larger."""
    from course.nn.unet3d import UNet3D
    channels, patch = (4, 8, 16), (8, 12, 16)
    model = UNet3D(1, 3, channels, norm="instance").eval()
    counted = []
    hooks = [m.register_forward_hook(lambda m, a, out: counted.append(out.numel()))
             for m in model.modules() if isinstance(m, (torch.nn.Conv3d, torch.nn.ConvTranspose3d))]
    with torch.no_grad():
        model(torch.zeros(1, 1, *patch))
    for h in hooks:
        h.remove()
    strides = [(1, 1, 1), (2, 2, 2), (2, 2, 2)]
    assert estimate_memory(patch, strides, num_classes=3, features_per_stage=channels) == sum(counted)
    measured = measure_activation_memory(patch, channels=channels, num_classes=3, batch_size=2)
    assert measured["estimate_values"] == 2 * sum(counted) and measured["estimate_bytes"] == 8 * sum(counted)
    assert measured["measured_bytes"] > measured["estimate_bytes"]  # norms and pools are not in the proxy


def test_fit_patch_size_shrinks_to_the_budget_and_refuses_a_tiny_one():
    """Check that the fitted patch is under the reference and one more divisor step along any axis is not needed."""
    topology, estimate = fit_patch_size((1.0, 1.0, 1.0), (300.0, 300.0, 300.0), gpu_memory_gb=2.0)
    assert estimate <= memory_reference(2.0) < estimate_memory((256, 256, 256), pooling_plan((256,) * 3, (1,) * 3,
                                                                                              max_stages=None).strides)
    assert max(topology.patch_size) - min(topology.patch_size) <= max(topology.divisor)  # shrunk evenly (cube)
    one_voxel = estimate_memory((1, 1, 1), [(1, 1, 1)])  # 2 * 32 + 2 classes = 66 values
    assert fit_patch_size((1.0,) * 3, (64.0,) * 3, gpu_memory_gb=8 * one_voxel / 560e6)[0].patch_size == (1, 1, 1)
    with pytest.raises(ValueError, match="too small"):
        fit_patch_size((1.0,) * 3, (64.0,) * 3, gpu_memory_gb=8 * (one_voxel - 1) / 560e6)


# ---------------------------------------------------------------- fingerprint

def _case(rng, shape, pad):
    image = rng.normal(40, 200, shape).astype(np.float32)
    label = (rng.random(shape) < 0.2).astype(np.uint8)
    return np.pad(image, pad), np.pad(label, pad)


def test_fingerprint_crops_and_samples_like_nnunet():
    """Check crop and draws against nnU-Net's crop_to_nonzero and collect_foreground_intensities, case by case."""
    from nnunetv2.experiment_planning.dataset_fingerprint.fingerprint_extractor import DatasetFingerprintExtractor
    from nnunetv2.preprocessing.cropping.cropping import crop_to_nonzero
    rng = np.random.default_rng(6)
    cases = [_case(rng, (9, 10, 11), ((1, 2), (0, 3), (2, 0))), _case(rng, (5, 7, 6), 0), _case(rng, (13, 4, 8), 1)]
    fp = fingerprint([c[0] for c in cases], [c[1] for c in cases], [(2.0, 0.5, 0.5)] * 3, num_samples=500, seed=1234)
    draws = []
    for i, (image, label) in enumerate(cases):
        data, seg, _ = crop_to_nonzero(image[None].copy(), label[None].astype(np.int8).copy())
        assert tuple(fp.shapes_after_crop[i]) == data.shape[1:]
        draws.append(DatasetFingerprintExtractor.collect_foreground_intensities(seg, data, num_samples=500)[0][0])
    pooled = np.concatenate(draws)
    assert fp.mean == pytest.approx(float(np.mean(pooled)), rel=1e-6) and fp.std == pytest.approx(float(np.std(pooled)), rel=1e-6)
    low, median, high = np.percentile(pooled, (0.5, 50, 99.5))
    assert (fp.percentile_00_5, fp.median, fp.percentile_99_5) == pytest.approx((low, median, high), rel=1e-6)
    assert fp.shapes_after_crop.tolist() == [[9, 10, 11], [5, 7, 6], [13, 4, 8]]
    assert fp.median_relative_size_after_crop == pytest.approx(np.median(
        [9 * 10 * 11 / (12 * 13 * 13), 1.0, 13 * 4 * 8 / (15 * 6 * 10)]))


def test_fingerprint_errors_and_empty_cases():
    """Check mismatched inputs and a dataset without foreground raise; a case without foreground is skipped."""
    image, label = np.ones((4, 4, 4), np.float32), np.zeros((4, 4, 4), np.uint8)
    with pytest.raises(ValueError, match="as many"):
        fingerprint([image], [label, label], [(1, 1, 1)])
    with pytest.raises(ValueError, match="same"):
        fingerprint([image], [label[:3]], [(1, 1, 1)])
    with pytest.raises(ValueError, match="no label > 0"):
        fingerprint([image], [label], [(1, 1, 1)])
    with pytest.raises(ValueError, match="> 0 mm"):
        fingerprint([image], [label], [(1, 0, 1)])
    fg = label.copy()
    fg[1, 1, 1] = 1
    fp = fingerprint([image * 7, np.zeros_like(image)], [fg, label], [(1, 1, 1)] * 2, num_samples=10)
    assert fp.mean == 7 and fp.std == 0 and fp.shapes_after_crop.tolist() == [[4, 4, 4], [4, 4, 4]]


# ---------------------------------------------------------------- plan, plan_table

def _fp(spacings, shapes, relative=1.0):
    return Fingerprint(np.asarray(spacings, float), np.asarray(shapes), 50.0, 20.0, 48.0, -50.0, 300.0,
                       median_relative_size_after_crop=relative)


def test_plan_small_isotropic_dataset_by_hand():
    """Check a plan worked by hand: 10 cases of 40^3 at 1 mm fit whole; 4 stages; batch capped at 5 %, then 2."""
    p = plan(_fp([[1, 1, 1]] * 10, [[40, 40, 40]] * 10))
    assert p.spacing == (1.0, 1.0, 1.0) and p.median_shape == (40.0, 40.0, 40.0) and p.patch_size == (40, 40, 40)
    assert p.num_stages == 4 and p.strides == [(1, 1, 1)] + [(2, 2, 2)] * 3 and p.features_per_stage == (32, 64, 128, 256)
    assert p.batch_size == 2 and p.normalization == "CTNormalization" and not p.use_mask_for_norm
    assert p.estimate == estimate_memory((40, 40, 40), p.strides)


@pytest.mark.parametrize("modality, relative, scheme, mask", [
    ("CT", 0.5, "CTNormalization", False), ("ct", 1.0, "CTNormalization", False),
    ("T1", 1.0, "ZScoreNormalization", False), ("MRI", 0.5, "ZScoreNormalization", True),
    ("noNorm", 0.5, "NoNormalization", False)])
def test_plan_normalization_rule(modality, relative, scheme, mask):
    """Check the channel-name rule (case-insensitive; unknown names z-score) and the non-zero-mask rule."""
    p = plan(_fp([[1, 1, 1]] * 3, [[40, 40, 40]] * 3, relative), modality=modality)
    assert (p.normalization, p.use_mask_for_norm) == (scheme, mask)


def test_plan_reports_in_the_input_axis_order():
    """Check that a coarse last axis is planned first (transpose) and reported back in (D, H, W) order."""
    p = plan(_fp([[0.8, 0.8, 4.0]] * 5, [[300, 300, 40]] * 5))
    assert p.transpose_forward == (2, 0, 1) and p.spacing[2] == 4.0
    assert all(s[2] <= s[0] for s in p.strides) and p.kernel_sizes[0] == (3, 3, 1)
    table = plan_table(p, p)
    assert table.count("yes") == 6 and "NO" not in table
    other = {"configurations": {"3d_fullres": {"spacing": [4.0, 0.8, 0.8], "normalization_schemes": ["CTNormalization"],
                                               "patch_size": [p.patch_size[2], p.patch_size[0], p.patch_size[1] + 16],
                                               "batch_size": 2, "architecture": {"arch_kwargs": {
                                                   "strides": [[s[2], s[0], s[1]] for s in p.strides]}}}},
             "transpose_backward": [1, 2, 0]}
    rows = {line.split()[0]: line for line in plan_table(p, other).splitlines()}
    assert rows["patch"].endswith("NO") and rows["spacing"].endswith("yes") and rows["strides"].endswith("yes")


@pytest.mark.parametrize("kwargs", [dict(num_classes=0), dict(gpu_memory_gb=0.0), dict(num_training=0)])
def test_plan_errors(kwargs):
    """Check that impossible class counts, budgets and dataset sizes raise ValueErrors."""
    with pytest.raises(ValueError, match="need num_classes"):
        plan(_fp([[1, 1, 1]] * 3, [[40, 40, 40]] * 3), **kwargs)
