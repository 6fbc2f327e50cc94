"""Our grading read by nbgrader's own tools: the formgrader, ``generate_feedback``, ``export`` and the gradebook.

One lesson is graded once for two students in a temporary course folder with its own
``nbgrader_config.py`` (``CourseDirectory.root`` = that folder, the gradebook an SQLite file in it):
``right`` hands in the instructor's solutions (with a ``timestamp.txt``, as ``nbgrader collect``
writes), ``wrong`` answers one exercise with the bytes-not-numbers misconception, edits a locked test
cell and adds a cell of its own whose output carries a script. The independent references are
nbgrader itself: the release notebook ``nbgrader generate_assignment`` wrote (its metadata and
checksums), nbgrader's metadata validator, the ``generate_feedback`` and ``export`` commands, its
``Gradebook`` API, and the formgrader served by ``jupyter server``.
"""
import copy
import csv
import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder.grader.autograded import MANUAL_REVIEW, apply_manual_scores, result_text, safe_part, write_autograded
from autograder.grader.feedback import render_feedback
from autograder.grader.grade import GradeConfig, grade_submissions
from autograder.grader.gradebook import ensure_tools_on_path
from autograder.grader.notebook import read_source
from autograder.paths import PROJECT_ROOT

LESSON = "01_video_tensors"  # the smallest lesson: six one-point exercises
SEED = 1234
WRONG_EXERCISE = "clip_numel"
RIGHT_BODY = "return batch * num_frames * channels * height * width"
WRONG_BODY = "return 4 * batch * num_frames * channels * height * width  # bytes of float32"
STAMP = "2026-12-03 23:59:59.000000 UTC"
BIN = Path(sys.executable).parent
CALL_TIMEOUT_S = 120  # one nbgrader command (imports nbconvert; alembic on a new gradebook)
pytestmark = pytest.mark.xdist_group("formgrader")  # one worker grades the class once


def _cells(nb, gid):
    return [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == gid]


def _wrong_notebook(source: dict) -> dict:
    nb = copy.deepcopy(source)
    [cell] = _cells(nb, WRONG_EXERCISE)
    text = "".join(cell["source"])
    assert RIGHT_BODY in text, "the lesson's solution changed: update RIGHT_BODY"
    cell["source"] = text.replace(RIGHT_BODY, WRONG_BODY)
    [test] = _cells(nb, f"test_{WRONG_EXERCISE}")
    test["source"] = "pass  # the student emptied the test"
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "x = 1  # scratch",
                           "outputs": [{"output_type": "display_data", "metadata": {},
                                        "data": {"text/html": "<script>alert('grader')</script>"}}]})
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The class graded into a course folder, the autograded notebooks written (and timed)."""
    root = tmp_path_factory.mktemp("course")
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.db_url = {db_url!r}\n")
    source = json.loads((PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb").read_text())
    for student, nb in (("right", source), ("wrong", _wrong_notebook(source))):
        folder = root / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        (folder / f"{LESSON}.ipynb").write_text(json.dumps(nb))
    (root / "submitted" / "right" / LESSON / "timestamp.txt").write_text(STAMP + "\n")
    cfg = GradeConfig(submissions=root / "submitted", out=root.parent / f"{root.name}-out", seed=SEED, jobs=2,
                      db_url=db_url, course_dir=root)
    results = grade_submissions(cfg, progress=False)
    sources = {LESSON: read_source(PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", LESSON)}
    t0 = time.perf_counter()
    paths = write_autograded(root, results, sources, cfg.submissions)
    seconds = (time.perf_counter() - t0) / len(results)
    print(f"\nwrite_autograded: {seconds * 1000:.0f} ms per submission ({len(results)} submissions)")
    return {"root": root, "db_url": db_url, "results": results, "sources": sources, "paths": paths,
            "source": source, "seconds": seconds}


def _record(course, student):
    return next(r for r in course["results"] if r["student_id"] == student)


def _read(path):
    import nbformat

    return nbformat.read(path, as_version=4)


def test_the_class_is_graded_as_expected(course):
    right, wrong = _record(course, "right"), _record(course, "wrong")
    assert all(r["status"] == "passed" for r in right["exercises"])
    assert [r["exercise_id"] for r in wrong["exercises"] if r["status"] != "passed"] == [WRONG_EXERCISE]


def test_autograded_notebooks_carry_the_release_metadata(course):
    """Check that each autograded notebook has nbgrader's metadata and locked code of every source cell, as
    nbgrader's generate_assignment wrote them into the release, and passes nbgrader's validator."""
    from nbgrader.nbgraderformat import MetadataValidator

    root = course["root"]
    assert sorted(course["paths"]) == [root / "autograded" / s / LESSON / f"{LESSON}.ipynb" for s in ("right", "wrong")]
    release = _read(PROJECT_ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb")
    source = course["source"]
    graded = [c.metadata.nbgrader.grade_id for c in release.cells if "nbgrader" in c.metadata]
    assert len(graded) == 13
    for path in course["paths"]:
        nb = _read(path)
        MetadataValidator().validate_nb(nb)  # raises on a bad or old nbgrader schema
        for gid in graded:
            [ours], [theirs], [src] = _cells(nb, gid), _cells(release, gid), _cells(source, gid)
            assert ours.metadata.nbgrader == theirs.metadata.nbgrader, gid
            assert {k: ours.metadata.nbgrader[k] for k in src["metadata"]["nbgrader"]} == src["metadata"]["nbgrader"]
            assert (ours.metadata.get("deletable"), ours.metadata.get("editable")) == \
                   (theirs.metadata.get("deletable"), theirs.metadata.get("editable")), gid
            if ours.metadata.nbgrader["locked"]:
                assert ours.source == "".join(src["source"]), gid  # the edited test cell is restored
        assert (path.parent / "timestamp.txt").exists() == (path.parts[-3] == "right")
    wrong = _read(root / "autograded" / "wrong" / LESSON / f"{LESSON}.ipynb")
    assert WRONG_BODY in _cells(wrong, WRONG_EXERCISE)[0].source  # the student's code, not the source's
    scratch = [c for c in wrong.cells if "scratch" in c.source]
    assert len(scratch) == 1 and scratch[0].outputs == [] and "nbgrader" not in scratch[0].metadata
    assert "<script>" not in path.read_text()  # the student's outputs are cleared


def test_test_cells_show_our_results_without_hidden_values(course):
    wrong = _read(course["root"] / "autograded" / "wrong" / LESSON / f"{LESSON}.ipynb")
    rec = _record(course, "wrong")
    for row in rec["exercises"]:
        [cell] = _cells(wrong, f"test_{row['exercise_id']}")
        [out] = cell.outputs
        assert out.output_type == "stream" and out.text == result_text(row)
        assert out.name == ("stdout" if row["status"] == "passed" else "stderr")
    text = result_text(next(r for r in rec["exercises"] if r["exercise_id"] == WRONG_EXERCISE))
    assert text.startswith(f"{WRONG_EXERCISE}: failed — automatic score 0 / 1")
    assert "\npublic ✗" in text and "\nhidden ✗" in text and "Likely cause: that is the size in bytes" in text
    # nothing beyond what the HTML feedback shows (its test proves that shows no hidden value)
    page = html.unescape(re.sub(r"<[^>]+>", " ", render_feedback(rec)))
    page = re.sub(r"\s+", " ", page)
    for row in rec["exercises"]:
        for line in result_text(row).splitlines()[1:]:
            assert re.sub(r"\s+", " ", line.removeprefix("  - ")) in page, line


def test_deleted_and_duplicated_cells_are_put_back_as_nbgrader_does(course, tmp_path):
    """Check that a deleted test or solution cell comes back at its place, and a duplicated solution cell keeps
    nbgrader's metadata on the graded (last) copy only."""
    nb = copy.deepcopy(course["source"])
    [test] = _cells(nb, f"test_{WRONG_EXERCISE}")
    [solution] = _cells(nb, "to_conv3d_layout")
    nb["cells"].remove(test)
    nb["cells"].remove(_cells(nb, "uniform_stride_indices")[0])
    [as_markdown] = _cells(nb, "evenly_spaced_indices")  # not graded (the grader reads code cells only)
    as_markdown.update(cell_type="markdown", source="my answer is in words")
    del as_markdown["outputs"], as_markdown["execution_count"]
    first = copy.deepcopy(solution)
    first["source"] = "def to_conv3d_layout(x):\n    return x  # first try"
    nb["cells"].insert(nb["cells"].index(solution), first)
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "lone \ud800 surrogate",
                        "attachments": {"x.png": "not a mime bundle"}})
    folder = tmp_path / "submitted" / "messy" / LESSON
    folder.mkdir(parents=True)
    (folder / f"{LESSON}.ipynb").write_text(json.dumps(nb))
    rec = dict(copy.deepcopy(_record(course, "right")), student_id="messy")
    [path] = write_autograded(tmp_path, [rec], course["sources"], tmp_path / "submitted")
    ours = _read(path)
    order = [c.metadata.nbgrader.grade_id for c in ours.cells if "nbgrader" in c.metadata]
    source_order = [c["metadata"]["nbgrader"]["grade_id"] for c in course["source"]["cells"]
                    if "nbgrader" in c["metadata"]]
    assert order == source_order
    [restored] = _cells(ours, f"test_{WRONG_EXERCISE}")
    assert restored.outputs[0].text == result_text(next(r for r in rec["exercises"] if r["exercise_id"] == WRONG_EXERCISE))
    for gid in ("uniform_stride_indices", "evenly_spaced_indices"):
        [stub] = _cells(ours, gid)
        assert "was missing from the submission" in stub.source and "raise NotImplementedError" in stub.source
    [words] = [c for c in ours.cells if c.source == "my answer is in words"]
    assert words.cell_type == "markdown" and "nbgrader" not in words.metadata
    copies = [c for c in ours.cells if c.source.startswith("def to_conv3d_layout(")]
    assert ["nbgrader" in c.metadata for c in copies] == [False, True]
    assert ours.cells[-1].source == "lone ? surrogate" and "attachments" not in ours.cells[-1]


def test_regrading_overwrites_and_unreadable_submissions_show_the_release(course, tmp_path):
    root = tmp_path / "course"
    (root / "submitted" / "broken" / LESSON).mkdir(parents=True)
    (root / "submitted" / "broken" / LESSON / f"{LESSON}.ipynb").write_text('{"cells": [ not json')
    rec = {"student_id": "broken", "assignment_id": LESSON, "problems": [], "cell_errors": [], "review": [],
           "exercises": [{"exercise_id": r["exercise_id"], "score": 0.0, "max_score": 1.0, "status": "missing",
                          "passed": 0, "total": 0, "reason": "not graded", "hint": ""}
                         for r in _record(course, "right")["exercises"]]}
    for _ in range(2):  # the second run overwrites the first
        [path] = write_autograded(root, [rec], course["sources"], root / "submitted")
    nb = _read(path)
    assert "not a readable notebook" in nb.cells[0].source
    [stub] = _cells(nb, WRONG_EXERCISE)
    assert "raise NotImplementedError" in stub.source and RIGHT_BODY not in stub.source
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_hidden_tests_stay_out_and_the_checksum_is_nbgraders(tmp_path):
    """Check on a tiny source with a hidden test region that the autograded test cell shows the released code,
    with the checksum nbgrader's SaveCells stores (taken before the hidden tests are cleared)."""
    import nbformat
    from nbgrader.utils import compute_checksum

    def cell(source, **nbgrader):
        return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"schema_version": 3, "grade": False,
                                                                        "solution": False, "locked": False, **nbgrader}})

    test_code = "assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n### END HIDDEN TESTS"
    source = nbformat.v4.new_notebook(cells=[
        cell("import math", grade_id="setup", locked=True),
        cell("def f(x=1):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION", grade_id="f", solution=True),
        cell(test_code, grade_id="test_f", grade=True, locked=True, points=2)])
    (tmp_path / "source" / "tiny").mkdir(parents=True)
    nbformat.write(source, tmp_path / "source" / "tiny" / "tiny.ipynb")
    src = read_source(tmp_path / "source" / "tiny" / "tiny.ipynb", "tiny")
    (tmp_path / "submitted" / "amy" / "tiny").mkdir(parents=True)
    nbformat.write(source, tmp_path / "submitted" / "amy" / "tiny" / "tiny.ipynb")
    rec = {"student_id": "amy", "assignment_id": "tiny", "exercises": [
        {"exercise_id": "f", "score": 2.0, "max_score": 2.0, "status": "passed", "passed": 1, "total": 1,
         "reason": "", "hint": "", "cases": [{"public": True, "ok": True}]}]}
    [path] = write_autograded(tmp_path / "course", [rec], {"tiny": src}, tmp_path / "submitted")
    [test] = _cells(_read(path), "test_f")
    assert test.source == "assert f() == 1" and "f(2)" not in path.read_text()
    assert test.metadata.nbgrader["checksum"] == compute_checksum(source.cells[2]) != compute_checksum(test)
    assert test.outputs[0].text.startswith("f: passed — automatic score 2 / 2")


@pytest.mark.parametrize("bad", ["..", ".", ".hidden", "a/b", "", "a\0b", "x" * 256, 7])
def test_unsafe_ids_are_refused(course, tmp_path, bad):
    rec = dict(_record(course, "right"), student_id=bad)
    with pytest.raises(ValueError, match="not a safe folder name"):
        write_autograded(tmp_path, [rec], course["sources"], course["root"] / "submitted")
    with pytest.raises(ValueError):
        safe_part(bad)
    assert list(tmp_path.iterdir()) == []


def test_a_link_out_of_the_autograded_folder_is_refused(course, tmp_path):
    (tmp_path / "autograded").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "autograded" / "right").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="outside"):
        write_autograded(tmp_path, [_record(course, "right")], course["sources"], course["root"] / "submitted")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def _nbgrader(*args, cwd):
    ensure_tools_on_path()  # nbgrader runs alembic from the venv's scripts folder
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=CALL_TIMEOUT_S, env=dict(os.environ))


def test_nbgrader_generate_feedback_renders_our_scores(course):
    """Check that `nbgrader generate_feedback` finds the autograded notebooks and shows the gradebook's scores."""
    root = course["root"]
    run = _nbgrader("generate_feedback", "--assignment", LESSON, "--force", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    for student, total in (("right", 6.0), ("wrong", 5.0)):
        page = (root / "feedback" / student / LESSON / f"{LESSON}.html").read_text()
        assert f"{LESSON} (Score: {total} / 6.0)" in page, student
        assert sum(r["score"] for r in _record(course, student)["exercises"]) == total
        assert "automatic score 1 / 1" in page
    page = (root / "feedback" / "wrong" / LESSON / f"{LESSON}.html").read_text()
    assert f"{WRONG_EXERCISE}:" in page and "automatic score 0 / 1" in page and "<script>alert" not in page


@pytest.fixture()
def gradebook_copy(course, tmp_path):
    shutil.copy(course["root"] / "gradebook.db", tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def _set_grade(url, student, exercise, *, manual=None, needs=False, penalty=None):
    """What the formgrader does when a grader types a score: manual_score, needs_manual_grade, commit."""
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        grade = gb.find_grade(f"test_{exercise}", LESSON, LESSON, student)
        grade.manual_score = manual
        grade.needs_manual_grade = needs
        if penalty is not None:
            gb.find_submission_notebook(LESSON, LESSON, student).late_submission_penalty = penalty
        gb.db.commit()


def test_manual_scores_reach_the_records_and_match_nbgrader_export(course, gradebook_copy, tmp_path):
    results = copy.deepcopy(course["results"])
    _set_grade(gradebook_copy, "wrong", WRONG_EXERCISE, manual=0.5)
    assert apply_manual_scores(gradebook_copy, results, course["sources"]) == 1
    wrong = next(r for r in results if r["student_id"] == "wrong")
    row = next(r for r in wrong["exercises"] if r["exercise_id"] == WRONG_EXERCISE)
    assert (row["score"], row["manual_score"], row["auto_score"], row["manual"]) == (0.5, 0.5, 0.0, True)
    assert row["status"] != "passed" and row["needs_manual_grade"] is False
    assert "manual score set in the formgrader: 0.5" in result_text(row)
    assert apply_manual_scores(gradebook_copy, results, course["sources"]) == 0  # idempotent
    target = tmp_path / "export.csv"
    run = _nbgrader("export", "--db", gradebook_copy, "--to", str(target), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    with open(target) as f:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert exported == {r["student_id"]: sum(x["score"] for x in r["exercises"]) for r in results} == \
           {"right": 6.0, "wrong": 5.5}
    _set_grade(gradebook_copy, "wrong", WRONG_EXERCISE, manual=None)  # the grader clears it again
    assert apply_manual_scores(gradebook_copy, results, course["sources"]) == 1
    assert row["score"] == 0.0 and "manual" not in row


def test_a_manual_score_under_a_changed_submission_is_kept_and_flagged(course, gradebook_copy):
    """Check the formgrader's rule: the manual score still counts, and the cell asks for manual grading again."""
    results = copy.deepcopy(course["results"])
    _set_grade(gradebook_copy, "right", "to_conv3d_layout", manual=0.25, needs=True)
    assert apply_manual_scores(gradebook_copy, results, course["sources"]) == 1
    right = next(r for r in results if r["student_id"] == "right")
    row = right["exercises"][0]
    assert (row["score"], row["auto_score"], row["needs_manual_grade"]) == (0.25, 1.0, True)
    assert {"exercise_id": "to_conv3d_layout", "line": "", "reason": MANUAL_REVIEW} in right["review"]
    assert "needs manual grading again" in result_text(row)


def test_the_late_penalty_applies_to_the_manual_score(course, gradebook_copy):
    """Check that the penalty nbgrader stored on the notebook is taken from the score with the manual one in it."""
    results = copy.deepcopy(course["results"])
    _set_grade(gradebook_copy, "wrong", WRONG_EXERCISE, manual=1.0, penalty=3.0)
    assert apply_manual_scores(gradebook_copy, results, course["sources"]) == 6  # every row's share changes
    wrong = next(r for r in results if r["student_id"] == "wrong")
    assert (wrong["raw_score"], wrong["late_submission_penalty"], wrong["score"]) == (6.0, 3.0, 3.0)
    assert all(r["raw_score"] == 1.0 and r["score"] == 0.5 for r in wrong["exercises"])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port, token, path, timeout=30):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def _stop(proc: subprocess.Popen) -> None:
    """End the server and everything it started (its own process group): TERM, then KILL after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait(timeout=10)


@pytest.fixture()
def formgrader(course, tmp_path):
    """nbgrader's formgrader in `jupyter server` on 127.0.0.1 (free port, token), in the course folder."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTER_DATA_DIR": str(tmp_path / "data"), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "jupyter-server"), "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
           f"--ServerApp.root_dir={course['root']}",
           "--ServerApp.jpserver_extensions=nbgrader.server_extensions.formgrader=True"]  # as nbgrader.json enables it
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=course["root"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter server exited: {(tmp_path / 'server.log').read_text()[-3000:]}")
            try:
                if _get(port, token, "/api/status", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter server did not start in 90 s: {(tmp_path / 'server.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield port, token
    finally:
        _stop(proc)
        log.close()


def test_the_formgrader_lists_and_opens_both_submissions(course, formgrader, tmp_path):
    """Check that the formgrader lists both submissions as autograded and opens each one (HTTP 200, the code)."""
    port, token = formgrader
    t0 = time.perf_counter()
    status, body = _get(port, token, f"/formgrader/api/submissions/{LESSON}")
    assert status == 200, body[:2000]
    listed = {s["student"]: s for s in json.loads(body)}
    assert set(listed) == {"right", "wrong"}
    assert all(s["autograded"] and s["submitted"] for s in listed.values()), listed
    assert (listed["right"]["score"], listed["wrong"]["score"]) == (6.0, 5.0)
    status, body = _get(port, token, f"/formgrader/api/submitted_notebooks/{LESSON}/{LESSON}")
    assert status == 200, body[:2000]
    notebooks = {n["student"]: n for n in json.loads(body)}
    assert set(notebooks) == {"right", "wrong"}
    for student, code in (("right", RIGHT_BODY), ("wrong", WRONG_BODY)):
        status, page = _get(port, token, f"/formgrader/submissions/{notebooks[student]['id']}/")
        assert status == 200, page[:2000]
        text = html.unescape(re.sub(r"<[^>]+>", "", page))  # the code as shown (pygments wraps each token)
        assert code in text, student
        assert "automatic score 1 / 1" in text  # our result in the test cells
        assert "alert('grader')" not in page
    print(f"\nformgrader requests: {time.perf_counter() - t0:.2f} s")


def test_grading_into_the_course_gradebook_writes_the_autograded_notebooks_and_reports_manual_scores(course, tmp_path):
    """The whole path as an instructor runs it: grade into the course's gradebook, score by hand in the
    formgrader, grade again: the autograded notebooks come from the grader itself, and grades.csv,
    grades.json and the feedback page all report the manual score."""
    from nbgrader.api import Gradebook

    root = tmp_path / "course"
    shutil.copytree(course["root"], root, ignore=shutil.ignore_patterns("autograded"))
    shutil.copytree(course["root"].parent / f"{course['root'].name}-out", tmp_path / "out")  # the resume cache
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.db_url = {db_url!r}\n")
    with Gradebook(db_url) as gb:  # the formgrader's change: half a point for the wrong clip_numel
        grade = gb.find_grade(f"test_{WRONG_EXERCISE}", LESSON, LESSON, "wrong")
        grade.manual_score, grade.needs_manual_grade = 0.5, False
        gb.db.commit()
    cfg = GradeConfig(submissions=root / "submitted", out=tmp_path / "out", seed=SEED, db_url=db_url, course_dir=root)
    results = {r["student_id"]: r for r in grade_submissions(cfg, progress=False)}
    assert all(r.get("reused") for r in results.values())  # nothing graded again: only the outputs
    assert sorted(p.relative_to(root).as_posix() for p in (root / "autograded").rglob("*.ipynb")) == [
        f"autograded/{s}/{LESSON}/{LESSON}.ipynb" for s in ("right", "wrong")]
    row = next(r for r in results["wrong"]["exercises"] if r["exercise_id"] == WRONG_EXERCISE)
    assert (row["score"], row.get("manual_score"), row.get("auto_score")) == (0.5, 0.5, 0.0)
    with open(tmp_path / "out" / "grades.csv", newline="") as f:
        csv_row = next(r for r in csv.DictReader(f) if r["student_id"] == "wrong" and r["exercise_id"] == WRONG_EXERCISE)
    assert float(csv_row["score"]) == 0.5 and csv_row["scored_by"] == "instructor"
    stored = json.loads((tmp_path / "out" / "grades.json").read_text())
    assert sum(r["score"] for rec in stored if rec["student_id"] == "wrong" for r in rec["exercises"]) == 5.5
    page = (tmp_path / "out" / "feedback" / "wrong" / f"{LESSON}.html").read_text()
    assert "5.5 / 6" in page
    with Gradebook(db_url) as gb:  # the instructor's review stands: the notebook did not change
        assert gb.find_grade(f"test_{WRONG_EXERCISE}", LESSON, LESSON, "wrong").needs_manual_grade is False


def test_a_written_answer_graded_by_hand_keeps_the_students_text_for_the_formgrader(tmp_path):
    """A markdown cell graded by hand holds the student's answer in the autograded notebook (the formgrader
    shows it beside the score box), with the source's metadata; a deleted one comes back as the prompt."""
    import nbformat

    meta = {"nbgrader": {"schema_version": 3, "locked": False, "solution": True, "grade": True, "grade_id": "why",
                         "points": 3}}
    source = nbformat.read(PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    source.cells.append(nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", metadata=meta))
    (tmp_path / "source" / LESSON).mkdir(parents=True)
    nbformat.write(source, tmp_path / "source" / LESSON / f"{LESSON}.ipynb")
    src = read_source(tmp_path / "source" / LESSON / f"{LESSON}.ipynb", LESSON)
    assert src.manual_cells == {"why": (3.0, "markdown")}
    answer = "Because `nn.Conv3d` wants the channels before time."
    for student, text in (("answered", answer), ("deleted", None)):
        nb = nbformat.read(PROJECT_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
        if text is not None:
            nb.cells.append(nbformat.v4.new_markdown_cell(text, metadata=copy.deepcopy(meta)))
        (tmp_path / "submitted" / student / LESSON).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "submitted" / student / LESSON / f"{LESSON}.ipynb")
    records = [{"student_id": s, "assignment_id": LESSON, "exercises": [
        {"exercise_id": "why", "grade_id": "why", "score": 0.0, "max_score": 3.0, "status": "manual", "cases": [],
         "reason": "", "hint": ""}]} for s in ("answered", "deleted")]
    paths = write_autograded(tmp_path / "course", records, {LESSON: src}, tmp_path / "submitted")
    cells = {p.parent.parent.name: [c for c in _read(p).cells if c.metadata.get("nbgrader", {}).get("grade_id") == "why"]
             for p in paths}
    [kept], [back] = cells["answered"], cells["deleted"]
    assert (kept.cell_type, kept.source) == ("markdown", answer)
    assert kept.metadata.nbgrader["points"] == 3 and kept.metadata.nbgrader["grade"] is True
    assert back.cell_type == "markdown" and "YOUR ANSWER HERE" in back.source and "missing" in back.source
