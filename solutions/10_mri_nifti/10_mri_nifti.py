# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 10 — MRI in NIfTI: affines, orientation, resampling and intensity normalization
#
# A CT volume from DICOM arrives as a folder of slices (lesson 09). Research MRI usually arrives as
# one **NIfTI** file: an array plus a 4×4 **affine** that says where every voxel is in the scanner's
# world, in millimetres. Two files of the same head can store their arrays in different axis orders
# and directions — the affine says which — and MRI intensities have no unit at all. A network sees
# neither the affine nor the scanner: it sees arrays of numbers.
#
# The claim this lesson shows with numbers: **mixed orientations silently break training unless the
# volumes are canonicalized** — the same anatomy stored "LAS" and "RAS" gives mirrored arrays, a mask
# compared voxel by voxel across the two scores a Dice far below 1, and a model trained on a mix of
# both cannot tell left from right; after reorienting everything to RAS the problem disappears.
#
# **Learning objectives.** After this lesson you can
#
# 1. map voxel indices to world millimetres with an affine (homogeneous coordinates) and read the
#    voxel spacing from it, also when the affine is oblique or permutes the axes;
# 2. name the orientation of an array from its affine (axis codes such as LAS, RAS, LPS) and tell
#    NIfTI's RAS+ world from DICOM's LPS+;
# 3. reorient a volume to canonical RAS by permuting and flipping axes, updating the affine —
#    translation included — and check it against nibabel;
# 4. resample a volume to a given spacing (nearest neighbour for labels, linear for intensities);
# 5. z-score an MRI over its foreground, and explain with numbers why min–max scaling is fragile;
# 6. stack contrasts as channels (C, D, H, W), and treat a 4D fMRI run as a "video" of volumes
#    (T, 1, D, H, W);
# 7. convert a DICOM series into a NIfTI file with the LPS → RAS flip done right.
#
# Data: two real NIfTI files that nibabel ships as test data — `anatomical.nii`, a T1-weighted MRI
# cropped to the brain (33×41×25 voxels of 2 mm), and `example4d.nii.gz`, two volumes of an fMRI run
# (128×96×24 voxels, tilted affine) — and the synthetic CT phantom of lesson 09 written as a DICOM
# series. Nothing is downloaded; everything written goes to a temporary folder.
#
# Sources: the NIfTI-1 standard (the `nifti1.h` header of the Data Format Working Group: qform,
# sform, their codes); nibabel's documentation on coordinate systems and affines; DICOM PS3.3
# C.7.6.2 (patient coordinates, LPS); Nyúl & Udupa (1999) and nnU-Net (Isensee et al. 2021) for
# MRI intensity normalization.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import matplotlib.pyplot as plt

from autograder import check

# %% [markdown]
# ## 1. The affine: from voxel indices to millimetres
#
# ### Concept
#
# An array index (i, j, k) says nothing about where a voxel is in the body. The affine does: a 4×4
# matrix *A* whose upper-left 3×3 block *M* holds, in column *j*, the step in millimetres that one
# voxel along array axis *j* takes in the world, and whose last column holds the translation *t*,
# the world position of voxel (0, 0, 0):
#
# $$\begin{pmatrix} x \\ y \\ z \\ 1 \end{pmatrix} = A \begin{pmatrix} i \\ j \\ k \\ 1 \end{pmatrix}
# = \begin{pmatrix} M & t \\ 0 & 1 \end{pmatrix} \begin{pmatrix} i \\ j \\ k \\ 1 \end{pmatrix}
# \quad\Longleftrightarrow\quad x = M\,(i, j, k)^\top + t.$$
#
# The extra 1 (*homogeneous coordinates*) is what lets one matrix product add the translation.
#
# **Which world?** NIfTI's world is **RAS+**: x grows towards the subject's **R**ight, y towards
# **A**nterior (the nose), z towards **S**uperior (the top of the head). DICOM's patient system is
# **LPS+** (x to the Left, y to Posterior): the same point has the opposite x and y. The NIfTI-1
# header can store two affines: the **qform** (a rotation as a quaternion, voxel sizes, and a sign
# `qfac`; it cannot shear) and the **sform** (a general 4×4 matrix), each with a code saying what
# world it refers to (1 scanner, 2 aligned to another image, 3 Talairach, 4 MNI). Readers such as
# nibabel use the sform when its code is non-zero, else the qform. In the array we keep the file's
# voxel order: `data[i, j, k]` is the voxel at `A @ [i, j, k, 1]`.
#
# Mistakes the check below recognises: **forgetting the 1** (no translation), multiplying by the
# **transposed** 3×3 block (indices as rows need `ijk1 @ A.T`), and returning the homogeneous
# 4-vector instead of 3 coordinates.
#
# ### Implement

# %% nbgrader={"grade": false, "grade_id": "voxel_to_world", "locked": false, "schema_version": 3, "solution": true}
def voxel_to_world(affine: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    """World positions (mm) of voxel indices: ``affine @ [i, j, k, 1]`` for each row of ``ijk``.

    The 1 appended to each index is what adds the affine's translation (its last column).

    Args:
        affine: (4, 4) voxel index -> world mm.
        ijk: (3,) one index or (N, 3) indices (integer or fractional voxel coordinates).

    Returns:
        float64, (3,) or (N, 3): world coordinates in mm, in the affine's world space.

    Raises:
        ValueError: the affine is not 4x4, or ``ijk`` does not end in an axis of size 3.
    """
    ### BEGIN SOLUTION
    affine = np.asarray(affine, dtype=np.float64)
    ijk = np.asarray(ijk, dtype=np.float64)
    if affine.shape != (4, 4) or ijk.ndim not in (1, 2) or ijk.shape[-1] != 3:
        raise ValueError(f"need a 4x4 affine and indices of shape (3,) or (N, 3), "
                         f"got {affine.shape} and {ijk.shape}")
    # 1. homogeneous coordinates: (..., 4) with a trailing 1
    homogeneous = np.concatenate([ijk, np.ones(ijk.shape[:-1] + (1,))], axis=-1)
    # 2. one matrix product per index, written for row vectors: (A @ x)^T = x^T @ A^T
    return (homogeneous @ affine.T)[..., :3]
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_voxel_to_world", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that voxel_to_world multiplies [i, j, k, 1] by the affine and returns 3 coordinates per index."""
check(voxel_to_world)

# %% [markdown]
# ### Use: two real NIfTI files
#
# From here on we use the reference library `course` (the same functions as yours, tested), so a
# bug in an exercise does not spread. `load_nifti` reads a file with nibabel and returns the data as
# float32 in the file's own voxel order, and the affine nibabel chose. We print each file's shape,
# affine, the codes of its qform and sform, and the world position of the centre voxel, compared
# with nibabel's `apply_affine`, an independent implementation.

# %%
import nibabel as nib
from nibabel.affines import apply_affine

from course.data.samples import anatomical_nii_path, example4d_path
from course.medical import nifti

np.set_printoptions(precision=3, suppress=True)
files = {"anatomical.nii": anatomical_nii_path(), "example4d.nii.gz": example4d_path()}
loaded = {}  # name -> (data, affine)
for name, path in files.items():
    data, affine = nifti.load_nifti(path)
    loaded[name] = data, affine
    header = nib.load(path).header
    centre = np.array(data.shape[:3]) // 2
    ours, theirs = nifti.voxel_to_world(affine, centre), apply_affine(affine, centre)
    print(f"{name}: shape {data.shape}, {data.dtype}, stored as {header.get_data_dtype()}; "
          f"qform_code {int(header['qform_code'])}, sform_code {int(header['sform_code'])}")
    print(f"affine (voxel -> RAS mm):\n{affine}")
    print(f"  centre voxel {tuple(centre.tolist())} is at {ours} mm (nibabel: {theirs}, "
          f"max difference {np.abs(ours - theirs).max():.1e} mm)\n")
t1, t1_affine = loaded["anatomical.nii"]
bold, bold_affine = loaded["example4d.nii.gz"]

# %% [markdown]
# `anatomical.nii` has a diagonal affine with a **negative** first entry: going up in *i* moves
# 2 mm to the subject's **left**. `example4d.nii.gz` has non-zero entries off the diagonal: its slices
# are tilted (about the x axis), as fMRI slices often are, to follow the brain's long axis.
#
# ### Implement: the voxel spacing
#
# Column *j* of *M* is one voxel step along axis *j*, so the spacing along axis *j* is the
# **length of column *j***. The diagonal is the spacing only when the affine neither rotates nor
# permutes the axes; the row lengths are the spacing of nothing. The check uses permuted and oblique
# affines (including the tilted one above) to tell these apart.

# %% nbgrader={"grade": false, "grade_id": "voxel_spacing", "locked": false, "schema_version": 3, "solution": true}
def voxel_spacing(affine: np.ndarray) -> np.ndarray:
    """Voxel sizes (mm) along the voxel axes i, j, k: the lengths of the affine's first three columns.

    Column j of the 3x3 part is the world step of one voxel along axis j, so its length is the
    spacing whatever the rotation or axis permutation (the diagonal alone is right only for
    an affine without rotation or permutation).

    Args:
        affine: (4, 4) voxel index -> world mm.

    Returns:
        (3,) float64 mm.

    Raises:
        ValueError: not a 4x4 matrix.
    """
    ### BEGIN SOLUTION
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4):
        raise ValueError(f"expected a 4x4 affine, got shape {affine.shape}")
    return np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_voxel_spacing", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that voxel_spacing returns the lengths of the affine's first three columns, in mm."""
check(voxel_spacing)

# %% [markdown]
# ### Use: the tilted fMRI affine
#
# The header also stores the voxel sizes (`pixdim`, shown by nibabel as `zooms`). For the tilted
# file the diagonal is wrong in y and z; the column lengths agree with the header.

# %%
zooms = nib.load(files["example4d.nii.gz"]).header.get_zooms()
print(f"example4d: header zooms {zooms[:3]} mm (and {zooms[3]:g} for time)")
print(f"  column lengths (voxel_spacing) {nifti.voxel_spacing(bold_affine)} mm")
print(f"  |diagonal|                     {np.abs(np.diag(bold_affine)[:3])} mm")
print(f"  row lengths                    {np.sqrt((bold_affine[:3, :3] ** 2).sum(axis=1))} mm")

# %% [markdown]
# ## 2. Orientation codes
#
# ### Concept
#
# Three letters summarise an affine: for each array axis, the direction in which its index grows.
# The first axis of `anatomical.nii` moves along −x, towards the subject's **L**eft; its second
# along +y, **A**nterior; its third along +z, **S**uperior: the file is **LAS**. The recipe, per
# column of *M*: its largest component names the world axis (x → R/L, y → A/P, z → S/I) and the
# sign picks the letter (+ → R, A, S; − → L, P, I). In an oblique affine two columns can lean most
# to the same world axis; each world axis is used once, given first to the column that follows it
# most closely (the column whose largest unit-length component is largest), as nibabel's
# `io_orientation` does.
#
# Beware of two conventions: nibabel (and this course) name where an axis goes **to**; ITK and
# several DICOM tools name where it comes **from**, so their "RAI" is our "LPS".
#
# Mistakes the check recognises: reading rows instead of columns, the "from" letters, and giving two
# axes the same world axis.
#
# ### Implement

# %% nbgrader={"grade": false, "grade_id": "axcodes", "locked": false, "schema_version": 3, "solution": true}
def axcodes(affine: np.ndarray) -> tuple[str, str, str]:
    """Orientation codes of a voxel-to-RAS affine: where each voxel axis points (nibabel's aff2axcodes).

    Column j of the 3x3 part is the world step of voxel axis j. Its largest component names the
    world axis it follows (x: R/L, y: A/P, z: S/I) and its sign the direction (+ gives R, A, S;
    - gives L, P, I). Each world axis is given once, first to the column that follows its world
    axis most closely (largest component of the unit column), so an oblique affine still gets three
    different axes. For rotations with any voxel sizes (no shear) this is what nibabel's
    ``io_orientation`` computes.

    Args:
        affine: (4, 4) voxel index -> RAS+ mm (a DICOM LPS affine must go through :func:`lps_to_ras`).

    Returns:
        Three letters, e.g. ("L", "A", "S") for ``anatomical.nii``.

    Raises:
        ValueError: not a 4x4 matrix, or its 3x3 part is singular (an axis has no direction).
    """
    ### BEGIN SOLUTION
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4):
        raise ValueError(f"expected a 4x4 affine, got shape {affine.shape}")
    directions = affine[:3, :3]  # column j: world step of voxel axis j
    norms = np.sqrt((directions ** 2).sum(axis=0))
    if norms.min() == 0 or abs(np.linalg.det(directions)) < 1e-9 * norms.prod():
        raise ValueError(f"the affine's 3x3 part is singular (column lengths {norms}); "
                         "every voxel axis needs its own direction")
    # 1. unit columns; the most axis-aligned column chooses first
    directions = directions / norms
    codes = ["", "", ""]
    for j in np.argsort(-np.abs(directions).max(axis=0), kind="stable"):
        # 2. the world axis this voxel axis moves along most (among those not yet taken)
        world = int(np.argmax(np.abs(directions[:, j])))
        # 3. its sign: towards R, A, S (+) or L, P, I (-)
        codes[j] = "RAS"[world] if directions[world, j] > 0 else "LPI"[world]
        # 4. that world axis is taken
        directions[world, :] = 0.0
    return codes[0], codes[1], codes[2]
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_axcodes", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that axcodes names where each voxel axis points, from the affine's columns, each world axis once."""
check(axcodes)

# %% [markdown]
# ### Use: the real files, random affines, and a DICOM series
#
# We compare with nibabel's `aff2axcodes` on the two files and on 2,000 random affines (random axis
# permutations with flips, and random rotations), all with random voxel sizes.

# %%
rng = np.random.default_rng(0)
agree = 0
for trial in range(2000):
    random_affine = np.eye(4)
    if trial % 2:
        rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # oblique
    else:
        rotation = np.eye(3)[:, rng.permutation(3)] * rng.choice([-1.0, 1.0], size=3)  # permuted, flipped
    random_affine[:3, :3] = rotation * rng.uniform(0.5, 3.0, size=3)
    agree += nifti.axcodes(random_affine) == nib.aff2axcodes(random_affine)
for name, (_, affine) in loaded.items():
    print(f"{name}: axcodes {nifti.axcodes(affine)}, nibabel {nib.aff2axcodes(affine)}")
print(f"random affines: {agree} of 2000 agree with nibabel")

# %% [markdown]
# A DICOM series is another source of non-RAS arrays. `load_dicom_series` (lesson 09) returns a
# (slice, row, column) volume and an affine to **LPS**. Read as if it were RAS, its letters would
# be wrong in x and y; `lps_to_ras` negates the first two rows (`diag(-1, -1, 1, 1) @ affine`).

# %%
import tempfile
from pathlib import Path

from course.data.phantom import write_ct_phantom_series
from course.medical.dicom import load_dicom_series

work = Path(tempfile.mkdtemp(prefix="lesson10_"))
write_ct_phantom_series(work / "ct", shape=(24, 64, 64), spacing=(2.5, 0.8, 0.8))
ct, ct_spacing, ct_affine_lps = load_dicom_series(work / "ct")
print(f"CT phantom: volume {ct.shape} (slice, row, column), spacing {ct_spacing} mm")
print(f"  LPS affine read as if RAS: {nifti.axcodes(ct_affine_lps)}  (wrong in x and y)")
print(f"  after lps_to_ras:          {nifti.axcodes(nifti.lps_to_ras(ct_affine_lps))}  "
      f"(nibabel: {nib.aff2axcodes(nifti.lps_to_ras(ct_affine_lps))})")

# %% [markdown]
# ## 3. Canonical orientation: reorienting to RAS
#
# ### Concept
#
# To give a network arrays whose axes mean the same thing in every volume, we bring each volume to
# one orientation, **RAS** by convention (nibabel calls it "closest canonical"). For axis-aligned
# data this needs no interpolation, only two kinds of exact moves:
#
# 1. **permute** the axes so that the one along x comes first, then y, then z;
# 2. **flip** each axis that runs the wrong way (L → R, P → A, I → S).
#
# The affine must follow, so that every voxel keeps its world position. A permutation permutes the
# columns of *M*. A flip of an axis of *n* voxels maps the new index *i'* to the old index
# *n* − 1 − *i'*, so
#
# $$x = m\,(n - 1 - i') + t = (-m)\,i' + \big(t + (n-1)\,m\big):$$
#
# the column changes sign **and the translation moves by (n − 1) times the old column**. Forgetting
# the translation is the classic bug: the array looks right, but every voxel is placed
# (n − 1) voxels away — a whole head's width. Any extra axes (time, channels) after the first three
# are carried along. The check also catches flipping the source axis instead of the new one, and
# returning the old affine.
#
# ### Implement

# %% nbgrader={"grade": false, "grade_id": "reorient", "locked": false, "schema_version": 3, "solution": true}
def reorient(data: np.ndarray, affine: np.ndarray, target: str = "RAS") -> tuple[np.ndarray, np.ndarray]:
    """Permute and flip the voxel axes so that they point as ``target`` says; update the affine.

    Only axis permutations and flips are done (no interpolation), so every voxel keeps its value
    and its world position: ``new_affine @ [i', j', k', 1]`` is the position of the same voxel as
    before. A flip of axis t (size n) maps new index i' to old index n - 1 - i', so the affine's
    column t changes sign *and* its translation moves by that column times (n - 1). Same result as
    nibabel's ``as_closest_canonical`` for "RAS" (and ``ornt_transform`` + ``apply_orientation``
    for other targets).

    Args:
        data: (X, Y, Z) or (X, Y, Z, ...) array; axes after the third (time, channels) are kept.
        affine: (4, 4) voxel index -> RAS+ mm.
        target: three letters, one of R/L, one of A/P, one of S/I in any order, e.g. "RAS", "LPS".

    Returns:
        ``(data, affine)``: the reoriented data (a contiguous copy, same dtype) and its (4, 4)
        float64 affine, whose :func:`axcodes` are ``tuple(target)``.

    Raises:
        ValueError: data has fewer than 3 dimensions, the affine is not 4x4 or singular, or
            ``target`` is not a valid orientation code.
    """
    ### BEGIN SOLUTION
    data = np.asarray(data)
    affine = np.asarray(affine, dtype=np.float64)
    pairs = ("RL", "AP", "SI")
    if len(target) != 3 or sorted(i for c in target for i, p in enumerate(pairs) if c in p) != [0, 1, 2]:
        raise ValueError(f"target must hold one letter of each pair R/L, A/P, S/I (e.g. 'RAS'), got {target!r}")
    if data.ndim < 3:
        raise ValueError(f"data must have at least 3 dimensions (X, Y, Z), got shape {data.shape}")
    source = axcodes(affine)
    # 1. for each target axis: the source axis on the same world axis, and whether it runs backwards
    order, flip = [], []
    for letter in target:
        pair = next(p for p in pairs if letter in p)
        axis = next(j for j, code in enumerate(source) if code in pair)
        order.append(axis)
        flip.append(source[axis] != letter)
    # 2. data: permute the three spatial axes (trailing axes stay), then flip
    out = np.transpose(data, order + list(range(3, data.ndim)))
    for axis in range(3):
        if flip[axis]:
            out = np.flip(out, axis=axis)
    # 3. affine: new index -> old index (permutation; old = n - 1 - new on flipped axes)
    new_to_old = np.zeros((4, 4))
    new_to_old[3, 3] = 1.0
    for axis in range(3):
        new_to_old[order[axis], axis] = -1.0 if flip[axis] else 1.0
        new_to_old[order[axis], 3] = out.shape[axis] - 1 if flip[axis] else 0.0
    return out.copy(), affine @ new_to_old  # a new C-ordered array, never a view of the input
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_reorient", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that reorient permutes and flips the data to the target codes and updates the affine, translation included."""
check(reorient)

# %% [markdown]
# ### Use: canonical versions of the real files
#
# We reorient both files (the 4D one too) and compare with nibabel's `as_closest_canonical`.

# %%
canonical = {}
for name, (data, affine) in loaded.items():
    ras, ras_affine = nifti.reorient(data, affine, "RAS")
    canonical[name] = ras, ras_affine
    theirs = nib.as_closest_canonical(nib.load(files[name]))
    print(f"{name}: {nifti.axcodes(affine)} {data.shape} -> {nifti.axcodes(ras_affine)} {ras.shape}; "
          f"data equal to nibabel: {np.array_equal(ras, theirs.get_fdata())}, "
          f"max affine difference {np.abs(ras_affine - theirs.affine).max():.1e}")
t1_ras, t1_ras_affine = canonical["anatomical.nii"]
n = t1.shape[0]
print(f"\nanatomical.nii translation {t1_affine[:3, 3]} -> {t1_ras_affine[:3, 3]} "
      f"= old + ({n} - 1) x old column 0 {t1_affine[:3, 0]}")
forgot = t1_ras_affine.copy()
forgot[:3, 3] = t1_affine[:3, 3]  # the classic bug
print(f"forgetting the translation misplaces voxel 0 by "
      f"{np.linalg.norm(nifti.voxel_to_world(forgot, [0, 0, 0]) - nifti.voxel_to_world(t1_ras_affine, [0, 0, 0])):.0f} mm")

# %% [markdown]
# The same brain, drawn from the array as stored (LAS) and after reorienting (RAS), with the same
# drawing code that ignores the affine — **array display**: the index of axis 0 grows to the right in
# every panel, which is all a network knows. The stored array has the subject's left on the right of
# the axial and coronal panels; the canonical array has the subject's right there: mirror images.
#
# **Display conventions.** A viewer that reads the affine draws both the same way, but which way is
# itself a convention. This course uses the **radiological convention**, as lesson 09 does and as
# radiology workstations do: the subject's **left on the image's right**, as if facing the patient
# (an axial slice is seen from the feet), anterior up. The **neurological convention** mirrors it
# (the subject's right on the image's right), as if looking from behind. `show_orthogonal_slices` and
# `slice_viewer` take `convention="radiological"` (the default), `"neurological"` or `"array"`, and
# write the subject directions at the panel edges in orange.

# %%
from course.viz.volume import show_orthogonal_slices, slice_viewer

show_orthogonal_slices(t1, spacing=nifti.voxel_spacing(t1_affine), axcodes=nifti.axcodes(t1_affine),
                       title="anatomical.nii as stored (LAS)", convention="array")

# %%
show_orthogonal_slices(t1_ras, spacing=nifti.voxel_spacing(t1_ras_affine),
                       title="anatomical.nii reoriented to RAS", convention="array")

# %% [markdown]
# The same two arrays in the radiological convention: each is drawn from its own orientation codes,
# so the stored LAS array and the RAS array now look the same, with the subject's left (L) on the
# image's right.

# %%
show_orthogonal_slices(t1, spacing=nifti.voxel_spacing(t1_affine), axcodes=nifti.axcodes(t1_affine),
                       title="anatomical.nii as stored (LAS)")

# %%
show_orthogonal_slices(t1_ras, spacing=nifti.voxel_spacing(t1_ras_affine),
                       title="anatomical.nii reoriented to RAS")

# %% [markdown]
# ### Experiment: mixed orientations silently break training
#
# Suppose half of a training set comes from a scanner that stores LAS and half from one that
# stores RAS, and the task needs to know left from right: say, a label on the subject's **left
# hemisphere** (a left-sided lesion, the left hippocampus). We build such a set from the real brain:
# six "subjects" that are the same anatomy with a different scanner gain and noise, each z-scored;
# the label is every voxel whose world x is negative (the subject's left), computed from the affine.
#
# First, no model at all: compare the label mask of one subject stored LAS with the same mask stored
# RAS, voxel by voxel, as a pipeline that ignores the affine would.

# %%
import torch
from tqdm.auto import tqdm

from course.medical import normalize  # the reference: normalize.zscore, normalize.foreground_mask, normalize.minmax
from course.metrics import binary_dice
from course.report import compare, result

ijk = np.indices(t1_ras.shape).reshape(3, -1).T  # (N, 3) every voxel index
left = (nifti.voxel_to_world(t1_ras_affine, ijk)[:, 0] < 0).reshape(t1_ras.shape)  # world x < 0
left_las, las_affine = nifti.reorient(left, t1_ras_affine, "LAS")  # the same mask, stored as LAS
print(f"left-hemisphere mask: {left.mean():.1%} of the voxels")
result("10.mask_dice_as_stored", binary_dice(left, left_las), tol=0.0, label="Dice, RAS array vs LAS array as stored")
result("10.mask_dice_canonical", binary_dice(left, nifti.reorient(left_las, las_affine)[0]), tol=0.0,
       label="Dice, RAS array vs LAS array canonicalized")
print(f"world positions agree without reorienting: "
      f"{np.allclose(nifti.voxel_to_world(t1_ras_affine, [0, 0, 0]), nifti.voxel_to_world(las_affine, [t1.shape[0] - 1, 0, 0]))}"
      f" (voxel 0 of RAS is voxel n-1 of LAS)")

# %% [markdown]
# Now a model. The smallest model that can learn this label sees, for each voxel, its intensity and
# its position in the array (scaled to [−1, 1]), through one hidden layer of 16 units — the same
# information a convolutional network gets from its receptive field and padding. We train it
# (Adam, 60 full-batch steps) on the six subjects all stored RAS; on the six with every second one
# stored LAS, fed as stored; and on that mixed set after canonicalizing each volume with `reorient`.
# We test on a seventh subject, stored RAS and stored LAS. Then, to put an interval on the damage,
# we train the two mixed models with three seeds each and test them on three new subjects in both
# orientations: 18 paired test volumes.

# %%
torch.manual_seed(0)


def make_subject(seed: int) -> np.ndarray:
    """The same brain with another scanner gain and noise, z-scored over its foreground (RAS)."""
    gen = np.random.default_rng(seed)
    return normalize.zscore(t1_ras * gen.uniform(0.7, 1.3) + gen.normal(0, 300, t1_ras.shape))


def features(volume: np.ndarray) -> torch.Tensor:
    """(N, 4) per voxel: intensity and the voxel's array position scaled to [-1, 1]."""
    size = np.array(volume.shape)
    position = np.indices(volume.shape).reshape(3, -1).T / (size - 1) * 2 - 1  # (N, 3)
    return torch.from_numpy(np.c_[volume.reshape(-1, 1), position].astype(np.float32))


def train_voxel_model(volumes: list, masks: list, steps: int = 60, *, seed: int = 0, bar=None) -> torch.nn.Module:
    """A 4 -> 16 -> 1 MLP on every voxel of every volume (logits of 'left hemisphere'); ``bar`` counts steps."""
    torch.manual_seed(seed)
    x = torch.cat([features(v) for v in volumes])  # (N_total, 4)
    y = torch.cat([torch.from_numpy(m.reshape(-1).astype(np.float32)) for m in masks])  # (N_total,)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x)[:, 0], y)
        loss.backward()
        optimizer.step()
        if bar is not None:
            bar.update()
    return model


def predict(model: torch.nn.Module, volume: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return (model(features(volume))[:, 0] > 0).numpy().reshape(volume.shape)


subjects = [make_subject(seed) for seed in range(6)]
stored = [nifti.reorient(v, t1_ras_affine, "LAS" if s % 2 else "RAS") for s, v in enumerate(subjects)]
stored_masks = [nifti.reorient(left, t1_ras_affine, "LAS" if s % 2 else "RAS")[0] for s in range(6)]
canonical_set = ([nifti.reorient(v, a)[0] for v, a in stored],
                 [nifti.reorient(m, a)[0] for m, (_, a) in zip(stored_masks, stored)])
SEEDS = (0, 1, 2)
with tqdm(total=60 * (1 + 2 * len(SEEDS)), desc="voxel models (steps)") as bar:
    models = {"all RAS": train_voxel_model(subjects, [left] * 6, bar=bar)}
    seeded = {(name, seed): train_voxel_model(*data, seed=seed, bar=bar) for seed in SEEDS
              for name, data in [("mixed, as stored", ([v for v, _ in stored], stored_masks)),
                                 ("mixed, canonicalized", canonical_set)]}
models.update({name: seeded[(name, 0)] for name in ("mixed, as stored", "mixed, canonicalized")})
test_ras = make_subject(100)
test_las, test_las_affine = nifti.reorient(test_ras, t1_ras_affine, "LAS")
print(f"seed 0, test subject 100   {'test RAS':>9s} {'test LAS as stored':>19s} {'test LAS canonicalized':>23s}")
results = {}
for name, model in models.items():
    results[name] = (binary_dice(predict(model, test_ras), left),
                     binary_dice(predict(model, test_las), left_las),
                     binary_dice(predict(model, nifti.reorient(test_las, test_las_affine)[0]), left))
    print(f"trained on {name:22s} {results[name][0]:9.3f} {results[name][1]:19.3f} {results[name][2]:23.3f}")
for name, key in [("all RAS", "all_ras"), ("mixed, as stored", "mixed")]:
    result(f"10.{key}_dice_test_ras", results[name][0], tol=0.05, label=f"{name}: Dice on the RAS test subject")
    result(f"10.{key}_dice_test_las", results[name][1], tol=0.05, label=f"{name}: Dice on the LAS test subject as stored")
result("10.canonical_dice_test_ras", results["mixed, canonicalized"][0], tol=0.05,
       label="mixed, canonicalized: Dice on the RAS test subject")
result("10.canonical_dice_test_las", results["mixed, canonicalized"][2], tol=0.05,
       label="mixed, canonicalized: Dice on the LAS test subject, canonicalized before predicting")

# %% [markdown]
# One model and one test subject is an anecdote. Over three training seeds and three new test
# subjects, each tested as stored in RAS and in LAS (18 paired test volumes: the pipeline that
# canonicalizes reorients the LAS ones before predicting and maps the prediction back), we compare
# the mixed set fed as stored with the mixed set canonicalized, with a paired-bootstrap interval of
# the mean Dice difference that resamples the training seeds first and then the test volumes of
# each (a two-level bootstrap: one lucky or stuck training run widens the interval).

# %%
per_volume = {"mixed, as stored": [], "mixed, canonicalized": []}
volume_seed = []  # the training seed of each test volume: the bootstrap resamples seeds, then volumes
for seed in SEEDS:
    for subject in (101, 102, 103):
        volume_ras = make_subject(subject)
        volume_las, affine_las = nifti.reorient(volume_ras, t1_ras_affine, "LAS")
        volume_seed += [seed, seed]
        for name, scores in per_volume.items():
            model = seeded[(name, seed)]
            scores.append(binary_dice(predict(model, volume_ras), left))
            if name == "mixed, as stored":
                scores.append(binary_dice(predict(model, volume_las), left_las))
            else:  # canonicalize, predict, and bring the prediction back to the stored LAS grid
                prediction = predict(model, nifti.reorient(volume_las, affine_las)[0])
                scores.append(binary_dice(nifti.reorient(prediction, t1_ras_affine, "LAS")[0], left_las))
for name, scores in per_volume.items():
    print(f"{name:22s} Dice over 18 test volumes: mean {np.mean(scores):.3f}, min {np.min(scores):.3f}, "
          f"max {np.max(scores):.3f}")
canonical_vs_stored = compare("mixed, canonicalized", per_volume["mixed, canonicalized"],
                              "mixed, as stored", per_volume["mixed, as stored"], unit="Dice points", groups=volume_seed)
result("10.canonical_minus_stored_dice", canonical_vs_stored.diff, tol=0.05,
       label="mean Dice gain of canonicalizing a mixed training set")
result("10.canonical_minus_stored_dice_lower", canonical_vs_stored.lower, tol=0.05, label="95 % CI lower end")
result("10.canonical_minus_stored_dice_upper", canonical_vs_stored.upper, tol=0.05, label="95 % CI upper end")

# %%
a, b = results["all RAS"][:2]
print(f"Trained on one orientation, the model scores Dice {a:.3f} on that orientation and {b:.3f} on the other "
      f"(it labels the {'mirror image' if b < 0.1 else 'hemisphere only partly'}).")
m_ras, m_las = results["mixed, as stored"][:2]
print(f"Trained on the mix as stored, it scores {m_ras:.3f} on RAS and {m_las:.3f} on LAS: "
      + ("far below 1 on both, worse than guessing one side" if max(m_ras, m_las) < 0.5 else
         "far below 1" if max(m_ras, m_las) < 0.9 else "close to 1") + ".")
print(f"Canonicalized, it scores {results['mixed, canonicalized'][0]:.3f} and {results['mixed, canonicalized'][2]:.3f}; "
      f"over 18 test volumes and 3 seeds canonicalizing adds {canonical_vs_stored.diff:+.3f} Dice "
      f"(95 % CI [{canonical_vs_stored.lower:+.3f}, {canonical_vs_stored.upper:+.3f}]).")

# %% [markdown]
# Read the table by row. Trained on one orientation, the model is right on that orientation and
# labels the mirror image on the other. Trained on the mix as stored, it cannot be right on both
# and falls far below 1 everywhere — nothing crashed, no shape was wrong, the loss went down: the
# damage is silent. Canonicalizing every volume, for training and at test time, restores it (the
# printed lines and the interval above). A real network fails the same way, only more quietly:
# anatomy is nearly left–right symmetric, so it learns from mirrored examples without complaint
# and gets laterality wrong.

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), layout="constrained")
k = t1_ras.shape[2] // 2
for ax, (name, model) in zip(axes, models.items()):
    ax.imshow(test_ras[:, :, k].T, origin="lower", cmap="gray")
    ax.contour(predict(model, test_ras)[:, :, k].T, levels=[0.5], colors="red")
    ax.contour(left[:, :, k].T, levels=[0.5], colors="cyan", linestyles="dashed")
    ax.invert_xaxis()  # radiological convention: the subject's left on the image's right
    ax.set_title(f"{name}: Dice {results[name][0]:.2f}", fontsize=9)
    ax.set_xlabel("axis 0: image right = subject's L")
    ax.set_ylabel("axis 1 -> A")
fig.suptitle("test subject (RAS), axial slice, radiological display: predicted left hemisphere (red), truth (cyan)")
plt.show()

# %% [markdown]
# ## 4. Resampling to a common spacing
#
# A network counts voxels, not millimetres: a 5×5×5 kernel covers 5 mm on a 1 mm scan and 15 mm on
# a 3 mm one. So volumes are resampled to one spacing before training. `resample_to_spacing` keeps
# the voxel axes and the centre of voxel 0 and only changes the step along each axis; the old spacing
# comes from the affine's column lengths. Because the new grid is parallel to the old one, the
# interpolation splits into one 1D interpolation per axis: **order 0** (nearest neighbour) for label
# maps, which must keep their label values, and **order 1** (linear; three passes make trilinear)
# for intensities. Along an axis of *n* voxels of spacing *s*, the new grid of spacing *s'* has
# ceil((*n* − 1) *s* / *s'*) + 1 samples, nibabel's rule.
#
# "Agrees with nibabel" here means: for a canonical (axis-aligned RAS) volume, the same output shape
# and affine as `nibabel.processing.resample_to_output`, and the same values, up to float32 rounding,
# at every voxel whose centre lies inside the input (nibabel fills 0 beyond the last input voxel
# centre, we repeat the edge).

# %%
from nibabel.processing import resample_to_output

from course.medical.resample import resample_to_spacing

for spacing in [(1.0, 1.0, 1.0), (3.0, 3.0, 3.0), (1.3, 2.7, 0.9)]:
    for order in (0, 1):
        ours, ours_affine = resample_to_spacing(t1_ras, t1_ras_affine, spacing, order)
        theirs = resample_to_output(nib.Nifti1Image(t1_ras, t1_ras_affine), spacing, order=order)
        steps = np.array(spacing) / nifti.voxel_spacing(t1_ras_affine)
        inside = tuple(slice(0, int(np.floor((m - 1) / s + 1e-9)) + 1) for m, s in zip(t1_ras.shape, steps))
        diff = np.abs(ours[inside] - theirs.get_fdata()[inside]).max() / np.abs(t1_ras).max()
        print(f"spacing {spacing} mm, order {order}: shape {ours.shape} (nibabel {theirs.shape}), "
              f"affine equal {np.allclose(ours_affine, theirs.affine)}, max relative difference inside {diff:.1e}")

# %% [markdown]
# Labels need order 0: linear interpolation of a label map invents values between labels (a 0/1
# mask gets fractions; labels 1 and 3 average to a 2 that means another tissue).

# %%
labels = (left.astype(np.float32) + 2 * normalize.foreground_mask(t1_ras)).astype(np.float32)  # 0..3
for order in (0, 1):
    out, _ = resample_to_spacing(labels, t1_ras_affine, 1.5, order)
    print(f"order {order}: {len(np.unique(labels))} label values -> {len(np.unique(out))} distinct values after resampling")
coarse, coarse_affine = resample_to_spacing(t1_ras, t1_ras_affine, 4.0, 1)
fine, fine_affine = resample_to_spacing(t1_ras, t1_ras_affine, 1.0, 1)
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), layout="constrained")
for ax, (name, vol, aff) in zip(axes, [("2 mm (file)", t1_ras, t1_ras_affine), ("4 mm", coarse, coarse_affine),
                                       ("1 mm", fine, fine_affine)]):
    ax.imshow(vol[:, :, vol.shape[2] // 2].T, origin="lower", cmap="gray")
    ax.invert_xaxis()  # radiological convention
    ax.set_title(f"{name}: {vol.shape}", fontsize=9)
    ax.set_axis_off()
fig.suptitle("axial slices, radiological display (subject's left on the right)", fontsize=10)
plt.show()

# %% [markdown]
# ## 5. Intensity normalization: z-score over the foreground
#
# ### Concept
#
# CT has a physical unit (HU). MRI has none: the same tissue gets different numbers on another
# scanner, sequence or day. Before a network, each volume is normalized on its own. Standard
# practice (nnU-Net; the comparison of Reinhold et al. 2019) is a **z-score**
#
# $$z = \frac{v - \mu_F}{\sigma_F},$$
#
# with the mean and the **population** standard deviation (ddof 0) of the **foreground** *F* (the
# head), applied to every voxel. Why the foreground: the background's share of the volume changes
# with the field of view, and would otherwise set both statistics. When no mask is given, we take the
# voxels above the volume's mean as foreground (`foreground_mask`, given below): most of a head
# scan's field of view is dark, so the mean lies between background and tissue. Histogram
# standardization (Nyúl & Udupa 1999) goes further, matching intensity landmarks across volumes.
# **Min–max** scaling to [0, 1], common for photographs, is fragile for MRI: one bright voxel (a
# vessel, an artefact) sets the maximum and squeezes every tissue.
#
# The check catches statistics over the whole volume, the n − 1 standard deviation (`torch.std`'s
# default), a background set to 0, and the mask rule `volume > 0`.
#
# ### Implement

# %% nbgrader={"grade": false, "grade_id": "zscore", "locked": false, "schema_version": 3, "solution": true}
def foreground_mask(volume: np.ndarray) -> np.ndarray:
    """Voxels brighter than the volume's mean intensity: a rough head (foreground) mask.

    In a head MRI most of the field of view is dark background near 0, so the overall mean lies
    between the background and the tissue intensities; a simple threshold that needs no parameter.

    Args:
        volume: any shape, intensities (arbitrary units).

    Returns:
        bool array, same shape: ``volume > volume.mean()``.

    Raises:
        ValueError: the volume is empty.
    """
    volume = np.asarray(volume, dtype=np.float64)
    if volume.size == 0:
        raise ValueError("the volume is empty; pass an array with at least one voxel")
    return volume > volume.mean()


def zscore(volume: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Z-score a volume with the mean and standard deviation of its foreground.

    ``(volume - mean(volume[mask])) / std(volume[mask])`` applied to every voxel (background too),
    with the population standard deviation (ddof 0, numpy's default).

    Args:
        volume: any shape (e.g. (X, Y, Z)), intensities (arbitrary units).
        mask: bool array of the same shape marking the foreground; None uses
            :func:`foreground_mask` (voxels above the mean).

    Returns:
        float32, same shape: foreground mean 0 and standard deviation 1 (computed in float64).

    Raises:
        ValueError: the mask's shape differs from the volume's, it selects fewer than 2 voxels, or
            the foreground is constant (standard deviation 0).
    """
    ### BEGIN SOLUTION
    # 1. the foreground
    volume = np.asarray(volume, dtype=np.float64)
    mask = foreground_mask(volume) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != volume.shape:
        raise ValueError(f"mask shape {mask.shape} differs from volume shape {volume.shape}")
    if mask.sum() < 2:
        raise ValueError(f"the mask selects {int(mask.sum())} voxel(s); a z-score needs at least 2")
    # 2. its statistics
    values = volume[mask]
    mean, std = values.mean(), values.std()
    if std == 0:
        raise ValueError("the foreground is constant (standard deviation 0); nothing to normalize")
    # 3. applied to every voxel
    return ((volume - mean) / std).astype(np.float32)
    ### END SOLUTION

# %% [markdown]
# ### Check

# %% nbgrader={"grade": true, "grade_id": "test_zscore", "locked": true, "points": 1, "schema_version": 3, "solution": false}
"""Check that zscore uses the foreground's mean and population std, and applies them to every voxel."""
check(zscore)

# %% [markdown]
# ### Experiment: an outlier, a larger field of view, another scanner
#
# We take the first fMRI volume, reoriented to RAS (it has a real background, unlike the cropped
# T1), and change it in three ways that do not change the anatomy: one bright voxel in a corner of
# the background; twice the field of view (padding with background); and another scanner's gain and
# offset. Each normalization sees only the volume: the foreground z-score finds its own foreground
# in each variant with `foreground_mask` (voxels above that variant's mean), as a pipeline would. We
# then measure the values of the **brain** (the anatomy, the same voxels in every variant: the
# original volume's foreground, padded along in the larger field of view): their mean and spread,
# and how far they move (the mean absolute change of the normalized brain voxels, in units of the
# original normalized brain's standard deviation).

# %%
bold_ras, bold_ras_affine = canonical["example4d.nii.gz"]
vol0 = bold_ras[..., 0]
brain = normalize.foreground_mask(vol0)
hot = vol0.copy()
hot[0, 0, 0] = 10 * vol0.max()  # one outlier voxel in the background
padded = np.pad(vol0, 32)  # a larger field of view: more background
brain_padded = np.pad(brain, 32)
other = vol0 * 1.7 + 150  # another scanner: gain and offset
variants = {"original": (vol0, brain), "one outlier voxel": (hot, brain), "larger field of view": (padded, brain_padded),
            "other scanner": (other, brain)}
methods = {"min-max": normalize.minmax, "z-score, whole volume": lambda v: normalize.zscore(v, np.ones(v.shape, bool)),
           "z-score, foreground": normalize.zscore}  # the last one: its own foreground_mask(v) per variant
print(f"brain voxels: {brain.sum()} of {brain.size} ({brain.mean():.0%}); max {vol0.max():.0f}, "
      f"brain mean {vol0[brain].mean():.0f}")
print(f"{'normalization':24s} {'variant':22s} {'brain mean':>10s} {'brain std':>10s} {'change':>8s} {'mask voxels':>12s}")
changes = {}
for method, normalize_fn in methods.items():
    reference = normalize_fn(vol0)[brain]
    for variant, (volume, anatomy) in variants.items():
        values = normalize_fn(volume)[anatomy]
        changes[(method, variant)] = np.abs(values - reference).mean() / reference.std()
        own_mask = int(normalize.foreground_mask(volume).sum()) if method == "z-score, foreground" else volume.size
        print(f"{method:24s} {variant:22s} {values.mean():10.3f} {values.std():10.3f} "
              f"{changes[(method, variant)]:8.3f} {own_mask:12,d}")
result("10.minmax_change_outlier", changes[("min-max", "one outlier voxel")], tol=0.01,
       label="min-max: change of the brain's values after one outlier voxel (SD)")
result("10.whole_z_change_fov", changes[("z-score, whole volume", "larger field of view")], tol=0.01,
       label="whole-volume z-score: change after doubling the field of view (SD)")
result("10.fg_z_change_fov", changes[("z-score, foreground", "larger field of view")], tol=0.01,
       label="foreground z-score, own mask per variant: change after doubling the field of view (SD)")
result("10.fg_z_change_outlier", changes[("z-score, foreground", "one outlier voxel")], tol=0.01,
       label="foreground z-score, own mask per variant: change after one outlier voxel (SD)")
for variant in ("one outlier voxel", "larger field of view", "other scanner"):
    moved = {m: changes[(m, variant)] for m in methods}
    print(f"{variant}: the brain moves least under {min(moved, key=moved.get)} ({min(moved.values()):.2f} SD) "
          f"and most under {max(moved, key=moved.get)} ({max(moved.values()):.2f} SD)")

# %% [markdown]
# Min–max is blind to the other scanner (a linear change) but one voxel is enough to squeeze the
# whole brain into a sliver near 0. The whole-volume z-score survives the outlier but moves the
# brain's values a long way when the field of view grows, because the background's share changed.
# The foreground z-score moves too when the field of view grows, but far less (the printed lines):
# its mask rule, "above the mean", is itself a statistic of the whole volume, so extra background
# lowers the threshold, a few more dim voxels at the edge of the head join the foreground, and the
# mean and standard deviation shift a little. A mask that does not depend on the field of view (a
# brain mask from a segmentation, or Otsu's threshold, exercise 5) removes even that. (None of them
# removes a smooth *bias field*, the slow brightness drift of MRI coils: that needs a bias
# correction such as N4 first.)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")
for ax, method in zip(axes, ["min-max", "z-score, foreground"]):
    for variant in ("original", "one outlier voxel"):
        volume, anatomy = variants[variant]
        ax.hist(methods[method](volume)[anatomy], bins=80, alpha=0.6, label=variant)
    ax.set(title=f"{method}: values of the brain voxels", xlabel="normalized value", ylabel="voxels")
    ax.legend()
plt.show()

# %% [markdown]
# ## 6. Channels as sequences, and a 4D run as a video
#
# Clinical MRI is often several **contrasts** of the same head (T1, T2, FLAIR...), each a volume.
# Once they are co-registered (same affine, same shape), they stack like the R, G, B of a photograph
# into channels: (C, D, H, W), the layout of a 3D network's input (N, C, D, H, W). Each channel is
# normalized on its own. The files here have one contrast, so the second channel is derived: the
# gradient magnitude of the T1 (edges), a common extra input. `xyz_to_dhw` turns NIfTI's (X, Y, Z)
# into the course layout (D, H, W) = (Z, Y, X): axial slices first.

# %%
gradient = np.sqrt(sum(g ** 2 for g in np.gradient(t1_ras)))  # |∇T1|, same grid and affine
channels = np.stack([nifti.xyz_to_dhw(normalize.zscore(t1_ras)), nifti.xyz_to_dhw(normalize.zscore(gradient))])  # (C, D, H, W)
batch = torch.from_numpy(channels)[None]  # (N, C, D, H, W)
conv = torch.nn.Conv3d(in_channels=2, out_channels=4, kernel_size=3, padding=1)
print(f"T1 {t1_ras.shape} (X, Y, Z) and |grad T1| -> channels {tuple(channels.shape)} (C, D, H, W) "
      f"-> batch {tuple(batch.shape)} -> Conv3d -> {tuple(conv(batch).shape)}")

# %% [markdown]
# A 4D file is a **time series** of volumes: for fMRI, one volume every repetition time (TR). Its
# NIfTI layout is (X, Y, Z, T), time last. Like frames of a clip, (T, C, H, W), we put time first:
# (T, 1, D, H, W), one channel per volume — then a (2+1)D or a recurrent model of earlier lessons
# applies unchanged, with volumes in place of images. Two things to see below: the two volumes
# differ little (the BOLD signal of fMRI is a small change), and the header's time unit cannot be
# trusted: a TR of 2000 *seconds* is impossible; the writer of this file stored milliseconds. Check
# headers against what you know of the acquisition.

# %%
header4d = nib.load(files["example4d.nii.gz"]).header
tr, time_unit = float(header4d.get_zooms()[3]), header4d.get_xyzt_units()[1]
frames = nifti.time_series_to_frames(bold_ras)  # (T, 1, D, H, W)
brain_dhw = nifti.xyz_to_dhw(normalize.foreground_mask(bold_ras[..., 0]))
change = np.abs(frames[1, 0] - frames[0, 0])[brain_dhw].mean() / frames[0, 0][brain_dhw].mean()
print(f"fMRI (X, Y, Z, T) {bold_ras.shape} -> frames {frames.shape} (T, 1, D, H, W)")
print(f"TR in the header: {tr:g} with time unit {time_unit!r}: {tr:g} s = {tr / 3600:.2f} hours per volume?")
print(f"mean absolute change between the two volumes inside the brain: {change:.2%} of the brain's mean")
fig, axes = plt.subplots(1, frames.shape[0], figsize=(7, 3.2), layout="constrained")
for t, ax in enumerate(axes):
    ax.imshow(frames[t, 0, frames.shape[2] // 2], origin="lower", cmap="gray")  # (H, W) = (Y, X): R to the right
    ax.invert_xaxis()  # radiological convention: the subject's left on the image's right
    ax.set_title(f"t = {t} (axial slice {frames.shape[2] // 2})", fontsize=9)
    ax.set_axis_off()
fig.suptitle("radiological display", fontsize=9)
plt.show()

# %% [markdown]
# ## 7. A slice viewer
#
# `slice_viewer` shows three orthogonal slices with a slider per axis (it redraws when a slider is
# released; it needs a running kernel). Its static twin `show_orthogonal_slices`, below it, is what
# an executed notebook shows. Try it on the canonical fMRI volume: move axis 2 (inferior →
# superior) through the brain.

# %%
slice_viewer(vol0, spacing=nifti.voxel_spacing(bold_ras_affine))

# %%
show_orthogonal_slices(vol0, spacing=nifti.voxel_spacing(bold_ras_affine), title="example4d.nii.gz, volume 0, RAS")

# %% [markdown]
# ## 8. From a DICOM series to NIfTI
#
# `dicom_series_to_nifti` loads a series (sorted along the slice normal, lesson 09), converts its LPS
# affine with `lps_to_ras`, and writes the volume and the affine with nibabel, sform and qform both
# set (code 1, scanner). We check the round trip against the DICOM files themselves: nibabel must put
# voxel (k, 0, 0) at each slice's ImagePositionPatient with x and y negated. Then we show what
# forgetting the flip does.

# %%
import pydicom

path = nifti.dicom_series_to_nifti(work / "ct", work / "ct.nii.gz")
img = nib.load(path)
back, back_affine = nifti.load_nifti(path)
positions = {float(pydicom.dcmread(f).ImagePositionPatient[2]): np.array(pydicom.dcmread(f).ImagePositionPatient, float)
             for f in sorted((work / "ct").iterdir())}
ipp = np.array([positions[z] for z in sorted(positions)])  # (D, 3) LPS, in slice order (axial: by z)
nib_positions = apply_affine(img.affine, np.c_[np.arange(len(ipp)), np.zeros((len(ipp), 2))])
print(f"{path.name}: shape {img.shape}, axcodes {nib.aff2axcodes(img.affine)}, "
      f"HU identical to the series: {np.array_equal(back, ct)}")
print(f"max |nibabel position of voxel (k, 0, 0) - ImagePositionPatient * (-1, -1, 1)| = "
      f"{np.abs(nib_positions - ipp * [-1, -1, 1]).max():.1e} mm")
wrong = nib.Nifti1Image(ct, ct_affine_lps)  # the LPS affine written as if it were RAS
print(f"without the flip: axcodes {nib.aff2axcodes(wrong.affine)}; voxel (0, 0, 0) lands "
      f"{np.linalg.norm(apply_affine(wrong.affine, [0, 0, 0]) - apply_affine(img.affine, [0, 0, 0])):.1f} mm away, "
      f"mirrored left-right and front-back")
ct_ras, ct_ras_affine = nifti.reorient(back, back_affine)
show_orthogonal_slices(ct_ras, spacing=nifti.voxel_spacing(ct_ras_affine), vmin=-400, vmax=400,
                       title="CT phantom: DICOM series -> NIfTI -> RAS (liver on the subject's right)")

# %% [markdown]
# ## Summary
#
# The lesson's measured claims, printed from this run:

# %%
print(f"* The same left-hemisphere mask stored LAS and RAS: Dice {binary_dice(left, left_las):.3f} voxel by voxel, "
      f"{binary_dice(left, nifti.reorient(left_las, las_affine)[0]):.3f} after canonicalizing.")
print(f"* A voxel model trained on a mix of LAS and RAS as stored: Dice {results['mixed, as stored'][0]:.3f} (RAS test) "
      f"and {results['mixed, as stored'][1]:.3f} (LAS test); canonicalized: {results['mixed, canonicalized'][0]:.3f} "
      f"and {results['mixed, canonicalized'][2]:.3f}.")
print(f"* {canonical_vs_stored.text(unit='Dice points')}")
print(f"* Doubling the field of view moves the brain's whole-volume z-scores by "
      f"{changes[('z-score, whole volume', 'larger field of view')]:.2f} SD and its foreground z-scores (own mask) by "
      f"{changes[('z-score, foreground', 'larger field of view')]:.2f} SD; one outlier voxel moves min–max by "
      f"{changes[('min-max', 'one outlier voxel')]:.2f} SD and the foreground z-score by "
      f"{changes[('z-score, foreground', 'one outlier voxel')]:.3f} SD.")

# %% [markdown]
#
# * An affine maps a voxel index to millimetres: `A @ [i, j, k, 1]`; the 1 adds the translation.
#   The spacing is the **column lengths** of its 3×3 block — the diagonal is wrong for tilted data,
#   as the fMRI file showed.
# * NIfTI's world is **RAS+**, DICOM's **LPS+**; `diag(-1, -1, 1, 1) @ affine_lps` converts. The
#   NIfTI-1 header holds a qform and an sform with codes; nibabel prefers the sform.
# * Orientation codes name where each array axis points, read from the affine's columns:
#   `anatomical.nii` is LAS, a DICOM axial series in (slice, row, column) is SPL.
# * **Reorienting** permutes and flips axes without interpolation; a flip moves the translation by
#   (n − 1) columns. Ours matched nibabel's `as_closest_canonical` exactly on both files.
# * **Mixed orientations break training silently**: the same mask in LAS and RAS arrays does not
#   overlap voxel by voxel, and a model trained on a mix as stored could not tell left from right on
#   either orientation; canonicalizing restored it, over three seeds and 18 test volumes (the
#   interval printed above).
# * Display: this course draws slices in the **radiological convention** (the subject's left on the
#   image's right); the neurological convention mirrors it; an array drawn without its affine is
#   neither, and a LAS and a RAS array of the same head are mirror images.
# * Resample to a common spacing: order 0 for labels, order 1 for intensities; same shape and affine
#   as nibabel on canonical data.
# * Z-score MRI over the **foreground**: one outlier voxel wrecked min–max, a larger field of view
#   moved the whole-volume z-score far, and the foreground z-score, recomputing its own mask, moved
#   much less; its "above the mean" mask still depends a little on the field of view.
# * Contrasts stack as channels (C, D, H, W); a 4D run is a video of volumes (T, 1, D, H, W).
#
# ## Exercises (not graded)
#
# 1. **Every orientation.** There are 48 orientation codes (6 axis orders × 8 sign patterns). Reorient
#    `anatomical.nii` to each, then back to RAS, and check that you get the canonical array every time.
#    How many of the 48 have a negative determinant, and what does that mean physically?
# 2. **Oblique data.** `example4d.nii.gz` is tilted, so its canonical array is still tilted: RAS is
#    only the *closest* orientation. Use `nibabel.processing.resample_to_output` to resample it onto
#    world-aligned axes. How much does that change the voxel values (order 1)? When is it worth it?
# 3. **The qform.** Build an affine with a shear and save it with `save_nifti`. Read back
#    `get_qform()` and `get_sform()`. Which one keeps the shear, and what would a reader that only
#    uses the qform see?
# 4. **Data augmentation.** Random left-right flips are a common augmentation. For which labels is
#    that harmless, and for which does it recreate the problem of section 3? Try it in the experiment.
# 5. **A better mask.** Replace `foreground_mask` with Otsu's threshold (maximize the between-class
#    variance of a 256-bin histogram). Compare both masks on the fMRI volume with Dice. Does the
#    z-score change much?
# 6. **Resampling and Dice.** Downsample the left-hemisphere mask to 4 mm (order 0) and back to 2 mm.
#    What Dice does the round trip keep? Repeat with order 1 followed by a threshold at 0.5.
