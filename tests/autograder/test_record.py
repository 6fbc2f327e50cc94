"""The grading record's helpers: one row builder, one total, one late-penalty spread."""
import pytest

from autograder.grader.record import exercise_row, new_record, spread_penalty, totals


def _record(*scores_and_max):
    rows = [exercise_row(f"ex{i}", m, ok=s == m, status="passed" if s == m else "failed")
            for i, (s, m) in enumerate(scores_and_max)]
    return new_record("ada", "01_video_tensors", rows)


def test_a_row_scores_all_or_nothing():
    assert exercise_row("f", 2, ok=True, status="passed")["score"] == 2.0
    row = exercise_row("f", 2, ok=False, status="failed", reason="case 1", grade_id="f", kind="instructor_test")
    assert (row["score"], row["max_score"], row["reason"], row["kind"], row["cases"]) == (0.0, 2.0, "case 1",
                                                                                          "instructor_test", [])


def test_totals_add_up_the_rows():
    assert totals(_record((1, 1), (0, 2), (3, 3))) == (4.0, 6.0)


def test_a_late_penalty_is_spread_in_proportion_and_capped():
    rec = _record((1, 1), (0, 2), (3, 3))
    spread_penalty(rec, 2.0)  # 4 raw points keep 2: each scored row keeps half
    assert [r["score"] for r in rec["exercises"]] == [0.5, 0.0, 1.5]
    assert [r["late_submission_penalty"] for r in rec["exercises"]] == [0.5, 0.0, 1.5]
    assert (rec["raw_score"], rec["late_submission_penalty"], rec["score"]) == (4.0, 2.0, 2.0)
    assert totals(rec) == (2.0, 6.0)
    spread_penalty(rec, 10.0)  # again, from the raw scores kept on the rows; never more than the raw total
    assert (rec["late_submission_penalty"], rec["score"]) == (4.0, 0.0)
    spread_penalty(rec, -1.0)
    assert rec["score"] == 4.0 == pytest.approx(sum(r["score"] for r in rec["exercises"]))


def test_no_points_no_penalty():
    rec = _record((0, 1))
    spread_penalty(rec, 1.0)
    assert (rec["score"], rec["late_submission_penalty"]) == (0.0, 0.0)
