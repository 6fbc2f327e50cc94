"""Synthetic chest CT angiograms with or without a pulmonary embolus, for lesson 15_capstone_video_to_ct.

Ke et al. 2023 ("Video Pretraining Advances 3D Deep Learning on Chest CT Tasks", MIDL) pretrain 3D
CNNs on videos and fine-tune them on chest CT, one task being pulmonary embolism (PE) detection:
a clot in a pulmonary artery shows on a CT angiogram as an **intraluminal filling defect**, a dark
(soft-tissue, ~50 HU) spot inside an artery filled with bright iodine contrast (~300 HU). This module
generates a small, offline version of that task: a block of one lung (the left; the mediastinum on
the medial side, the chest wall around), crossed by a branching contrast-filled artery tree, and a
binary label, embolus present or absent.

    anatomy (per patient)   lung: an elliptic cylinder of −870 … −830 HU, tapering slowly along z, in soft
                            tissue (30 … 50 HU); a binary tree of capsules (5 generations, 31 segments)
                            that enters from the mediastinum (hilum) and branches into the lung:
                            root radius 5–6.5 mm, each child 0.72–0.85 of its parent's radius and
                            0.7–0.9 of its length, branch angles 20–45° in a random plane, oblique to
                            the slices; contrast 250 … 350 HU
    embolus (label 1)       a capsule on the axis of a segment of radius >= 3.5 mm inside the lung:
                            radius 0.6–0.8 of the vessel's, axis 2–6 mm long (4–9 mm end to end, a
                            few voxels), 40 … 70 HU, replacing the contrast it covers
    nodules (distractors)   1–6 soft-tissue capsules per patient (lymph nodes, bronchial walls), 1.3 ×
                            a clot's size, 40 … 70 HU, just above or below an artery (outside its
                            lumen); in a positive the clot replaces one of them, so the number of
                            soft-tissue spots in the lung does not tell the label: a spot *inside*
                            a bright artery does
    partial volume          occupancies rendered on a grid of twice the resolution from signed
                            distances (a linear ramp over the fine voxel's extent along the surface
                            normal), composed in HU, then averaged over 2 × 2 × 2 blocks
    scanner (site)          contiguous slices of a drawn thickness, the reconstruction kernel's
                            in-plane Gaussian blur, and correlated Gaussian noise (white noise
                            smoothed by a Gaussian, rescaled to the drawn standard deviation)

    site   slice thickness   pixel      kernel blur (σ)   noise std    noise correlation σ (slice, in-plane)
    A      1.25 … 2.5 mm     1.8 … 2.2   0.6 mm            15 … 22 HU   (0.3, 0.6) voxels
    B      3.0 … 5.0 mm      1.8 … 2.2   1.4 mm            22 … 30 HU   (0.5, 1.2) voxels

Site B is held out: thick slices, a soft kernel and more, coarser noise. The shape (D, H, W) is fixed
per call, so thick slices cover more of the chest along z (32 slices: 40–80 mm at A, 96–160 mm at B).
Trees that leave no place for an embolus inside the field of view are redrawn for both labels, so the
tree does not tell the label. (The names are ChestSite and CHEST_SITES because course.data already
exports lesson 14's Site and SITES.)

Measured on the shared 2-core machine (datasets/README.md has the table): 320 volumes of (32, 48, 48)
in 7–9 s (21–27 ms each). On balanced sets (320 training / 320 test volumes, three seed pairs, the
best threshold of the training set), single-feature shortcuts stay near chance: the volume's mean HU
0.50, the number of 20–120 HU voxels in the lung 0.52, that number in the best single slice 0.50,
its maximum over slices 0.51; the 20–120 HU pixels of the maximum-intensity projection along z keep
a weak signal, 0.57 at site A (the projection hides a clot behind its artery but shows most nodules).

Layout (:mod:`course.medical`): ``hu`` is (D, H, W) = (slice, row, column) float32 HU; ``spacing`` is
(3,) mm in that order (slice thickness = slice spacing, pixel, pixel); ``affine`` maps voxel (k, r, c)
to patient LPS mm (axial: k towards the head, r towards the back, c towards the patient's left), as
:func:`course.medical.load_dicom_series` returns it. Tree segments are in mm along (D, H, W) from
the volume's centre.

    chest_ct(seed, index=0, label=None, site="A", shape=(32, 48, 48))   one ChestCT
    chest_ct_dataset(num_volumes, seed=..., site="A", prevalence=0.5)   a balanced list, one patient each
    candidate_crop(volume, size=(16, 24, 24))                           the block around the candidate place
    write_chest_ct_series(volume, folder)                               a DICOM CT series (lesson 09)
    write_chest_ct_nifti(volume, path)                                  a NIfTI file, RAS affine (lesson 10)

Sources: Ke, A., Huang, S.-C., O'Connell, C. P., Klimont, M., Yeung, S., Rajpurkar, P., MIDL 2023 (the task);
Murray's law (child radius ≈ 0.79 × parent) for the shrinking radii; Hounsfield values of lung,
soft tissue, contrast-filled arteries and clot as in CT angiography of PE (e.g. Wittram et al. 2004,
"CT angiography of pulmonary embolism: diagnostic criteria and causes of misdiagnosis", RadioGraphics).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np
from scipy import ndimage

from course.data.phantom import write_ct_series
from course.medical.nifti import lps_to_ras, save_nifti

__all__ = ["CHEST_CT_HU", "ChestSite", "CHEST_SITES", "ChestCT", "chest_ct", "chest_ct_dataset", "candidate_crop",
           "write_chest_ct_series", "write_chest_ct_nifti"]

#: (low, high) HU of each tissue; each patient draws one value per tissue, uniformly.
CHEST_CT_HU: dict[str, tuple[float, float]] = {
    "lung": (-870.0, -830.0),  # aerated lung parenchyma
    "soft_tissue": (30.0, 50.0),  # chest wall and mediastinum
    "vessel": (250.0, 350.0),  # pulmonary arteries, iodine contrast (CT angiogram)
    "embolus": (40.0, 70.0),  # clot: the filling defect
}

# the tree (mm, degrees); children shrink by Murray's law (r_child ≈ 0.79 r_parent) with variation
_GENERATIONS = 5  # root plus four levels of bifurcations: 31 segments
_ROOT_RADIUS_MM = (5.0, 6.5)
_ROOT_LENGTH_MM = (18.0, 26.0)
_RADIUS_RATIO = (0.72, 0.85)
_LENGTH_RATIO = (0.7, 0.9)
_BRANCH_ANGLE_DEG = (20.0, 45.0)
# the embolus
_EMBOLUS_MIN_VESSEL_RADIUS_MM = 3.5  # only arteries wide enough to show a clot at 2 mm pixels
_EMBOLUS_RADIUS_RATIO = (0.6, 0.8)  # of the vessel's radius: the clot stays inside the lumen
_EMBOLUS_AXIS_MM = (2.0, 6.0)  # length of the capsule's axis (end to end: this + 2 radii)
# soft-tissue nodules beside the arteries (lymph nodes, bronchial walls): the HU of a clot, but outside
# the lumen, so "a soft-tissue spot in the lung" is not the answer; "one inside a bright artery" is
_NODULES = (1, 6)  # (fewest, most) soft-tissue spots per patient; in a positive, the clot is one of them
_NODULE_GAP_MM = (0.5, 3.0)  # gap between a nodule's surface and its neighbouring artery's wall
# 1.3 x a clot's size: lung around a nodule pulls its edge below 20 HU, contrast around a clot does not;
# measured, this makes their counts of 20-120 HU voxels about equal
_NODULE_SCALE = 1.3
_NODULE_TILT = 0.3  # random part of the direction from the artery to a nodule (0: straight up or down)
_MAX_TRIES = 50


@dataclasses.dataclass(frozen=True)
class ChestSite:
    """A CT scanner and protocol: the ranges its per-scan parameters are drawn from.

    Attributes:
        name: the site's name, used in patient ids.
        slice_thickness_mm: (low, high) slice thickness in mm; slices are contiguous (spacing = thickness).
        pixel_spacing_mm: (low, high) in-plane pixel size in mm (rows and columns alike).
        kernel_sigma_mm: in-plane Gaussian blur of the reconstruction kernel, mm (a soft kernel blurs more).
        noise_std_hu: (low, high) standard deviation of the noise in HU.
        noise_sigma_vox: (slice, in-plane) Gaussian sigma, in voxels, of the filter that correlates the
            noise (0: white along that axis).
    """

    name: str
    slice_thickness_mm: tuple[float, float] = (1.25, 2.5)  # thin slices
    pixel_spacing_mm: tuple[float, float] = (1.8, 2.2)  # 48 pixels: a 86-106 mm field of view
    kernel_sigma_mm: float = 0.6  # sharp kernel
    noise_std_hu: tuple[float, float] = (15.0, 22.0)
    noise_sigma_vox: tuple[float, float] = (0.3, 0.6)  # fine-grained noise


#: Site A for training, site B held out (thick slices, soft kernel, more and coarser noise).
CHEST_SITES: dict[str, ChestSite] = {
    "A": ChestSite("A"),
    "B": ChestSite("B", slice_thickness_mm=(3.0, 5.0), kernel_sigma_mm=1.4, noise_std_hu=(22.0, 30.0),
                   noise_sigma_vox=(0.5, 1.2)),
}


@dataclasses.dataclass
class ChestCT:
    """One generated chest CT angiogram.

    Attributes:
        hu: (D, H, W) float32 Hounsfield units.
        label: 1 when an embolus is present, else 0.
        spacing: (3,) float64 mm, (slice, row, column).
        affine: (4, 4) float64, voxel (k, r, c) -> LPS mm.
        site: the site's name.
        patient_id: ``"<site>-s<seed>-p<index>"``, unique per generated patient.
        embolus_mask: (D, H, W) bool, voxels at least half embolus; all False when label is 0.
        vessel_mask: (D, H, W) bool, voxels at least half artery lumen (embolus included).
        lung_mask: (D, H, W) bool, voxels at least half inside the lung's outline (its vessels included).
        nodule_mask: (D, H, W) bool, voxels at least half soft-tissue nodule (the distractors).
        tissue_hu: this patient's HU of "lung", "soft_tissue", "vessel", "embolus" (drawn even when label
            is 0) and "nodule".
        tree: (S, 7) float64 segments (start (3,), end (3,), radius), mm along (D, H, W) from the centre.
        embolus: (7,) float64 (start, end, radius) of the embolus capsule, or None.
        nodules: (M, 7) float64 capsules of the soft-tissue nodules beside the arteries (the distractors).
        candidate: (3,) float64 voxel index (slice, row, column, fractional) of the centre of the place
            drawn for a clot, for both labels: the clot's centre when label is 1, the same place in
            the same artery, still filled with contrast, when label is 0 (see :func:`candidate_crop`).
    """

    hu: np.ndarray
    label: int
    spacing: np.ndarray
    affine: np.ndarray
    site: str
    patient_id: str
    embolus_mask: np.ndarray
    vessel_mask: np.ndarray
    lung_mask: np.ndarray
    nodule_mask: np.ndarray
    tissue_hu: dict[str, float]
    tree: np.ndarray
    embolus: np.ndarray | None
    nodules: np.ndarray
    candidate: np.ndarray


@dataclasses.dataclass(frozen=True)
class _Lung:
    """An elliptic cylinder in (y, x), mm from the volume centre, its half-axes shrinking along z."""

    cy: float
    cx: float
    ay: float
    ax: float
    taper_mm: float  # half-axes scale by sqrt(1 - (z / taper)^2)

    def scale(self, z: np.ndarray | float) -> np.ndarray | float:
        return np.sqrt(np.clip(1 - (np.asarray(z) / self.taper_mm) ** 2, 0.05, 1))

    def radius(self, p: np.ndarray) -> np.ndarray:
        """Normalised elliptic radius of points p (..., 3): < 1 inside."""
        q = np.hypot((p[..., 1] - self.cy) / self.ay, (p[..., 2] - self.cx) / self.ax)
        return q / self.scale(p[..., 0])


def _draw_lung(rng: np.random.Generator, fov: np.ndarray) -> _Lung:
    """A lung filling most of the in-plane field of view ``fov`` (3,) mm, mediastinum on the low-x side."""
    half = fov[1:] / 2
    return _Lung(cy=rng.uniform(-0.06, 0.06) * half[0], cx=rng.uniform(0.04, 0.12) * half[1],
                 ay=rng.uniform(0.72, 0.84) * half[0], ax=rng.uniform(0.66, 0.76) * half[1],
                 taper_mm=rng.uniform(150.0, 250.0))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def pulmonary_tree(rng: np.random.Generator, lung: _Lung, *, generations: int = _GENERATIONS) -> np.ndarray:
    """A random binary tree of capsules: the pulmonary artery entering the lung at the hilum.

    Args:
        rng: numpy Generator (all randomness of the tree).
        lung: the lung it grows into (children whose end would leave it are turned towards its axis).
        generations: levels of the tree; 2**generations - 1 segments.

    Returns:
        (S, 7) float64 segments (start z, y, x, end z, y, x, radius), mm along (D, H, W) from the
        volume's centre, parents before children.
    """
    # 1. the root: starts in the mediastinum, medial to the lung, and runs laterally and obliquely
    z0 = rng.uniform(-10.0, 10.0)
    start = np.array([z0, lung.cy + rng.uniform(-0.3, 0.3) * lung.ay,
                      lung.cx - lung.ax * lung.scale(z0) - rng.uniform(4.0, 10.0)])
    direction = _unit(np.array([rng.uniform(-0.9, 0.9), rng.uniform(-0.4, 0.4), 1.0]))
    stack = [(start, direction, rng.uniform(*_ROOT_LENGTH_MM), rng.uniform(*_ROOT_RADIUS_MM), 1)]
    segments = []
    while stack:
        start, direction, length, radius, level = stack.pop(0)  # breadth first
        end = start + length * direction
        segments.append([*start, *end, radius])
        if level == generations:
            continue
        # 2. two children in a random plane through the parent's axis, at their own angles
        v = rng.normal(size=3)
        u = _unit(v - (v @ direction) * direction)  # unit vector perpendicular to the parent
        for sign in (1.0, -1.0):
            angle = np.deg2rad(rng.uniform(*_BRANCH_ANGLE_DEG))
            child = np.cos(angle) * direction + sign * np.sin(angle) * u
            child_length = length * rng.uniform(*_LENGTH_RATIO)
            # 3. a child that would leave the lung is turned towards the lung's axis
            tip = end + child_length * child
            if lung.radius(tip) > 0.85:
                inward = _unit(np.array([0.0, lung.cy - tip[1], lung.cx - tip[2]]))
                child = _unit(child + 0.8 * inward)
            stack.append((end, child, child_length, radius * rng.uniform(*_RADIUS_RATIO), level + 1))
    return np.asarray(segments, dtype=np.float64)


def _fine_axes(shape: tuple[int, int, int], spacing: np.ndarray) -> list[np.ndarray]:
    """Centres (mm from the volume centre) of a grid of twice the resolution, per axis (2n,)."""
    return [((np.arange(2 * n) - (2 * n - 1) / 2) * s / 2).astype(np.float32) for n, s in zip(shape, spacing)]


def _capsule_fraction(axes: list[np.ndarray], segment: np.ndarray) -> tuple[tuple[slice, ...], np.ndarray] | None:
    """Partial-volume occupancy of one capsule on the fine grid, inside its bounding box.

    A fine voxel at signed distance s from the surface (negative inside) is ``clip(0.5 − s / w, 0, 1)``
    full, where w = Σ|n_i|·h_i is the extent of the voxel (sizes h) along the surface normal n: exact
    for a plane through a voxel in one of the axis directions, a close approximation otherwise.
    Returns (box, fraction (nz, ny, nx) float32), or None when the box misses the grid.
    """
    a, b, radius = segment[:3].astype(np.float32), segment[3:6].astype(np.float32), np.float32(segment[6])
    h = np.array([ax[1] - ax[0] for ax in axes], dtype=np.float32)  # fine voxel size (3,) mm
    # 1. bounding box of the capsule plus one fine voxel, as index ranges
    lo, hi = np.minimum(a, b) - radius - h, np.maximum(a, b) + radius + h
    box = []
    for ax, l, u, step in zip(axes, lo, hi, h):
        i0, i1 = max(int(np.ceil((l - ax[0]) / step)), 0), min(int(np.floor((u - ax[0]) / step)) + 1, len(ax))
        if i1 <= i0:
            return None
        box.append(slice(i0, i1))
    z, y, x = (ax[s].reshape(shape) for ax, s, shape in zip(axes, box, [(-1, 1, 1), (1, -1, 1), (1, 1, -1)]))
    # 2. closest point on the axis segment a-b, then distance and normal
    d = b - a
    t = np.clip(((z - a[0]) * d[0] + (y - a[1]) * d[1] + (x - a[2]) * d[2]) / max(d @ d, 1e-12), 0, 1)
    dz, dy, dx = z - (a[0] + t * d[0]), y - (a[1] + t * d[1]), x - (a[2] + t * d[2])  # (nz, ny, nx) each
    dist = np.sqrt(dz * dz + dy * dy + dx * dx)
    safe = np.maximum(dist, 1e-9)
    # 3. extent of the fine voxel along the normal, then the ramp
    width = (np.abs(dz) * h[0] + np.abs(dy) * h[1] + np.abs(dx) * h[2]) / safe
    width = np.where(dist > 1e-9, width, h.max())
    return tuple(box), np.clip(0.5 - (dist - radius) / width, 0, 1).astype(np.float32)


def _render(axes: list[np.ndarray], lung: _Lung, tree: np.ndarray, embolus: np.ndarray | None,
            nodules: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fine-grid occupancies (2D, 2H, 2W) float32 of the lung outline, the lumen, the embolus and the
    nodules (capsules (M, 7), kept outside the lumen)."""
    shape = tuple(len(ax) for ax in axes)
    h_inplane = axes[1][1] - axes[1][0]
    # 1. lung: approximate signed distance of the ellipse, ramp over ~1.2 fine pixels
    z, y, x = np.meshgrid(*axes, indexing="ij", sparse=True)
    scale = lung.scale(z)
    q = np.hypot((y - lung.cy) / lung.ay, (x - lung.cx) / lung.ax) / scale
    lung_fraction = np.clip(0.5 - (q - 1) * min(lung.ay, lung.ax) * scale / (1.2 * h_inplane), 0, 1)
    lung_fraction = np.broadcast_to(lung_fraction, shape).astype(np.float32)
    # 2. lumen: union of the capsules (the largest occupancy of any)
    vessel = np.zeros(shape, dtype=np.float32)
    for segment in tree:
        rendered = _capsule_fraction(axes, segment)
        if rendered is not None:
            box, fraction = rendered
            np.maximum(vessel[box], fraction, out=vessel[box])
    # 3. embolus, never outside the lumen
    clot = np.zeros(shape, dtype=np.float32)
    if embolus is not None:
        rendered = _capsule_fraction(axes, embolus)
        if rendered is not None:
            box, fraction = rendered
            clot[box] = np.minimum(fraction, vessel[box])
    # 4. nodules, never inside the lumen
    nodule = np.zeros(shape, dtype=np.float32)
    for segment in nodules:
        rendered = _capsule_fraction(axes, segment)
        if rendered is not None:
            box, fraction = rendered
            np.maximum(nodule[box], np.minimum(fraction, 1 - vessel[box]), out=nodule[box])
    return lung_fraction, vessel, clot, nodule


def _block_mean(fine: np.ndarray) -> np.ndarray:
    """Average 2 × 2 × 2 blocks: (2D, 2H, 2W) -> (D, H, W)."""
    pairs = fine[0::2] + fine[1::2]  # (D, 2H, 2W)
    pairs = pairs[:, 0::2] + pairs[:, 1::2]  # (D, H, 2W)
    return (pairs[:, :, 0::2] + pairs[:, :, 1::2]) / 8  # (D, H, W)


def _embolus_candidates(tree: np.ndarray, lung: _Lung, fov: np.ndarray, spacing: np.ndarray,
                        step_mm: float = 0.5) -> list[tuple[int, float]]:
    """(segment index, position along it in mm) where an embolus centre may go: a wide enough
    artery, inside the lung, one voxel inside the field of view, away from the segment's ends."""
    candidates = []
    for i, segment in enumerate(tree):
        a, b, radius = segment[:3], segment[3:6], segment[6]
        length = np.linalg.norm(b - a)
        if radius < _EMBOLUS_MIN_VESSEL_RADIUS_MM or length < 2 * _EMBOLUS_AXIS_MM[1]:
            continue
        s = np.arange(_EMBOLUS_AXIS_MM[1], length - _EMBOLUS_AXIS_MM[1] + 1e-9, step_mm)  # (n,) mm
        p = a + s[:, None] * (b - a) / length  # (n, 3)
        inside = (np.abs(p) <= fov / 2 - spacing - radius * np.array([0.0, 1.0, 1.0])).all(axis=1)
        inside &= lung.radius(p) < 0.8
        candidates += [(i, float(si)) for si in s[inside]]
    return candidates


def _resolve_site(site: str | ChestSite) -> ChestSite:
    if isinstance(site, ChestSite):
        return site
    if site not in CHEST_SITES:
        raise ValueError(f"unknown site {site!r}; use one of {sorted(CHEST_SITES)} or a ChestSite(...)")
    return CHEST_SITES[site]


def _check_shape(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    if len(shape) != 3 or shape[0] < 4 or min(shape[1:]) < 16:
        raise ValueError(f"shape must be (D, H, W) with D >= 4 slices and H, W >= 16 pixels, got {tuple(shape)}")
    return tuple(int(n) for n in shape)


def _draw_anatomy(rng: np.random.Generator, fov: np.ndarray,
                  spacing: np.ndarray) -> tuple[_Lung, np.ndarray, list[tuple[int, float]]]:
    """A lung and a tree with at least one place for an embolus in the field of view (redrawn until so)."""
    for _ in range(_MAX_TRIES):
        lung = _draw_lung(rng, fov)
        tree = pulmonary_tree(rng, lung)
        candidates = _embolus_candidates(tree, lung, fov, spacing)
        if candidates:
            return lung, tree, candidates
    raise ValueError(f"no tree with room for an embolus in a {fov.round(1).tolist()} mm field of view after "
                     f"{_MAX_TRIES} tries; use more slices or pixels (shape) or a thicker slice range")


def _draw_embolus(rng: np.random.Generator, tree: np.ndarray, candidates: list[tuple[int, float]]) -> np.ndarray:
    """A clot capsule on the axis of a candidate segment: (start (3,), end (3,), radius) mm."""
    i, centre = candidates[rng.integers(len(candidates))]
    a, b, radius = tree[i, :3], tree[i, 3:6], tree[i, 6]
    direction = (b - a) / np.linalg.norm(b - a)
    half = rng.uniform(*_EMBOLUS_AXIS_MM) / 2
    return np.array([*(a + (centre - half) * direction), *(a + (centre + half) * direction),
                     radius * rng.uniform(*_EMBOLUS_RADIUS_RATIO)])


def _axis_distance(points: np.ndarray, tree: np.ndarray) -> np.ndarray:
    """Distance (P, S) mm from points (P, 3) to the axis of every segment of ``tree`` (S, 7)."""
    a, d = tree[None, :, :3], tree[None, :, 3:6] - tree[None, :, :3]  # (1, S, 3)
    t = np.clip(np.sum((points[:, None] - a) * d, axis=-1) / np.sum(d * d, axis=-1), 0, 1)  # (P, S)
    return np.linalg.norm(points[:, None] - (a + t[..., None] * d), axis=-1)


def _draw_nodules(rng: np.random.Generator, tree: np.ndarray, lung: _Lung, fov: np.ndarray,
                  spacing: np.ndarray, candidates: list[tuple[int, float]]) -> np.ndarray:
    """0-3 clot-sized soft-tissue capsules (M, 7) just outside the arteries, inside the lung and the view."""
    nodules = []
    for _ in range(int(rng.integers(_NODULES[0], _NODULES[1] + 1))):
        for _ in range(_MAX_TRIES):
            # 1. a clot-sized capsule: size drawn as for an embolus in a candidate artery, random direction
            host_radius = tree[candidates[rng.integers(len(candidates))][0], 6]
            radius = host_radius * rng.uniform(*_EMBOLUS_RADIUS_RATIO) * _NODULE_SCALE
            half = rng.uniform(*_EMBOLUS_AXIS_MM) / 2 * _NODULE_SCALE
            direction = _unit(rng.normal(size=3))
            # 2. above or below a random artery (off its axis, mostly along z, by its radius + the
            #    nodule's + a small gap): like the clot, hidden in a projection along z by the artery
            segment = tree[rng.integers(len(tree))]
            along = segment[:3] + rng.uniform(0, 1) * (segment[3:6] - segment[:3])
            v = np.array([rng.choice([-1.0, 1.0]), 0.0, 0.0]) + _NODULE_TILT * rng.normal(size=3)
            axis = _unit(segment[3:6] - segment[:3])
            side = _unit(v - (v @ axis) * axis)
            centre = along + side * (segment[6] + radius + half + rng.uniform(*_NODULE_GAP_MM))
            ends = np.stack([centre - half * direction, centre, centre + half * direction])  # (3, 3)
            # 3. accepted when it touches no artery, lies in the lung and one voxel inside the view
            clear = (_axis_distance(ends, tree) > tree[None, :, 6] + radius + 0.5).all()
            inside = (np.abs(centre) <= fov / 2 - spacing - radius).all() and lung.radius(centre) < 0.8
            if clear and inside:
                nodules.append([*ends[0], *ends[2], radius])
                break
    return np.asarray(nodules, dtype=np.float64).reshape(-1, 7)


def _scanner(hu: np.ndarray, rng: np.random.Generator, site: ChestSite, pixel_mm: float) -> np.ndarray:
    """The reconstruction kernel's in-plane blur, then correlated noise of the drawn std (HU)."""
    # 1. kernel: an in-plane Gaussian blur
    sigma = site.kernel_sigma_mm / pixel_mm
    hu = ndimage.gaussian_filter(hu, sigma=(0.0, sigma, sigma), mode="nearest") if sigma > 0 else hu
    # 2. white noise smoothed by a Gaussian (periodic, so every voxel has the same variance) ...
    sigmas = (site.noise_sigma_vox[0], site.noise_sigma_vox[1], site.noise_sigma_vox[1])
    white = rng.standard_normal(hu.shape)
    smooth = ndimage.gaussian_filter(white, sigma=sigmas, mode="wrap")
    # 3. ... rescaled by the filter's gain sqrt(Σ w²) per axis to the drawn standard deviation
    gain = 1.0
    for s, n in zip(sigmas, hu.shape):
        if s > 0:
            delta = np.zeros(n)
            delta[0] = 1.0
            gain *= np.sqrt(np.sum(ndimage.gaussian_filter1d(delta, s, mode="wrap") ** 2))
    return hu + rng.uniform(*site.noise_std_hu) * smooth / gain


def chest_ct(seed: int, *, index: int = 0, label: int | None = None, site: str | ChestSite = "A",
             shape: tuple[int, int, int] = (32, 48, 48)) -> ChestCT:
    """One synthetic chest CT angiogram of one patient, with or without a pulmonary embolus.

    Args:
        seed: int seed; ``(seed, index, site name)`` fix every random draw (same arguments, same bits).
        index: the patient's number within the seed's cohort (different index, different patient).
        label: 1 embolus present, 0 absent, None drawn with probability 1/2. The anatomy does not
            depend on the label: the same (seed, index, site) with label 0 and 1 is the same patient
            without and with a clot.
        site: "A", "B" (see :data:`CHEST_SITES`) or a :class:`ChestSite`.
        shape: (D, H, W) slices, rows, columns; D >= 4, H, W >= 16.

    Returns:
        A :class:`ChestCT`: hu (D, H, W) float32 HU, masks (D, H, W) bool, spacing (3,) mm, LPS affine.

    Raises:
        ValueError: an unknown site, a label other than 0, 1 or None, a shape too small, or (for a
            tiny field of view) no room for an embolus.
    """
    # 1. scan geometry: the site's slice thickness and pixel size
    site, shape = _resolve_site(site), _check_shape(shape)
    if label not in (None, 0, 1):
        raise ValueError(f"label must be 0 (no embolus), 1 (embolus) or None (drawn), got {label!r}")
    rng = np.random.default_rng([seed, index, zlib.crc32(site.name.encode())])
    pixel = rng.uniform(*site.pixel_spacing_mm)
    spacing = np.array([rng.uniform(*site.slice_thickness_mm), pixel, pixel])
    fov = np.asarray(shape) * spacing  # (3,) mm
    # 2. the patient: lung, artery tree, tissue values, an embolus position (drawn for both labels)
    lung, tree, candidates = _draw_anatomy(rng, fov, spacing)
    tissue_hu = {name: float(rng.uniform(*bounds)) for name, bounds in CHEST_CT_HU.items()}
    embolus = _draw_embolus(rng, tree, candidates)
    nodules = _draw_nodules(rng, tree, lung, fov, spacing, candidates)
    tissue_hu["nodule"] = float(rng.uniform(*CHEST_CT_HU["embolus"]))
    label = int(rng.integers(2)) if label is None else label
    # 3. partial volume: occupancies at twice the resolution, HU composed there, 2x2x2 block means
    lung_f, vessel_f, clot_f, nodule_f = _render(_fine_axes(shape, spacing), lung, tree,
                                                 embolus if label else None, nodules[label:])
    background = lung_f * tissue_hu["lung"] + (1 - lung_f) * tissue_hu["soft_tissue"]
    fine = ((1 - vessel_f - nodule_f) * background + (vessel_f - clot_f) * tissue_hu["vessel"]
            + clot_f * tissue_hu["embolus"] + nodule_f * tissue_hu["nodule"])
    hu = _block_mean(fine)  # (D, H, W)
    clot = _block_mean(clot_f)
    # 4. the scanner: kernel blur and correlated noise
    hu = _scanner(hu.astype(np.float64), rng, site, pixel).astype(np.float32)
    affine = np.eye(4)
    affine[:3, :3] = np.array([[0, 0, pixel], [0, pixel, 0], [spacing[0], 0, 0]])  # (k, r, c) -> (x, y, z) LPS
    affine[:3, 3] = -(np.asarray(shape)[[2, 1, 0]] - 1) / 2 * spacing[[2, 1, 0]]
    return ChestCT(hu=hu, label=label, spacing=spacing, affine=affine, site=site.name,
                   patient_id=f"{site.name}-s{seed}-p{index:04d}", embolus_mask=clot >= 0.5,
                   vessel_mask=_block_mean(vessel_f) >= 0.5, lung_mask=_block_mean(lung_f) >= 0.5,
                   nodule_mask=_block_mean(nodule_f) >= 0.5,
                   tissue_hu=tissue_hu, tree=tree, embolus=embolus if label else None, nodules=nodules[label:],
                   candidate=(embolus[:3] + embolus[3:6]) / 2 / spacing + (np.asarray(shape) - 1) / 2)


def chest_ct_dataset(num_volumes: int, *, seed: int, site: str | ChestSite = "A", prevalence: float = 0.5,
                     shape: tuple[int, int, int] = (32, 48, 48)) -> list[ChestCT]:
    """A cohort of patients, one volume each, with exactly ``round(prevalence * num_volumes)`` emboli.

    Volume i is ``chest_ct(seed, index=i, label=labels[i], site=site, shape=shape)``: every volume is
    its own patient (patient ids ``"<site>-s<seed>-p<i>"``), so a split of the list is a patient-level
    split. The labels are a seeded permutation of the exact count of ones. Use different seeds (and
    sites) for training and test cohorts: the same (seed, index, site) is the same patient.

    Args:
        num_volumes: number of patients, >= 1.
        seed: int seed of the cohort.
        site: "A", "B" or a :class:`ChestSite`.
        prevalence: fraction of volumes with an embolus, in [0, 1] (0.5: balanced).
        shape: (D, H, W) of every volume.

    Returns:
        ``num_volumes`` :class:`ChestCT` in index order.

    Raises:
        ValueError: num_volumes < 1 or prevalence outside [0, 1] (and whatever :func:`chest_ct` rejects).
    """
    # 1. validate, then the exact number of positives in a seeded order
    if num_volumes < 1 or not 0.0 <= prevalence <= 1.0:
        raise ValueError(f"need num_volumes >= 1 and prevalence in [0, 1], got {num_volumes} and {prevalence}")
    name = _resolve_site(site).name
    positives = int(round(prevalence * num_volumes))
    labels = np.random.default_rng([seed, zlib.crc32(name.encode()), 1]).permutation(
        np.arange(num_volumes) < positives).astype(int)
    # 2. one patient per index
    return [chest_ct(seed, index=i, label=int(labels[i]), site=site, shape=shape) for i in range(num_volumes)]


def candidate_crop(volume: ChestCT, size: tuple[int, int, int] = (16, 24, 24)) -> np.ndarray:
    """The block of ``size`` voxels around the volume's candidate place, moved inside the volume where needed.

    A computer-aided detection system's second stage classifies such candidates, one artery place
    at a time: with or without a filling defect. The crop is centred on
    :attr:`ChestCT.candidate` (rounded), the same place for both labels, so only the clot tells
    the label; near an edge the block shifts to stay inside (no padding).

    Args:
        volume: a :class:`ChestCT`.
        size: (d, h, w) voxels, each at most the volume's own size.

    Returns:
        (d, h, w) float32 HU, a copy.

    Raises:
        ValueError: ``size`` larger than the volume or not positive.
    """
    shape = np.asarray(volume.hu.shape)
    size_a = np.asarray(size)
    if size_a.shape != (3,) or (size_a < 1).any() or (size_a > shape).any():
        raise ValueError(f"size must be 3 positive ints within the volume's {tuple(shape)}, got {size}")
    start = np.clip(np.round(volume.candidate).astype(int) - size_a // 2, 0, shape - size_a)
    block = volume.hu[start[0]:start[0] + size[0], start[1]:start[1] + size[1], start[2]:start[2] + size[2]]
    return block.astype(np.float32, copy=True)


def write_chest_ct_series(volume: ChestCT, folder: str | os.PathLike, *, shuffle: bool = True) -> Path:
    """Write a :class:`ChestCT` as a DICOM CT series, one file per slice (lesson 09's writer and reader).

    The files are :func:`course.data.phantom.write_ct_series`'s: axial slices (ImageOrientationPatient
    1, 0, 0, 0, 1, 0), ImagePositionPatient from the volume's affine, PixelSpacing and SliceThickness
    from its spacing, stored ``round(HU) + 1024`` (int16, RescaleIntercept −1024), PatientID the
    volume's ``patient_id``, UIDs derived from the patient id, the label and the pixels. Reading the
    folder with :func:`course.medical.load_dicom_series` gives ``round(volume.hu)``, its spacing and
    its affine.

    Args:
        volume: the volume to write.
        folder: where to write (created if missing); it should hold nothing else.
        shuffle: True: random file names and InstanceNumbers (seeded by the patient id).

    Returns:
        ``folder`` as a Path.

    Raises:
        ValueError: the affine is not axial (not the one :func:`chest_ct` makes).
    """
    # 1. geometry from the affine: columns (k, r, c) -> LPS; axial means r along +y, c along +x
    columns = volume.affine[:3, :3] / volume.spacing[None, :]  # unit direction of each voxel axis
    if not np.allclose(columns, [[0, 0, 1], [0, 1, 0], [1, 0, 0]], atol=1e-6):
        raise ValueError("write_chest_ct_series writes axial series only (affine columns along z, y, x); "
                         "use course.data.phantom.write_ct_series with image_orientation for others")
    # 2. identity strings: the patient, the label and a hash of the pixels
    digest = hashlib.sha256(np.ascontiguousarray(volume.hu).tobytes()).hexdigest()
    identity = ["beyond2d chest_ct", volume.patient_id, str(volume.label), digest]
    write_ct_series(volume.hu, folder, spacing=tuple(volume.spacing), origin=tuple(volume.affine[:3, 3]),
                    seed=zlib.crc32(volume.patient_id.encode()), shuffle=shuffle, identity=identity,
                    patient_id=volume.patient_id, patient_name=f"ChestCT^{volume.patient_id}",
                    series_description=f"synthetic CT angiogram (course.data.chest_ct), site {volume.site}")
    return Path(folder)


def write_chest_ct_nifti(volume: ChestCT, path: str | os.PathLike) -> Path:
    """Write a :class:`ChestCT` as a NIfTI-1 file in HU (lesson 10's writer).

    As :func:`course.medical.dicom_series_to_nifti` does for a DICOM series: the array keeps the
    (D, H, W) = (slice, row, column) voxel order and the LPS affine becomes a RAS one
    (:func:`course.medical.lps_to_ras`), so :func:`course.medical.load_nifti` returns ``volume.hu``
    and an affine that puts every voxel at the same physical point.

    Args:
        volume: the volume to write.
        path: the file (.nii or .nii.gz); its folder must exist.

    Returns:
        The path written.
    """
    return save_nifti(volume.hu, lps_to_ras(volume.affine), path)
