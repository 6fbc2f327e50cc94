"""The capstone's full experiment (lesson 15): does video pretraining help a small 3D CT model?

Ke et al. 2023 ("Video Pretraining Advances 3D Deep Learning on Chest CT Tasks", MIDL) report three
results on pulmonary-embolism (PE) detection: 3D models pretrained on Kinetics-400 beat the same
models from scratch, a video-pretrained 3D model beats the best 2D baseline (an LRCN on an
ImageNet-pretrained CNN), and out-of-domain video pretraining beats in-domain CT pretraining. This
module re-runs that design at toy scale on generated data, with the decision rules written down
(:data:`CRITERIA`) before the first run:

    python -m course.transfer_experiment pretrain      # the shipped weights, with their SHA-256
    python -m course.transfer_experiment run           # every arm × architecture × N × seed → results
    python -m course.transfer_experiment report        # the comparisons and verdicts of the shipped results
    python -m course.transfer_experiment shortcuts     # hand-made features that would give the label away

The task is the second stage of a PE detector: a 16 × 24 × 24 block of a generated chest CT
(:func:`course.data.chest_ct.candidate_crop`, PE window C 100 / W 700) around a contrast-filled
artery place, with or without a filling defect there. Fine-tuning volumes come from site A; the
test set is a few hundred volumes of site B (other noise, kernel and slice thickness). The whole
volume at 32 × 48 × 48 was tried first: every arm stayed at chance (AUROC 0.47–0.60 for N up to 1000),
so the small clot is looked for where a first stage would point, as real systems do.

Arms (each a pretrained start, then the same fine-tuning): "S" scratch, "S+" scratch with twice the
fine-tuning steps (the compute-matched control), "V" video-pretrained, "Vshuf" pretrained on the
same clips with their frames shuffled, "C" pretrained on CT blocks without emboli at the same
pretraining compute as V; architectures r3d, r2plus1d, vivit (:data:`course.transfer.ARCHITECTURES`),
and "2D": the LRCN whose frame CNN was pretrained on single video frames.

Files (in ``course/data/transfer/``, shipped with the package): ``weights/<arch>-<arm>.pt``
(``state_dict``s), ``weights/SHA256SUMS`` (of the tensors, see :func:`state_checksum`),
``weights/PROVENANCE.json`` (torch version, CPU kernel level and CPU they were made with),
``results.csv`` (one row per fine-tuning run) and ``scores.npz`` (every run's scores on the test sets).
"""
from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from tqdm.auto import tqdm

from course.data.chest_ct import candidate_crop, chest_ct
from course.roc import auroc, resampled_run_aurocs
from course.transfer import ARCHITECTURES, ct_to_clip, fine_tune, predict_scores, pretrain, to_ct_input, transfer_model

__all__ = ["CRITERIA", "Config", "CONFIG", "ARMS", "FILES", "candidate_clips", "pretrain_all", "state_checksum",
           "SHORTCUTS", "shortcut_controls", "merge",
           "load_pretrained", "run_one", "training_rows", "cohort_labels", "run_all", "read_results", "read_scores", "comparisons", "verdicts",
           "arm_summary", "pretraining_accuracies", "COMPARISONS", "provenance", "resample"]

#: The decision rules, fixed before the experiment was first run (they are printed with the verdicts).
CRITERIA = """\
Each comparison A − B is the mean over the 5 fine-tuning seeds of AUROC(A) − AUROC(B) on the site-B
test set, with a 95 % paired bootstrap interval (seeds and test cases resampled, the same draws for
both arms). Per architecture, a comparison "supports" when its interval lies above 0 and is
"against" when it lies at or below 0.
  claim 1 (video vs scratch), V − S:  refuted if any architecture is against, or if any architecture
          has V − S+ against (S+ ≥ V: the gain was training length); otherwise reproduced if at least
          2 of the 3 architectures support; otherwise not resolved.
  claim 2 (3D vs the best 2D), V − 2D:  the same rule (refuted if any against; reproduced if ≥ 2 of 3 support).
  claim 3 (out-of-domain vs in-domain), V − C:  the same rule.
  mechanism, V − Vshuf:  if it supports for ≥ 2 of 3 architectures, the order of frames (time ≈ depth)
          carries the benefit; if none supports, V ≈ Vshuf: no sign that time order matters beyond
          what single frames teach (generic initialization).
The claims are decided at N = 32 fine-tuning volumes; N = 320 is reported with the same rules.
Signs and intervals only: magnitudes are not compared with the paper's."""


@dataclasses.dataclass(frozen=True)
class Config:
    """Every setting of the experiment (the CSV records the run; change a value, re-run everything)."""

    crop: tuple[int, int, int] = (16, 24, 24)  # (T = D, H, W) voxels
    pretrain_clips: int = 2000
    pretrain_epochs: int = 4
    pretrain_batch: int = 32
    pretrain_lr: float = 3e-3
    pretrain_seed: int = 0
    fine_tune_steps: int = 200  # "S+" gets twice as many
    fine_tune_batch: int = 16
    fine_tune_lr: float = 3e-3
    train_sizes: tuple[int, ...] = (32, 320)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    train_cohort: tuple[int, str, int] = (11, "A", 320)  # (seed, site, volumes)
    test_cohort: tuple[int, str, int] = (12, "B", 300)
    heldout_cohort: tuple[int, str, int] = (13, "A", 200)  # same site as training: reported, not decided on
    num_resamples: int = 2000


CONFIG = Config()

#: (arch, arm) of every fine-tuning run; "2D" is the LRCN on a frame-pretrained CNN.
ARMS = tuple((arch, arm) for arch in ARCHITECTURES for arm in ("S", "S+", "V", "Vshuf", "C")) + (("lrcn", "2D"),)

#: Where the shipped files are.
FILES = Path(__file__).resolve().parent / "data" / "transfer"


def cohort_labels(seed: int, num_volumes: int) -> np.ndarray:
    """The labels of a cohort: a seeded permutation of ``num_volumes // 2`` ones and the rest zeros, (n,) int64."""
    return np.random.default_rng([seed, 7]).permutation(np.arange(num_volumes) < num_volumes // 2).astype(np.int64)


def candidate_clips(seed: int, site: str, num_volumes: int, *, crop: tuple[int, int, int] = CONFIG.crop,
                    rows: np.ndarray | torch.Tensor | None = None, progress: bool = False
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """A balanced cohort of candidate blocks as one-channel clips, half with an embolus.

    Args:
        seed, site: of :func:`course.data.chest_ct.chest_ct` (patient ``index`` i is row i).
        num_volumes: N; labels are :func:`cohort_labels`.
        crop: (T, H, W) of :func:`course.data.chest_ct.candidate_crop`.
        rows: only these rows of the cohort (the others are not generated); None for all.
        progress: show a tqdm bar.

    Returns:
        clips (len(rows) or N, 1, T, H, W) float32 in [0, 1] (PE window); their labels, int64.
    """
    labels = cohort_labels(seed, num_volumes)
    index = np.arange(num_volumes) if rows is None else np.asarray(rows, dtype=np.int64)
    clips = [ct_to_clip(candidate_crop(chest_ct(seed, index=int(i), label=int(labels[i]), site=site), crop), crop[0])
             for i in tqdm(index, desc=f"site {site} volumes", disable=not progress, leave=False)]
    return torch.stack(clips), torch.from_numpy(labels[index])


def state_checksum(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of a ``state_dict``'s names, dtypes, shapes and bytes, in key order (hex)."""
    digest = hashlib.sha256()
    for name, tensor in state.items():
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _pretrained_names() -> list[tuple[str, str]]:
    return [(arch, arm) for arch in ARCHITECTURES for arm in ("V", "Vshuf", "C")] + [("lrcn", "V")]


def pretrain_all(folder: Path = FILES / "weights", *, config: Config = CONFIG, progress: bool = True,
                 only: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """Pretrain every (arch, arm) and write its ``state_dict`` and checksum; returns {file name: sha256}.

    Single-threaded (``torch.set_num_threads(1)`` for the duration) so the same CPU kind gives the same
    weights bit for bit.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sums, threads = {}, torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for arch, arm in tqdm(only or _pretrained_names(), desc="pretraining", disable=not progress):
            model = pretrain(arch, arm, num_clips=config.pretrain_clips, epochs=config.pretrain_epochs,
                             seed=config.pretrain_seed, num_frames=config.crop[0], size=config.crop[1],
                             batch_size=config.pretrain_batch, lr=config.pretrain_lr)
            name = f"{arch}-{arm}.pt"
            torch.save(model.state_dict(), folder / name)
            sums[name] = state_checksum(model.state_dict())
    finally:
        torch.set_num_threads(threads)
    return sums


def provenance() -> dict[str, str]:
    """What decides the weights' last bits: torch's version, its CPU kernel level, the CPU, the thread count."""
    import platform

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cpu": cpu,
            "threads": "1", "command": "python -m course.transfer_experiment pretrain"}


def load_pretrained(arch: str, arm: str, folder: Path = FILES / "weights", *, config: Config = CONFIG) -> nn.Module:
    """A shipped pretrained model (3 input channels, its pretraining head), checked against SHA256SUMS.

    Raises:
        FileNotFoundError: the weights are not there; ValueError: their checksum differs.
    """
    from course.nn.fusion import SingleFrame
    from course.transfer import LRCN_WIDTHS, NUM_CT_PRETRAINING_CLASSES, NUM_PRETRAINING_CLASSES, PRETRAINING_CONTENTS

    name = f"{arch}-{arm}.pt"
    state = torch.load(folder / name, map_location="cpu", weights_only=True)
    expected = dict(line.split()[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines() if line.strip())
    if expected.get(name) != state_checksum(state):
        raise ValueError(f"{folder / name}: its checksum differs from SHA256SUMS; regenerate with "
                         "`python -m course.transfer_experiment pretrain`")
    if arch == "lrcn":
        model = SingleFrame(len(PRETRAINING_CONTENTS), in_channels=3, widths=LRCN_WIDTHS)
    else:
        classes = NUM_CT_PRETRAINING_CLASSES if arm == "C" else NUM_PRETRAINING_CLASSES
        model = transfer_model(arch, num_classes=classes, num_frames=config.crop[0], size=config.crop[1])
    model.load_state_dict(state)
    return model.eval()


#: Hand-made features of a candidate block: global ones that would give the label away if the task had a
#: shortcut, and local ones at the candidate place, where the clot lowers the lumen's HU (the real signal).
SHORTCUTS = {
    "block mean HU": lambda hu: hu.mean(),
    "voxels of 20-120 HU": lambda hu: ((hu > 20) & (hu < 120)).sum(),
    "20-120 HU voxels in the centre slice": lambda hu: ((hu[len(hu) // 2] > 20) & (hu[len(hu) // 2] < 120)).sum(),
    "20-120 HU voxels in the best slice": lambda hu: ((hu > 20) & (hu < 120)).sum(axis=(1, 2)).max(),
    "mean HU of the central 4 x 6 x 6 voxels": lambda hu: _centre(hu, (4, 6, 6)).mean(),
    "mean HU of the central 2 x 2 x 2 voxels": lambda hu: _centre(hu, (2, 2, 2)).mean(),
}


def _centre(hu: np.ndarray, size: tuple[int, int, int]) -> np.ndarray:
    """The central ``size`` voxels of a block (``candidate_crop`` puts the candidate at ``shape // 2``)."""
    return hu[tuple(slice(n // 2 - k // 2, n // 2 - k // 2 + k) for n, k in zip(hu.shape, size))]


def shortcut_controls(*, config: Config = CONFIG) -> list[dict]:
    """AUROC of each :data:`SHORTCUTS` feature: its sign chosen on the training pool, then scored on the test set.

    Returns:
        rows ``{"feature", "auroc_train", "auroc_test"}`` (``auroc_train`` >= 0.5 by the sign choice).
    """
    def features(seed: int, site: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.random.default_rng([seed, 7]).permutation(np.arange(n) < n // 2).astype(np.int64)
        rows = [[f(candidate_crop(chest_ct(seed, index=i, label=int(labels[i]), site=site), config.crop))
                 for f in SHORTCUTS.values()] for i in range(n)]
        return np.asarray(rows, dtype=np.float64), labels

    (f_train, y_train), (f_test, y_test) = features(*config.train_cohort), features(*config.test_cohort)
    out = []
    for j, name in enumerate(SHORTCUTS):
        a = auroc(f_train[:, j], y_train)
        sign = 1.0 if a >= 0.5 else -1.0
        out.append({"feature": name, "auroc_train": max(a, 1 - a), "auroc_test": auroc(sign * f_test[:, j], y_test)})
    return out


def training_rows(labels: torch.Tensor | np.ndarray, n: int, seed: int) -> torch.Tensor:
    """Row indices of a balanced subset of n rows of a pool (all rows when n is the pool's size), seeded.

    The subset depends on (seed, n) only, so every arm of a seed fine-tunes on the same volumes.
    """
    labels = np.asarray(labels)
    if n >= len(labels):
        return torch.arange(len(labels))
    rng = np.random.default_rng([seed, n])
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    rows = np.concatenate([rng.choice(pos, n // 2, replace=False), rng.choice(neg, n - n // 2, replace=False)])
    return torch.from_numpy(np.sort(rows))


def run_one(arch: str, arm: str, clips: torch.Tensor, labels: torch.Tensor, seed: int,
            folder: Path = FILES / "weights", *, config: Config = CONFIG) -> nn.Module:
    """Fine-tune one arm on ``clips`` (N, 1, T, H, W) and ``labels`` (N,); returns the model, in eval mode.

    The new head (or the scratch model) is initialised from ``torch.manual_seed(seed)``, the batches
    ordered by ``seed``; "S+" trains twice ``config.fine_tune_steps``.
    """
    torch.manual_seed(seed)
    if arm in ("S", "S+"):
        model = transfer_model(arch, num_classes=2, in_channels=1, num_frames=config.crop[0], size=config.crop[1])
    else:
        model = to_ct_input(load_pretrained(arch, "V" if arm == "2D" else arm, folder, config=config))
    steps = config.fine_tune_steps * (2 if arm == "S+" else 1)
    return fine_tune(model, clips, labels, steps=steps, seed=seed, batch_size=config.fine_tune_batch,
                     lr=config.fine_tune_lr)


RESULT_FIELDS = ("arch", "arm", "n_train", "seed", "auroc_test", "auroc_heldout", "seconds")


def run_all(out: Path = FILES, *, config: Config = CONFIG, progress: bool = True, threads: int = 1,
            weights: Path | None = None) -> Path:
    """Every (arch, arm) × N × seed: fine-tune, score both test sets; writes results.csv and scores.npz.

    Every run is seeded on its own, so runs may be split across processes (``config.train_sizes``)
    and their files joined with :func:`merge`. Resumes: runs already in ``out/results.csv`` (with
    their scores in ``out/scores.npz``) are kept.
    """
    torch.set_num_threads(threads)
    weights = weights or out / "weights"
    train, test, heldout = (candidate_clips(*c, progress=progress)
                            for c in (config.train_cohort, config.test_cohort, config.heldout_cohort))
    rows, scores = read_results(out) if (out / "results.csv").exists() else [], {}
    if rows:
        scores = dict(np.load(out / "scores.npz"))
    done = {(r["arch"], r["arm"], r["n_train"], r["seed"]) for r in rows}
    todo = [(arch, arm, n, s) for n in config.train_sizes for s in config.seeds for arch, arm in ARMS
            if (arch, arm, n, s) not in done]
    for arch, arm, n, s in tqdm(todo, desc="fine-tuning", disable=not progress):
        start = time.process_time()
        subset = training_rows(train[1], n, s)
        model = run_one(arch, arm, train[0][subset], train[1][subset], s, weights, config=config)
        key = f"{arch}|{arm}|{n}|{s}"
        scores[key + "|test"] = predict_scores(model, test[0]).astype(np.float32)
        scores[key + "|heldout"] = predict_scores(model, heldout[0]).astype(np.float32)
        rows.append({"arch": arch, "arm": arm, "n_train": n, "seed": s,
                     "auroc_test": auroc(scores[key + "|test"], test[1].numpy()),
                     "auroc_heldout": auroc(scores[key + "|heldout"], heldout[1].numpy()),
                     "seconds": time.process_time() - start})
        scores["labels|test"], scores["labels|heldout"] = test[1].numpy(), heldout[1].numpy()
        _write(out, rows, scores)
    return out / "results.csv"


def _write(out: Path, rows: list[dict], scores: dict[str, np.ndarray]) -> None:
    """results.csv and scores.npz, each replaced whole (a kill leaves the old file or the new one)."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "results.csv.tmp"
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, RESULT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, "auroc_test": f"{r['auroc_test']:.6f}", "auroc_heldout": f"{r['auroc_heldout']:.6f}",
                             "seconds": f"{r['seconds']:.1f}"})
    tmp_npz = out / "scores.tmp.npz"
    np.savez_compressed(tmp_npz, **scores)
    tmp_npz.replace(out / "scores.npz")
    tmp.replace(out / "results.csv")


def merge(folders: list[Path], out: Path, *, config: Config = CONFIG) -> None:
    """Join the results of runs split across processes into ``out``, in the order :func:`run_all` runs them."""
    rows = [r for f in folders for r in read_results(f)]
    scores = {k: v for f in folders for k, v in read_scores(f).items()}
    order = {(arch, arm, n, s): i for i, (n, s, (arch, arm)) in enumerate(
        (n, s, a) for n in config.train_sizes for s in config.seeds for a in ARMS)}
    _write(out, sorted(rows, key=lambda r: order[(r["arch"], r["arm"], r["n_train"], r["seed"])]), scores)


def read_results(folder: Path = FILES) -> list[dict]:
    """The rows of results.csv, typed (n_train and seed int, AUROCs and seconds float)."""
    with (folder / "results.csv").open() as f:
        return [{"arch": r["arch"], "arm": r["arm"], "n_train": int(r["n_train"]), "seed": int(r["seed"]),
                 "auroc_test": float(r["auroc_test"]), "auroc_heldout": float(r["auroc_heldout"]),
                 "seconds": float(r["seconds"])} for r in csv.DictReader(f)]


def read_scores(folder: Path = FILES) -> dict[str, np.ndarray]:
    """scores.npz as a dict: ``"arch|arm|n|seed|test"`` → (n,) float32, ``"labels|test"`` → (n,) int64."""
    return dict(np.load(folder / "scores.npz"))


#: The comparisons the criteria decide on: (name, arm A, arm B); "2D" is compared per 3D architecture.
COMPARISONS = (("claim 1: V − S", "V", "S"), ("claim 1 control: V − S+", "V", "S+"),
               ("claim 2: V − 2D", "V", "2D"), ("claim 3: V − C", "V", "C"), ("mechanism: V − Vshuf", "V", "Vshuf"))


def resample(scores: dict[str, np.ndarray], *, config: Config = CONFIG, split: str = "test"
             ) -> dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray]]:
    """Every arm's per-seed AUROCs on the bootstrap resamples: {(arch, arm, n): (weight, aurocs)}, each (B, R).

    One draw of seeds and test cases serves every arm (:func:`course.roc.resampled_run_aurocs` with
    one seed), so any two arms' entries are paired.
    """
    keys = [(arch, arm, n) for n in config.train_sizes for arch, arm in ARMS]
    runs = np.stack([[scores[f"{arch}|{arm}|{n}|{s}|{split}"] for s in config.seeds] for arch, arm, n in keys])
    weight, aurocs = resampled_run_aurocs(runs, scores[f"labels|{split}"], num_resamples=config.num_resamples, seed=0)
    return {key: (weight, a) for key, a in zip(keys, aurocs)}


def _interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _observed(scores: dict[str, np.ndarray], config: Config, split: str) -> dict[tuple[str, str, int], float]:
    labels = scores[f"labels|{split}"]
    return {(a, m, n): float(np.mean([auroc(scores[f"{a}|{m}|{n}|{s}|{split}"], labels) for s in config.seeds]))
            for n in config.train_sizes for a, m in ARMS}


def comparisons(scores: dict[str, np.ndarray], *, config: Config = CONFIG, split: str = "test",
                resampled: dict | None = None) -> list[dict]:
    """Every comparison of :data:`COMPARISONS` for every 3D architecture and N, with its interval.

    The difference is the mean over seeds of AUROC(A) − AUROC(B) on all test cases; its interval is
    the 2.5 and 97.5 percentiles of that mean over the resamples of :func:`resample` (seeds and cases,
    the same for both arms: :func:`course.roc.paired_auroc_bootstrap_runs`).

    Returns:
        rows ``{"comparison", "arch", "n_train", "diff", "lower", "upper", "result"}``; ``result`` is
        "supports", "against" or "unresolved" (:data:`CRITERIA`).
    """
    resampled = resampled or resample(scores, config=config, split=split)
    observed = _observed(scores, config, split)
    out = []
    for n in config.train_sizes:
        for arch in ARCHITECTURES:
            for name, a, b in COMPARISONS:
                key_a, key_b = (arch, a, n), ("lrcn", "2D", n) if b == "2D" else (arch, b, n)
                weight, aurocs_a = resampled[key_a]
                lower, upper = _interval((weight * (aurocs_a - resampled[key_b][1])).sum(axis=1))
                result = "supports" if lower > 0 else "against" if upper <= 0 else "unresolved"
                out.append({"comparison": name, "arch": arch, "n_train": n, "diff": observed[key_a] - observed[key_b],
                            "lower": lower, "upper": upper, "result": result})
    return out


def arm_summary(scores: dict[str, np.ndarray], *, config: Config = CONFIG, split: str = "test",
                resampled: dict | None = None) -> list[dict]:
    """Each arm's mean AUROC over the seeds with a 95 % bootstrap interval (seeds and cases resampled).

    Returns:
        rows ``{"arch", "arm", "n_train", "auroc", "lower", "upper"}`` in :data:`ARMS` order, per N.
    """
    resampled = resampled or resample(scores, config=config, split=split)
    observed = _observed(scores, config, split)
    out = []
    for (arch, arm, n), (weight, aurocs) in resampled.items():
        lower, upper = _interval((weight * aurocs).sum(axis=1))
        out.append({"arch": arch, "arm": arm, "n_train": n, "auroc": observed[arch, arm, n], "lower": lower,
                    "upper": upper})
    return out


@torch.no_grad()
def pretraining_accuracies(*, num_clips: int = 200, seed: int = 1, config: Config = CONFIG,
                           folder: Path = FILES / "weights") -> dict[tuple[str, str], float]:
    """Each shipped pretrained model's accuracy on fresh clips of its own pretraining task (another seed).

    "V" and the 2D frame CNN (``("lrcn", "V")``, content only, the middle frame) read
    :func:`course.transfer.pretraining_clips`, "Vshuf" the same clips shuffled, "C"
    :func:`course.transfer.ct_pretraining_clips` of a cohort no other set uses (``20_000 + seed``);
    each kind of clip is generated once.

    Returns:
        {(arch, arm): accuracy in [0, 1]} for every shipped model.
    """
    from course.transfer import ct_pretraining_clips, pretraining_clips, shuffle_frames

    video, labels = pretraining_clips(num_clips, seed=seed, num_frames=config.crop[0], size=config.crop[1])
    data = {"V": (video, labels), "Vshuf": (shuffle_frames(video, generator=torch.Generator().manual_seed(seed)), labels),
            "C": ct_pretraining_clips(num_clips, seed=20_000 + seed, size=config.crop)}
    out = {}
    for arch, arm in _pretrained_names():
        clips, target = data[arm]
        model = load_pretrained(arch, arm, folder, config=config)
        out[arch, arm] = float((model(clips).argmax(1) == (target // 4 if arch == "lrcn" else target)).double().mean())
    return out


def verdicts(rows: list[dict], n_train: int) -> dict[str, str]:
    """The verdict on each claim at ``n_train`` by the rules of :data:`CRITERIA`."""
    def results(prefix: str) -> list[str]:
        return [r["result"] for r in rows if r["n_train"] == n_train and r["comparison"].startswith(prefix)]

    out = {}
    for claim, prefix in (("claim 1", "claim 1: "), ("claim 2", "claim 2: "), ("claim 3", "claim 3: ")):
        res = results(prefix)
        refuted = "against" in res or (claim == "claim 1" and "against" in results("claim 1 control"))
        out[claim] = ("refuted" if refuted else "reproduced" if res.count("supports") >= 2 else "not resolved")
    mech = results("mechanism")
    out["mechanism"] = ("time order helps" if mech.count("supports") >= 2 else
                        "V ≈ Vshuf (generic initialization)" if "supports" not in mech else "not resolved")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course.transfer_experiment", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("pretrain", "run", "report", "shortcuts"))
    parser.add_argument("--out", type=Path, default=FILES, help="folder of results.csv / scores.npz / weights")
    args = parser.parse_args(argv)
    if args.command == "pretrain":
        sums = pretrain_all(args.out / "weights")
        (args.out / "weights" / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
        (args.out / "weights" / "PROVENANCE.json").write_text(json.dumps(provenance(), indent=1) + "\n")
        print("\n".join(f"{h}  {n}" for n, h in sums.items()))
    elif args.command == "run":
        run_all(args.out)
    elif args.command == "shortcuts":
        for r in shortcut_controls():
            print(f"{r['feature']:<42} AUROC training pool {r['auroc_train']:.3f}, test set {r['auroc_test']:.3f}")
        return
    rows = comparisons(read_scores(args.out)) if args.command != "pretrain" else []
    for r in rows:
        print(f"N={r['n_train']:>3} {r['arch']:>8} {r['comparison']:<26} {r['diff']:+.3f} "
              f"[{r['lower']:+.3f}, {r['upper']:+.3f}] {r['result']}")
    if rows:
        print(CRITERIA)
        for n in CONFIG.train_sizes:
            print(f"N = {n}:", verdicts(rows, n))


if __name__ == "__main__":
    main()
