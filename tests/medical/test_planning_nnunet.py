"""course.medical.planning against nnU-Net v2 itself: its fingerprint extractor and ExperimentPlanner.

Two small CT-like datasets are written to disk in the nnUNet_raw layout (isotropic; anisotropic with
4-6 mm slices and 0.8 mm pixels), nnU-Net fingerprints and plans them, and our fingerprint() and
plan() on the same arrays must give the same nnUNetPlans.json 3d_fullres numbers. Then planner runs on
written fingerprints of realistic sizes (CT, MRI, the coarse axis last) test the patch search, the batch
size and its 5 % cap, the transpose and the z-score mask at scales the tiny datasets cannot reach.

Axis mapping. We write each (D, H, W) array as NIfTI data (X, Y, Z) = (W, H, D) with the voxel sizes
(sW, sH, sD) (the inverse of course.medical.nifti.xyz_to_dhw). nnU-Net reads .nii.gz with SimpleITK,
whose arrays are (z, y, x) and whose spacing it reverses to (sz, sy, sx): it sees exactly our
(D, H, W) array and (sD, sH, sW) spacing. Its plans are in the transposed order ``transpose_forward``
(coarsest spacing first); ``transpose_backward`` maps them back, which the comparisons do.
"""
from __future__ import annotations

import json
import time
from multiprocessing.pool import ThreadPool
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("nnunetv2")
nib = pytest.importorskip("nibabel")

from course.medical.planning import Fingerprint, fingerprint, plan, plan_table  # noqa: E402

SAMPLES_PER_DATASET = 160_000  # nnU-Net samples 1e8 foreground voxels per dataset; fewer keeps the test fast


def _back(values, backward):
    """nnU-Net's transposed per-axis values in the input's (D, H, W) order."""
    return tuple(values[i] for i in backward)


def _ct_case(rng: np.random.Generator, shape: tuple[int, int, int], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """A CT-like volume in HU (body ~40 HU in air -1000, two bright blobs as labels 1 and 2), zero-padded."""
    D, H, W = shape
    d, h, w = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    body = ((h - H / 2) / (0.45 * H)) ** 2 + ((w - W / 2) / (0.45 * W)) ** 2 < 1
    image = np.where(body, 40.0, -1000.0).astype(np.float32) + rng.normal(0, 15, shape).astype(np.float32)
    label = np.zeros(shape, np.uint8)
    for value, hu in ((1, 120.0), (2, 300.0)):
        centre = [rng.uniform(0.35, 0.65) * n for n in shape]
        radius = [rng.uniform(0.08, 0.15) * n + 1 for n in shape]
        blob = sum(((g - c) / r) ** 2 for g, c, r in zip((d, h, w), centre, radius)) < 1
        image[blob] = hu + rng.normal(0, 20, int(blob.sum())).astype(np.float32)
        label[blob] = value
    if pad:  # a zero frame around the field of view (as padded scans have): cropped by the fingerprint
        image = np.pad(image, pad)
        label = np.pad(label, pad)
    return np.round(image), label


def _write_dataset(raw, name, cases, channel="CT"):
    """imagesTr/case_XXX_0000.nii.gz, labelsTr/case_XXX.nii.gz and dataset.json in nnUNet_raw layout."""
    folder = raw / name
    (folder / "imagesTr").mkdir(parents=True)
    (folder / "labelsTr").mkdir()
    for i, (image, label, spacing) in enumerate(cases):
        affine = np.diag([spacing[2], spacing[1], spacing[0], 1.0])  # voxel sizes of (X, Y, Z) = (W, H, D)
        nib.save(nib.Nifti1Image(image.transpose(2, 1, 0), affine), folder / "imagesTr" / f"case_{i:03d}_0000.nii.gz")
        nib.save(nib.Nifti1Image(label.transpose(2, 1, 0), affine), folder / "labelsTr" / f"case_{i:03d}.nii.gz")
    (folder / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": channel}, "labels": {"background": 0, "blob": 1, "bright": 2},
        "numTraining": len(cases), "file_ending": ".nii.gz"}))


@pytest.fixture
def nnunet_dirs(tmp_path, monkeypatch):
    """nnU-Net's three folders in tmp_path (nnunetv2.paths reads the variables when a path is used)."""
    dirs = {key: tmp_path / key for key in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results")}
    for key, path in dirs.items():
        path.mkdir()
        monkeypatch.setenv(key, str(path))
    # the extractor opens a "spawn" process pool even for one process: a thread pool keeps it in this process
    from nnunetv2.experiment_planning.dataset_fingerprint import fingerprint_extractor
    monkeypatch.setattr(fingerprint_extractor, "multiprocessing",
                        SimpleNamespace(get_context=lambda method: SimpleNamespace(Pool=ThreadPool)))
    return dirs


def _nnunet_plans(dirs, name, gpu_memory_gb, *, fingerprint_json=None):
    """nnU-Net's fingerprint (extracted, or the one given) and its nnUNetPlans.json, as dicts."""
    from nnunetv2.experiment_planning.dataset_fingerprint.fingerprint_extractor import DatasetFingerprintExtractor
    from nnunetv2.experiment_planning.experiment_planners.default_experiment_planner import ExperimentPlanner

    preprocessed = dirs["nnUNet_preprocessed"] / name
    if fingerprint_json is None:
        extractor = DatasetFingerprintExtractor(name, num_processes=1)
        extractor.num_foreground_voxels_for_intensitystats = SAMPLES_PER_DATASET
        extractor.show_progress_bar = False
        extractor.run()
    else:
        preprocessed.mkdir(parents=True)
        (preprocessed / "dataset_fingerprint.json").write_text(json.dumps(fingerprint_json))
    planner = ExperimentPlanner(name, gpu_memory_target_in_gb=gpu_memory_gb)
    planner.lowres_creation_threshold = 0.0  # no 3d_lowres search (seconds; we plan 3d_fullres only)
    with torch.device("meta"):  # its networks are built only to count feature maps: no weights allocated
        planner.plan_experiment()
    return (json.loads((preprocessed / "dataset_fingerprint.json").read_text()),
            json.loads((preprocessed / "nnUNetPlans.json").read_text()))


def _assert_same_plan(ours, theirs):
    """Every 3d_fullres number of nnUNetPlans.json equals ours (after mapping nnU-Net's axes back)."""
    config, backward = theirs["configurations"]["3d_fullres"], theirs["transpose_backward"]
    arch = config["architecture"]["arch_kwargs"]
    assert list(ours.transpose_forward) == theirs["transpose_forward"]
    np.testing.assert_allclose(ours.spacing, _back(config["spacing"], backward), rtol=0, atol=1e-9)
    assert ours.normalization == config["normalization_schemes"][0]
    assert ours.use_mask_for_norm == config["use_mask_for_norm"][0]
    assert ours.patch_size == _back(config["patch_size"], backward)
    assert ours.batch_size == config["batch_size"]
    assert ours.num_stages == arch["n_stages"] == len(arch["strides"])
    assert ours.strides == [_back(s, backward) for s in arch["strides"]]
    assert ours.kernel_sizes == [_back(k, backward) for k in arch["kernel_sizes"]]
    assert ours.features_per_stage == tuple(arch["features_per_stage"])
    np.testing.assert_allclose(ours.median_shape, _back(config["median_image_size_in_voxels"], backward))


DATASETS = {  # name: (spacing of case i, shape of case i before padding, padding of case i)
    "Dataset901_Iso": (lambda i, r: (r.choice([0.9, 1.0, 1.1]),) * 3,
                       lambda i, r: tuple(int(n) for n in r.integers(40, 64, 3)), lambda i: 3 * (i % 2)),
    "Dataset902_Aniso": (lambda i, r: (float(r.choice([4.0, 5.0, 5.0, 6.0])), 0.8, 0.8),
                         lambda i, r: (int(r.integers(12, 20)), int(r.integers(56, 80)), int(r.integers(56, 80))),
                         lambda i: 2 * (i % 3 == 0)),
}


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("gpu_memory_gb", [8.0, 0.03])
def test_fingerprint_and_plan_equal_nnunet_on_written_datasets(nnunet_dirs, name, gpu_memory_gb):
    """Check fingerprint() and plan() on the arrays against nnU-Net's extractor and planner on the files."""
    rng = np.random.default_rng(sum(map(ord, name)))
    spacing_of, shape_of, pad_of = DATASETS[name]
    cases = []
    for i in range(7):
        spacing, shape = spacing_of(i, rng), shape_of(i, rng)
        cases.append((*_ct_case(rng, shape, pad_of(i)), spacing))
    _write_dataset(nnunet_dirs["nnUNet_raw"], name, cases)
    start = time.perf_counter()
    theirs_fp, theirs = _nnunet_plans(nnunet_dirs, name, gpu_memory_gb)
    nnunet_seconds = time.perf_counter() - start
    # our fingerprint from the arrays, sampled like nnU-Net (seed 1234, the same draws per case); the
    # spacings as the files hold them (NIfTI pixdim is float32: 0.9 is stored as 0.89999998)
    spacings = [np.float32(c[2]).astype(np.float64) for c in cases]
    fp = fingerprint([c[0] for c in cases], [c[1] for c in cases], spacings,
                     num_samples=int(SAMPLES_PER_DATASET // len(cases)), seed=1234)
    np.testing.assert_array_equal(fp.spacings, theirs_fp["spacings"])
    np.testing.assert_array_equal(fp.shapes_after_crop, theirs_fp["shapes_after_crop"])
    assert any(fp.shapes_after_crop[i][0] < cases[i][0].shape[0] for i in range(len(cases)))  # padding was cropped
    stats = theirs_fp["foreground_intensity_properties_per_channel"]["0"]
    for key in ("mean", "std", "median", "percentile_00_5", "percentile_99_5", "min", "max"):
        np.testing.assert_allclose(getattr(fp, key), stats[key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(fp.median_relative_size_after_crop, theirs_fp["median_relative_size_after_cropping"])
    # our plan from our fingerprint
    ours = plan(fp, modality="CT", gpu_memory_gb=gpu_memory_gb, num_classes=3)
    print(f"\n{name}, {gpu_memory_gb} GB (nnU-Net fingerprint + planning {nnunet_seconds:.1f} s)\n"
          + plan_table(ours, theirs))
    _assert_same_plan(ours, theirs)
    if name == "Dataset902_Aniso":  # the anisotropy rule fired: 10th percentile of the slice spacings
        assert ours.spacing[0] == pytest.approx(np.percentile(fp.spacings[:, 0], 10))
        assert ours.spacing[0] < np.median(fp.spacings[:, 0])
    if gpu_memory_gb < 1:  # the patch search had to shrink the patch below the median shape
        assert np.prod(ours.patch_size) < np.prod(ours.median_shape)


def _written_fingerprint(spacings, shapes, relative=1.0):
    """An nnU-Net dataset_fingerprint.json with the given spacings and cropped shapes."""
    stats = {"mean": 80.0, "median": 75.0, "std": 60.0, "min": -900.0, "max": 1500.0,
             "percentile_00_5": -100.0, "percentile_99_5": 400.0}
    return {"spacings": np.asarray(spacings).tolist(), "shapes_after_crop": np.asarray(shapes).tolist(),
            "foreground_intensity_properties_per_channel": {"0": stats},
            "median_relative_size_after_cropping": relative}


def _table(rng, n, spacing_choices, shape_ranges):
    spacings = np.array([[float(rng.choice(c)) for c in spacing_choices] for _ in range(n)])
    shapes = np.array([[int(rng.integers(lo, hi)) for lo, hi in shape_ranges] for _ in range(n)])
    return spacings, shapes


REALISTIC = {  # name: (channel name, gpu GB, relative size after crop, table maker)
    "Dataset911_LiverCT": ("CT", 8.0, 1.0, lambda r: _table(r, 60, [[0.7, 1.0, 2.5, 5.0], [0.6, 0.7, 0.8], [0.6, 0.7, 0.8]],
                                                                [(80, 500), (512, 513), (512, 513)])),
    "Dataset912_BrainMRI": ("T1", 8.0, 0.6, lambda r: _table(r, 40, [[1.0], [1.0], [1.0]], [(130, 160), (160, 190), (130, 160)])),
    "Dataset913_CoarseLast": ("CT", 11.0, 0.9, lambda r: _table(r, 30, [[0.8], [0.75, 0.8], [3.0, 4.0, 5.0]],
                                                                   [(300, 400), (300, 400), (30, 60)])),
    "Dataset914_SmallGPU": ("CT", 4.0, 1.0, lambda r: _table(r, 400, [[1.5], [1.5], [1.5]], [(90, 110), (90, 110), (90, 110)])),
    # small volumes, many cases: the batch grows past 2, capped by 5 % of the dataset (915) or by memory (916)
    "Dataset915_CapBinds": ("CT", 8.0, 1.0, lambda r: _table(r, 1000, [[1.0], [1.0], [1.0]], [(38, 43), (38, 43), (38, 43)])),
    "Dataset916_MemoryBinds": ("CT", 8.0, 1.0, lambda r: _table(r, 3000, [[1.0], [1.0], [1.0]], [(38, 43), (38, 43), (38, 43)])),
}


@pytest.mark.parametrize("name", list(REALISTIC))
def test_plan_equals_nnunet_on_realistic_fingerprints(nnunet_dirs, name):
    """Check plan() against nnU-Net's planner on written fingerprints of realistic sizes (patch search, batch, cap)."""
    channel, gpu_memory_gb, relative, make = REALISTIC[name]
    spacings, shapes = make(np.random.default_rng(sum(map(ord, name))))
    # one tiny case on disk: the planner reads one image to choose its reader; numTraining counts the rest
    rng = np.random.default_rng(0)
    _write_dataset(nnunet_dirs["nnUNet_raw"], name, [(*_ct_case(rng, (8, 8, 8), 0), (1.0, 1.0, 1.0))], channel)
    dataset_json = nnunet_dirs["nnUNet_raw"] / name / "dataset.json"
    dataset_json.write_text(json.dumps({**json.loads(dataset_json.read_text()), "numTraining": len(spacings)}))
    theirs_fp, theirs = _nnunet_plans(nnunet_dirs, name, gpu_memory_gb,
                                      fingerprint_json=_written_fingerprint(spacings, shapes, relative))
    ours = plan(Fingerprint.from_nnunet(theirs_fp), modality=channel, gpu_memory_gb=gpu_memory_gb, num_classes=3)
    print(f"\n{name}, {gpu_memory_gb} GB\n" + plan_table(ours, theirs))
    _assert_same_plan(ours, theirs)
    if name == "Dataset913_CoarseLast":
        assert ours.transpose_forward == (2, 0, 1)
    if name == "Dataset915_CapBinds":  # 5 % of 1000 median volumes of one patch each: 50
        assert ours.batch_size == round(0.05 * 1000 * np.prod(ours.median_shape) / np.prod(ours.patch_size)) > 2
    if name == "Dataset916_MemoryBinds":  # the memory reference over the estimate, times 2
        assert ours.batch_size == round(560e6 / ours.estimate * 2) > 2
    if name == "Dataset912_BrainMRI":
        assert ours.normalization == "ZScoreNormalization" and ours.use_mask_for_norm
