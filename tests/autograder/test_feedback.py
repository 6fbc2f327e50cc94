"""The failing cases of an exercise, as the feedback page and the formgrader's cell output list them."""
from __future__ import annotations

import html
import re

from autograder.grader.autograded import result_text
from autograder.grader.feedback import MAX_LISTED, _failed_cases, _marks, case_marks, failing_cases


def _cases(flags: list[tuple[bool, bool]]) -> list[dict]:
    """Cases from (public, ok) pairs, each with a kind, a why and (for hidden ones) a cause."""
    return [{"public": public, "ok": ok, "kind": f"kind{i}", "why": f"why <{i}>",
             "cause": "" if public else f"cause {i}"} for i, (public, ok) in enumerate(flags)]


def test_cases_are_numbered_within_their_group_and_marked_apart() -> None:
    cases = _cases([(True, True), (False, False), (True, False), (False, True), (False, False)])
    assert case_marks(cases) == [("public", "✓✗"), ("hidden", "✗✓✗")]
    assert [c["label"] for c in failing_cases(cases)] == ["hidden case 1", "public case 2", "hidden case 3"]
    assert failing_cases(cases)[0] == {"label": "hidden case 1", "kind": "kind1", "why": "why <1>", "cause": "cause 1"}
    assert case_marks(_cases([(False, True)])) == [("hidden", "✓")] and failing_cases([]) == []


def test_page_and_cell_output_list_the_same_failing_cases() -> None:
    cases = _cases([(i % 3 == 0, False) for i in range(MAX_LISTED + 3)])
    row = {"exercise_id": "f", "status": "failed", "score": 0, "max_score": 1, "passed": 0, "total": len(cases),
           "cases": cases}
    text = result_text(row)
    page = _failed_cases(cases)
    listed = [line.strip()[2:] for line in text.splitlines() if line.startswith("  - ")]
    items = [html.unescape(re.sub(r"<[^>]+>", "", item)) for item in re.findall(r"<li>(.*?)</li>", page)]
    assert listed == items  # same cases, same words, same order, same cut
    assert len(listed) == MAX_LISTED + 1 and listed[-1] == "and 3 more"
    assert listed[0] == "public case 1 (kind0): why <0>" and listed[1] == "hidden case 1 (kind1): why <1>; likely cause: cause 1"
    assert "why &lt;0&gt;" in page and "why <0>" not in page  # escaped on the page only
    assert "<br>public ✗✗✗<br>hidden ✗✗✗✗✗✗" == _marks(cases)
    assert "public ✗✗✗" in text and "hidden ✗✗✗✗✗✗" in text
    assert _failed_cases(_cases([(True, True)])) == ""
