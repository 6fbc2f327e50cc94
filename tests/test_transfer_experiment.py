"""The capstone's experiment: cohorts, subsets, weights and their checksums, comparisons and the verdict rules."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from course.data.chest_ct import candidate_crop, chest_ct
from course.medical.hounsfield import clip_window
from course.transfer_experiment import (ARMS, CONFIG, Config, training_rows, candidate_clips, comparisons, load_pretrained,
                                        merge, pretrain_all, read_results, read_scores, run_all, state_checksum,
                                        verdicts)

TINY = Config(pretrain_clips=8, pretrain_epochs=1, pretrain_batch=8, fine_tune_steps=1, fine_tune_batch=8,
              train_sizes=(4, 8), seeds=(0, 1), train_cohort=(11, "A", 8), test_cohort=(12, "B", 8),
              heldout_cohort=(13, "A", 6), num_resamples=20)


def test_candidate_clips_are_balanced_windowed_crops() -> None:
    clips, labels = candidate_clips(5, "B", 6, crop=(8, 12, 12))
    assert clips.shape == (6, 1, 8, 12, 12) and clips.dtype == torch.float32 and labels.sum() == 3
    some, their_labels = candidate_clips(5, "B", 6, crop=(8, 12, 12), rows=[4, 1])
    assert torch.equal(some, clips[[4, 1]]) and torch.equal(their_labels, labels[[4, 1]])
    for i in (0, 3):
        hu = candidate_crop(chest_ct(5, index=i, label=int(labels[i]), site="B"), (8, 12, 12))
        assert torch.allclose(clips[i, 0], torch.from_numpy(clip_window(hu, 100.0, 700.0)).float())


def test_subset_is_balanced_seeded_and_the_whole_pool_at_full_size() -> None:
    labels = torch.tensor([0, 1] * 10)
    a, b, c = training_rows(labels, 6, 0), training_rows(labels, 6, 0), training_rows(labels, 6, 1)
    assert torch.equal(a, b) and not torch.equal(a, c) and int(labels[a].sum()) == 3 and len(set(a.tolist())) == 6
    assert torch.equal(training_rows(labels, 20, 3), torch.arange(20))


def test_state_checksum_sees_every_bit_name_and_shape() -> None:
    state = {"w": torch.arange(6, dtype=torch.float32).view(2, 3), "n": torch.tensor(3)}
    base = state_checksum(state)
    flipped = {**state, "w": state["w"].clone()}
    flipped["w"].view(torch.int32)[0, 0] ^= 1  # the lowest bit of one float
    assert state_checksum(flipped) != base
    assert state_checksum({"v": state["w"], "n": state["n"]}) != base
    assert state_checksum({**state, "w": state["w"].reshape(3, 2)}) != base
    assert state_checksum(dict(state)) == base


def test_pretraining_is_bit_for_bit_and_loading_checks_the_sum(tmp_path: Path) -> None:
    only = [("vivit", "V"), ("lrcn", "V")]
    first = pretrain_all(tmp_path / "a", config=TINY, progress=False, only=only)
    second = pretrain_all(tmp_path / "b", config=TINY, progress=False, only=only)
    assert first == second and len(set(first.values())) == 2
    (tmp_path / "a" / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in first.items()))
    model = load_pretrained("vivit", "V", tmp_path / "a", config=TINY)
    assert state_checksum(model.state_dict()) == first["vivit-V.pt"]
    state = torch.load(tmp_path / "a" / "vivit-V.pt", weights_only=True)
    next(iter(state.values())).add_(1e-6)
    torch.save(state, tmp_path / "a" / "vivit-V.pt")
    with pytest.raises(ValueError, match="checksum"):
        load_pretrained("vivit", "V", tmp_path / "a", config=TINY)


def test_run_all_split_and_merged_equals_one_run(tmp_path: Path) -> None:
    config = dataclasses.replace(TINY, train_sizes=(4,), seeds=(0, 1))
    sums = pretrain_all(tmp_path / "weights", config=config, progress=False)
    (tmp_path / "weights" / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    run_all(tmp_path / "one", config=config, progress=False, weights=tmp_path / "weights")
    for s in (0, 1):
        run_all(tmp_path / f"part{s}", config=dataclasses.replace(config, seeds=(s,)), progress=False,
                weights=tmp_path / "weights")
    merge([tmp_path / "part1", tmp_path / "part0"], tmp_path / "merged", config=config)
    one, merged = read_results(tmp_path / "one"), read_results(tmp_path / "merged")
    assert len(one) == len(ARMS) * 2
    key = [(r["arch"], r["arm"], r["n_train"], r["seed"], r["auroc_test"]) for r in one]
    assert key == [(r["arch"], r["arm"], r["n_train"], r["seed"], r["auroc_test"]) for r in merged]
    a, b = read_scores(tmp_path / "one"), read_scores(tmp_path / "merged")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    rows = comparisons(a, config=config)
    assert {r["comparison"] for r in rows} == {"claim 1: V − S", "claim 1 control: V − S+", "claim 2: V − 2D",
                                               "claim 3: V − C", "mechanism: V − Vshuf"}
    assert all(r["lower"] <= r["diff"] + 1e-9 or r["result"] != "supports" for r in rows)
    from course.roc import paired_auroc_bootstrap_runs  # the same interval, one comparison at a time

    for row in rows[:5]:
        b = "2D" if row["comparison"].endswith("2D") else row["comparison"].split(" − ")[1]
        runs = [np.stack([a[f"{arch}|{arm}|4|{s}|test"] for s in (0, 1)])
                for arch, arm in ((row["arch"], "V"), ("lrcn", "2D") if b == "2D" else (row["arch"], b))]
        ref = paired_auroc_bootstrap_runs(*runs, a["labels|test"], num_resamples=config.num_resamples, seed=0)
        assert (row["diff"], row["lower"], row["upper"]) == pytest.approx((ref["diff"], ref["lower"], ref["upper"]),
                                                                          abs=1e-12)


def _rows(n: int, **results: list[str]) -> list[dict]:
    names = {"c1": "claim 1: V − S", "c1s": "claim 1 control: V − S+", "c2": "claim 2: V − 2D", "c3": "claim 3: V − C",
             "m": "mechanism: V − Vshuf"}
    return [{"comparison": names[k], "arch": arch, "n_train": n, "result": res}
            for k, values in results.items() for arch, res in zip(("r3d", "r2plus1d", "vivit"), values)]


@pytest.mark.parametrize("c1, c1s, expected", [
    (["supports", "supports", "unresolved"], ["unresolved"] * 3, "reproduced"),
    (["supports", "unresolved", "unresolved"], ["unresolved"] * 3, "not resolved"),
    (["supports", "supports", "against"], ["unresolved"] * 3, "refuted"),  # one architecture against
    (["supports", "supports", "supports"], ["supports", "against", "supports"], "refuted"),  # S+ ≥ V
])
def test_claim_one_rules(c1: list[str], c1s: list[str], expected: str) -> None:
    rows = _rows(32, c1=c1, c1s=c1s, c2=["unresolved"] * 3, c3=["unresolved"] * 3, m=["unresolved"] * 3)
    assert verdicts(rows, 32)["claim 1"] == expected
    assert verdicts(rows + _rows(320, c1=["against"] * 3), 32)["claim 1"] == expected  # other N: ignored


@pytest.mark.parametrize("m, expected", [
    (["supports", "supports", "unresolved"], "time order helps"),
    (["unresolved", "against", "unresolved"], "V ≈ Vshuf (generic initialization)"),
    (["supports", "unresolved", "unresolved"], "not resolved"),
])
def test_mechanism_and_other_claims(m: list[str], expected: str) -> None:
    rows = _rows(32, c1=["unresolved"] * 3, c1s=["unresolved"] * 3, c2=["supports"] * 3,
                 c3=["against", "supports", "supports"], m=m)
    v = verdicts(rows, 32)
    assert v["mechanism"] == expected and v["claim 2"] == "reproduced" and v["claim 3"] == "refuted"


def test_the_shipped_config_is_the_documented_design() -> None:
    assert CONFIG.train_sizes == (32, 320) and len(CONFIG.seeds) == 5 and CONFIG.test_cohort[1] == "B"
    assert CONFIG.test_cohort[2] >= 200 and CONFIG.train_cohort[1] == "A"
    assert {arm for _, arm in ARMS} == {"S", "S+", "V", "Vshuf", "C", "2D"}


def test_shortcut_controls_score_each_feature_with_the_sign_of_the_training_pool() -> None:
    from sklearn.metrics import roc_auc_score

    from course.transfer_experiment import SHORTCUTS, shortcut_controls

    config = dataclasses.replace(TINY, train_cohort=(11, "A", 10), test_cohort=(12, "B", 10))
    rows = shortcut_controls(config=config)
    assert [r["feature"] for r in rows] == list(SHORTCUTS)
    labels = np.random.default_rng([12, 7]).permutation(np.arange(10) < 5).astype(int)
    means = [candidate_crop(chest_ct(12, index=i, label=int(labels[i]), site="B"), config.crop).mean() for i in range(10)]
    train_auc = rows[0]["auroc_train"]
    assert train_auc >= 0.5
    expected = roc_auc_score(labels, means)
    assert rows[0]["auroc_test"] in (pytest.approx(expected), pytest.approx(1 - expected))


def test_the_shipped_vivit_weights_are_regenerated_by_their_script(tmp_path: Path) -> None:
    """Bit for bit where torch and its CPU kernel level are those of PROVENANCE.json; close elsewhere."""
    import json

    from course.transfer_experiment import FILES, provenance

    sums = pretrain_all(tmp_path, progress=False, only=[("vivit", "V")])
    shipped = dict(line.split()[::-1] for line in (FILES / "weights" / "SHA256SUMS").read_text().splitlines())
    made, here = json.loads((FILES / "weights" / "PROVENANCE.json").read_text()), provenance()
    if (made["torch"], made["cpu_capability"]) == (here["torch"], here["cpu_capability"]):
        assert sums["vivit-V.pt"] == shipped["vivit-V.pt"]
    else:  # other kernels round differently; 252 Adam steps keep the weights close, not equal
        new = torch.load(tmp_path / "vivit-V.pt", weights_only=True)
        old = torch.load(FILES / "weights" / "vivit-V.pt", weights_only=True)
        assert max((new[k] - old[k]).abs().max().item() for k in old) < 1e-2


def test_pretraining_accuracies_score_each_shipped_model_on_its_own_task() -> None:
    from course.transfer import pretraining_clips, shuffle_frames
    from course.transfer_experiment import pretraining_accuracies

    acc = pretraining_accuracies(num_clips=12, seed=3)
    assert len(acc) == 10 and all(0.0 <= a <= 1.0 for a in acc.values())
    clips, labels = pretraining_clips(12, seed=3, num_frames=16, size=24)
    shuffled = shuffle_frames(clips, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert acc["r3d", "Vshuf"] == pytest.approx(float((load_pretrained("r3d", "Vshuf")(shuffled).argmax(1) == labels)
                                                          .double().mean()))
        assert acc["lrcn", "V"] == pytest.approx(float((load_pretrained("lrcn", "V")(clips).argmax(1) == labels // 4)
                                                       .double().mean()))
