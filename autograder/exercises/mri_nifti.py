"""Graded exercises of lesson 10_mri_nifti: affines, voxel spacing, orientation codes, reorientation,
and foreground z-score normalization of MRI."""
from __future__ import annotations

import numpy as np

from autograder.student.spec import Case, Misconception, exercise_maker

ASSIGNMENT = "10_mri_nifti"

_ex = exercise_maker(ASSIGNMENT)


# --- affines for the cases ------------------------------------------------------------------------------
def _affine(rng: np.random.Generator, kind: str) -> np.ndarray:
    """A voxel-to-RAS affine: "diag" (scaling only), "perm" (axes permuted by a 3-cycle, with flips),
    "swap" (two axes swapped, one flipped) or "oblique" (a random rotation); random anisotropic voxel
    sizes (mm) and translation (mm)."""
    if kind == "diag":
        rotation = np.diag(rng.choice([-1.0, 1.0], size=3))
    elif kind == "perm":
        cycle = [1, 2, 0] if rng.random() < 0.5 else [2, 0, 1]
        rotation = np.eye(3)[:, cycle] * np.array([-1.0, 1.0, -1.0])[rng.permutation(3)]
    elif kind == "swap":
        rotation = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    else:
        rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    affine = np.eye(4)
    sizes = np.sort(rng.uniform(0.5, 3.5, size=3))[rng.permutation(3)]
    affine[:3, :3] = rotation * sizes[None, :]
    affine[:3, 3] = rng.uniform(-100, 100, size=3).round(2)
    return affine


def _codes(affine: np.ndarray) -> tuple[str, str, str]:
    """The reference orientation codes (used by the wrong solutions below); ValueError when singular."""
    norms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    if norms.min() == 0 or abs(np.linalg.det(affine[:3, :3])) < 1e-9 * norms.prod():
        raise ValueError("singular affine")
    directions = affine[:3, :3] / norms
    codes = ["", "", ""]
    for j in np.argsort(-np.abs(directions).max(axis=0), kind="stable"):
        world = int(np.argmax(np.abs(directions[:, j])))
        codes[j] = "RAS"[world] if directions[world, j] > 0 else "LPI"[world]
        directions[world, :] = 0.0
    return codes[0], codes[1], codes[2]


def _tied_oblique(rng: np.random.Generator) -> np.ndarray:
    """An oblique affine whose two voxel axes both lean most to the same world axis."""
    while True:
        affine = _affine(rng, "oblique")
        winners = np.argmax(np.abs(affine[:3, :3]) / np.sqrt((affine[:3, :3] ** 2).sum(axis=0)), axis=0)
        if len(set(winners.tolist())) < 3:
            return affine


# --- voxel_to_world ---------------------------------------------------------------------------------------
def _world_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for kind, n in [("perm", 5), ("oblique", 7), ("swap", 3), ("diag", 1)]:
        ijk = rng.integers(0, 40, size=(n, 3)).astype(np.float64)
        cases.append(Case((_affine(rng, kind), ijk), note=f"{n} voxels, {kind} affine"))
    cases.append(Case((_affine(rng, "oblique"), np.array([2.5, 0.0, 7.25])), note="one fractional index (3,)"))
    # the smallest legal inputs: one index as a (1, 3) array, no index at all, a plain list
    cases.append(Case((_affine(rng, "perm"), np.array([[3.0, 1.0, 2.0]])), note="one index as a (1, 3) array"))
    cases.append(Case((_affine(rng, "diag"), np.zeros((0, 3))), note="no indices: a (0, 3) array"))
    cases.append(Case((_affine(rng, "swap"), [4, 0, 1]), note="one index as a list of ints"))
    cases.append(Case((np.eye(4), np.zeros((4, 2))), raises=ValueError, note="indices with 2 coordinates"))
    cases.append(Case((_affine(rng, "oblique"), np.ones((2, 2, 3))), raises=ValueError,
                      note="indices with 3 dimensions (2, 2, 3)"))
    cases.append(Case((np.eye(3), np.zeros(3)), raises=ValueError, note="a 3x3 matrix instead of a 4x4 affine"))
    return cases


def _world_no_translation(affine, ijk):  # noqa: ANN001, ANN202
    return np.asarray(ijk, dtype=np.float64) @ np.asarray(affine)[:3, :3].T


def _world_transposed(affine, ijk):  # noqa: ANN001, ANN202
    return np.asarray(ijk, dtype=np.float64) @ np.asarray(affine)[:3, :3] + np.asarray(affine)[:3, 3]


def _world_homogeneous(affine, ijk):  # noqa: ANN001, ANN202
    ijk = np.asarray(ijk, dtype=np.float64)
    return np.concatenate([ijk, np.ones(ijk.shape[:-1] + (1,))], axis=-1) @ np.asarray(affine).T


def _world_any_ndim(affine, ijk):  # noqa: ANN001, ANN202
    affine, ijk = np.asarray(affine, dtype=np.float64), np.asarray(ijk, dtype=np.float64)
    if affine.shape != (4, 4) or ijk.shape[-1] != 3:
        raise ValueError("bad shapes")
    return (np.concatenate([ijk, np.ones(ijk.shape[:-1] + (1,))], axis=-1) @ affine.T)[..., :3]


# --- voxel_spacing -----------------------------------------------------------------------------------------
def _spacing_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((_affine(rng, kind),), note=f"{kind} affine") for kind in ("perm", "oblique", "swap", "diag")]
    tilted = np.array([[-2.0, 0, 0, 117.9], [0, 1.9737, -0.3555, -35.7], [0, 0.3232, 2.1711, -7.2], [0, 0, 0, 1]])
    cases.append(Case((tilted,), note="the tilted affine of example4d.nii.gz"))
    tiny = np.diag([1e-3, 0.5, 1.0, 1.0])
    tiny[:3, 3] = rng.uniform(-50, 50, size=3).round(2)
    cases.append(Case((tiny,), note="a very small voxel (0.001 mm along i)"))
    cases.append(Case((tilted.tolist(),), note="the tilted affine as a nested list"))
    cases.append(Case((np.eye(3),), raises=ValueError, note="a 3x3 matrix"))
    cases.append(Case((tilted[:3],), raises=ValueError, note="a 3x4 matrix (the affine without its last row)"))
    return cases


def _spacing_diagonal(affine):  # noqa: ANN001, ANN202
    return np.abs(np.diag(np.asarray(affine, dtype=np.float64))[:3])


def _spacing_rows(affine):  # noqa: ANN001, ANN202
    return np.sqrt((np.asarray(affine, dtype=np.float64)[:3, :3] ** 2).sum(axis=1))


def _spacing_no_shape_check(affine):  # noqa: ANN001, ANN202
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape[1] != 4:  # checks the columns only: a (3, 4) matrix passes
        raise ValueError("not an affine")
    return np.sqrt((affine[:3, :3] ** 2).sum(axis=0))


# --- axcodes ------------------------------------------------------------------------------------------------
def _axcodes_cases(rng: np.random.Generator) -> list[Case]:
    las = np.diag([-2.0, 2.0, 2.0, 1.0])
    las[:3, 3] = [32.0, -40.0, -16.0]
    cases = [Case((las,), note="anatomical.nii (LAS)")]
    cases += [Case((_affine(rng, kind),), note=f"{kind} affine") for kind in ("swap", "perm", "perm", "oblique")]
    dicom_axial = np.array([[0.0, 0, -0.7, 25.0], [0, -0.7, 0, 25.0], [2.5, 0, 0, -30.0], [0, 0, 0, 1]])
    cases.append(Case((dicom_axial,), note="an axial DICOM series (slice, row, column) turned to RAS"))
    cases.append(Case((_tied_oblique(rng),), note="oblique: two voxel axes lean to the same world axis"))
    tiny = np.diag([-1e-3, 1e-3, 1e-3, 1.0])
    cases.append(Case((tiny,), note="voxels of 0.001 mm (LAS)"))
    singular = np.eye(4)
    singular[:3, 1] = singular[:3, 0]
    cases.append(Case((singular,), raises=ValueError, note="two voxel axes with the same direction"))
    flat = np.diag([2.0, 0.0, 2.0, 1.0])
    cases.append(Case((flat,), raises=ValueError, note="a voxel axis of length 0"))
    cases.append(Case((np.eye(3),), raises=ValueError, note="a 3x3 matrix"))
    return cases


def _axcodes_rows(affine):  # noqa: ANN001, ANN202
    return _codes(np.asarray(affine, dtype=np.float64).T)


def _axcodes_from(affine):  # noqa: ANN001, ANN202
    opposite = {"R": "L", "L": "R", "A": "P", "P": "A", "S": "I", "I": "S"}
    return tuple(opposite[c] for c in _codes(np.asarray(affine, dtype=np.float64)))


def _axcodes_no_exclusion(affine):  # noqa: ANN001, ANN202
    directions = np.asarray(affine, dtype=np.float64)[:3, :3]
    worlds = [int(np.argmax(np.abs(directions[:, j]))) for j in range(3)]
    return tuple("RAS"[w] if directions[w, j] > 0 else "LPI"[w] for j, w in enumerate(worlds))


# --- reorient -------------------------------------------------------------------------------------------------
def _reorient_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for kind, target, shape in [("diag", "RAS", (5, 3, 7)), ("perm", "RAS", (3, 5, 7)), ("swap", "LPS", (5, 7, 3)),
                                ("perm", "PIR", (7, 3, 5)), ("oblique", "RAS", (3, 5, 7, 2))]:
        data = rng.normal(size=shape).astype(np.float32)
        cases.append(Case((data, _affine(rng, kind), target), note=f"{kind} affine -> {target}, data {shape}"))
    # the smallest legal data: one voxel, and axes of size 1 that are flipped and permuted
    lps = np.diag([-1.5, -1.5, 3.0, 1.0])
    lps[:3, 3] = rng.uniform(-50, 50, size=3).round(2)
    cases.append(Case((np.array([[[7.0]]], np.float32), lps, "RAS"), note="one voxel (1, 1, 1), LPS -> RAS"))
    cases.append(Case((rng.normal(size=(1, 4, 1)).astype(np.float32), _affine(rng, "perm"), "RAS"),
                      note="axes of size 1: data (1, 4, 1), permuted affine -> RAS"))
    cases.append(Case((np.zeros((3, 3, 3), np.float32), np.eye(4), "RAR"), raises=ValueError, note="target 'RAR'"))
    cases.append(Case((np.zeros((3, 3, 3), np.float32), np.eye(4), "RASI"), raises=ValueError,
                      note="target of 4 letters 'RASI'"))
    cases.append(Case((np.zeros((4, 5), np.float32), np.eye(4), "RAS"), raises=ValueError,
                      note="2D data (4, 5): fewer than 3 dimensions"))
    return cases


def _reorient_plan(affine: np.ndarray, target: str) -> tuple[list[int], list[bool]]:
    source, pairs = _codes(affine), ("RL", "AP", "SI")
    order, flip = [], []
    for letter in target:
        pair = next(p for p in pairs if letter in p)
        axis = next(j for j, code in enumerate(source) if code in pair)
        order.append(axis)
        flip.append(source[axis] != letter)
    return order, flip


def _wrong_reorient(data, affine, target, *, flip_axis_of_source=False, keep_translation=False,  # noqa: ANN001, ANN202
                    keep_affine=False):
    data, affine = np.asarray(data), np.asarray(affine, dtype=np.float64)
    if len(target) != 3 or sorted(target.replace("L", "R").replace("P", "A").replace("I", "S")) != ["A", "R", "S"]:
        raise ValueError("bad target")
    order, flip = _reorient_plan(affine, target)
    out = np.transpose(data, order + list(range(3, data.ndim)))
    for axis in range(3):
        if flip[axis]:
            out = np.flip(out, axis=order[axis] if flip_axis_of_source else axis)
    new_to_old = np.zeros((4, 4))
    new_to_old[3, 3] = 1.0
    for axis in range(3):
        new_to_old[order[axis], axis] = -1.0 if flip[axis] else 1.0
        if not keep_translation:
            new_to_old[order[axis], 3] = out.shape[axis] - 1 if flip[axis] else 0.0
    return np.ascontiguousarray(out), affine if keep_affine else affine @ new_to_old


def _reorient_no_translation(data, affine, target="RAS"):  # noqa: ANN001, ANN202
    return _wrong_reorient(data, affine, target, keep_translation=True)


def _reorient_wrong_axis(data, affine, target="RAS"):  # noqa: ANN001, ANN202
    return _wrong_reorient(data, affine, target, flip_axis_of_source=True)


def _reorient_same_affine(data, affine, target="RAS"):  # noqa: ANN001, ANN202
    return _wrong_reorient(data, affine, target, keep_affine=True)


# --- zscore -------------------------------------------------------------------------------------------------------
def _head(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """A toy head MRI: a bright ellipsoid (about 30 % of the voxels) in dim noise around 0, and its mask."""
    grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    inside = sum(g ** 2 for g in grids) < 0.55
    volume = rng.normal(10, 15, size=shape)
    volume[inside] = rng.normal(600, 120, size=int(inside.sum()))
    return volume.astype(np.float32), inside


def _zscore_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape in [(9, 11, 7), (5, 13, 9)]:
        volume, inside = _head(rng, shape)
        cases.append(Case((volume, inside), note=f"a {shape} head with its mask"))
    volume, _ = _head(rng, (7, 9, 11))
    cases.append(Case((volume,), note="no mask: the foreground is volume > volume.mean()"))
    volume, inside = _head(rng, (11, 7, 9))
    cases.append(Case((volume, None), note="mask=None"))
    # the smallest legal foreground: exactly 2 voxels, given or found by the mean rule
    two = np.zeros(volume.shape, bool)
    two[1, 2, 3] = two[5, 4, 2] = True
    cases.append(Case((volume, two), note="a mask of exactly 2 voxels (the fewest allowed)"))
    cases.append(Case((np.array([1.0, 2.0, 30.0, 50.0], np.float32),), note="a 1D volume of 4 voxels, mask=None"))
    cases.append(Case((volume, inside[:, :, :4]), raises=ValueError, note="a mask of another shape"))
    cases.append(Case((np.full((3, 4, 5), 7.0, np.float32), np.ones((3, 4, 5), bool)), raises=ValueError,
                      note="a constant foreground"))
    one = np.zeros(volume.shape, bool)
    one[2, 2, 2] = True
    cases.append(Case((volume, one), raises=ValueError, note="a mask of 1 voxel"))
    cases.append(Case((np.zeros((0, 3), np.float32),), raises=ValueError, note="an empty volume (0, 3)"))
    return cases


def _z(volume: np.ndarray, values: np.ndarray, ddof: int = 0) -> np.ndarray:
    """(volume - mean) / std of ``values``; ValueError for a constant foreground, as the reference."""
    std = values.std(ddof=ddof)
    if not std > 0:
        raise ValueError("the foreground is constant")
    return (volume - values.mean()) / std


def _zscore_whole_volume(volume, mask=None):  # noqa: ANN001, ANN202
    volume = np.asarray(volume, dtype=np.float64)
    return _z(volume, volume).astype(np.float32)


def _zscore_ddof1(volume, mask=None):  # noqa: ANN001, ANN202
    volume = np.asarray(volume, dtype=np.float64)
    mask = volume > volume.mean() if mask is None else np.asarray(mask, dtype=bool)
    return _z(volume, volume[mask], ddof=1).astype(np.float32)


def _zscore_background_zero(volume, mask=None):  # noqa: ANN001, ANN202
    volume = np.asarray(volume, dtype=np.float64)
    mask = volume > volume.mean() if mask is None else np.asarray(mask, dtype=bool)
    return np.where(mask, _z(volume, volume[mask]), 0.0).astype(np.float32)


def _zscore_positive_mask(volume, mask=None):  # noqa: ANN001, ANN202
    volume = np.asarray(volume, dtype=np.float64)
    mask = volume > 0 if mask is None else np.asarray(mask, dtype=bool)
    return _z(volume, volume[mask]).astype(np.float32)


EXERCISES = [
    _ex("voxel_to_world", "course.medical.nifti", _world_cases, [
        Misconception("no_homogeneous_1", "the translation is missing: append a 1 to each index (homogeneous "
                      "coordinates [i, j, k, 1]) so that the affine's last column is added", _world_no_translation),
        Misconception("transposed", "the 3x3 part was applied transposed: world = A @ [i, j, k, 1]; with indices as "
                      "rows that is ijk1 @ A.T", _world_transposed),
        Misconception("four_columns", "return 3 world coordinates per index: drop the homogeneous 1 at the end",
                      _world_homogeneous),
        Misconception("any_ndim", "indices must be (3,) or (N, 3): raise a ValueError for more dimensions, such "
                      "as (2, 2, 3)", _world_any_ndim),
    ], atol=1e-9),
    _ex("voxel_spacing", "course.medical.nifti", _spacing_cases, [
        Misconception("diagonal", "the diagonal is the spacing only for an affine without rotation or permutation: "
                      "use the lengths of the columns", _spacing_diagonal),
        Misconception("rows", "the spacing of voxel axis j is the length of column j (a voxel step), not of row j",
                      _spacing_rows),
        Misconception("no_shape_check", "an affine is 4x4: raise a ValueError for any other shape, a (3, 4) "
                      "matrix included", _spacing_no_shape_check),
    ], atol=1e-9),
    _ex("axcodes", "course.medical.nifti", _axcodes_cases, [
        Misconception("rows", "read each voxel axis from its column of the affine (where one voxel step goes), "
                      "not from a row", _axcodes_rows),
        Misconception("from", "these letters say where each axis comes from (ITK style); the codes name the "
                      "direction the index grows towards: +x is R, +y is A, +z is S", _axcodes_from),
        Misconception("no_exclusion", "each world axis may be used once: give it to the column that follows it most "
                      "closely, then exclude it for the other columns", _axcodes_no_exclusion),
    ]),
    _ex("reorient", "course.medical.nifti", _reorient_cases, [
        Misconception("no_translation", "a flipped axis moves the origin: the new voxel 0 is the old voxel n - 1, so "
                      "add (n - 1) times the old column to the translation", _reorient_no_translation),
        Misconception("wrong_axis", "after the transpose, flip the *new* axis t (its position in the target), not "
                      "the source axis it came from", _reorient_wrong_axis),
        Misconception("same_affine", "the affine must describe the new array: permute and flip its columns too",
                      _reorient_same_affine),
    ], atol=1e-9),
    _ex("zscore", "course.medical.normalize", _zscore_cases, [
        Misconception("whole_volume", "the statistics include the background: compute mean and std over the "
                      "foreground mask only", _zscore_whole_volume),
        Misconception("ddof1", "use the population standard deviation (ddof=0, numpy's default); torch.std and "
                      "pandas divide by n - 1", _zscore_ddof1),
        Misconception("background_zero", "normalize every voxel with the foreground statistics; do not set the "
                      "background to 0", _zscore_background_zero),
        Misconception("positive_mask", "with mask=None the foreground is volume > volume.mean(), not volume > 0",
                      _zscore_positive_mask),
    ]),
]
