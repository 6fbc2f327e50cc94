"""A release never destroys the last good one, whatever the gradebook holds.

nbgrader's ``generate_assignment --force`` removes the release folder before it checks the gradebook,
and removes it again when it fails: with the grader and the release sharing the course's gradebook,
an assignment that has submissions and whose notebooks changed made nbgrader refuse *after* the
student release was gone. The reference is nbgrader itself: the refusal is its own, provoked through
its own ``Gradebook`` API.
"""
import shutil

import pytest

from autograder.builder.release import generate_release, sync_source
from autograder.paths import PROJECT_ROOT

LESSON = "01_video_tensors"


@pytest.fixture
def course(tmp_path):
    shutil.copytree(PROJECT_ROOT / "solutions" / LESSON, tmp_path / "solutions" / LESSON)
    sync_source(LESSON, tmp_path)
    generate_release([LESSON], tmp_path)
    return tmp_path


def _db(root):
    return f"sqlite:///{root / 'build' / 'release.db'}"


def test_a_refused_release_leaves_the_last_good_one_in_place(course):
    from nbgrader.api import Gradebook

    released = course / "notebooks" / LESSON / f"{LESSON}.ipynb"
    before = released.read_bytes()
    # the gradebook knows another notebook of this assignment, and a student submitted it: nbgrader
    # refuses to drop that notebook from an assignment with submissions
    with Gradebook(_db(course)) as gb:
        gb.update_or_create_notebook("an_older_notebook", LESSON)
        gb.update_or_create_student("alice")
        gb.add_submission(LESSON, "alice")
    with pytest.raises(RuntimeError, match="unchanged") as info:
        generate_release([LESSON], course)
    assert "submissions associated" in str(info.value)  # nbgrader's own refusal, passed on
    assert released.read_bytes() == before
    assert not list((course / "build").glob(".release-*")), "the staging folder is left behind"


def test_a_release_with_graded_submissions_replaces_the_folder_whole(course):
    from nbgrader.api import Gradebook

    with Gradebook(_db(course)) as gb:  # submissions of the same notebooks: nbgrader accepts the release
        gb.update_or_create_student("bob")
        gb.add_submission(LESSON, "bob")
    stray = course / "notebooks" / LESSON / "stray.txt"
    stray.write_text("not part of the release")
    generate_release([LESSON], course)
    assert (course / "notebooks" / LESSON / f"{LESSON}.ipynb").is_file()
    assert not stray.exists()  # the folder is the new release, not the old one with files added
    assert not list((course / "notebooks").glob(".*.old"))


def test_the_build_reads_the_configuration_nbgrader_reads(tmp_path):
    """Check that notebook_config is nbgrader's own configuration of the project root, only placed elsewhere."""
    from autograder.builder.release import notebook_config
    from autograder.grader.gradebook import course_db_url, nbgrader_app

    theirs = nbgrader_app(PROJECT_ROOT).config.CourseDirectory
    ours = notebook_config(PROJECT_ROOT).CourseDirectory
    assert ours.source_directory == theirs.source_directory == "solutions"
    assert ours.release_directory == theirs.release_directory == "notebooks"
    assert list(ours.ignore) == list(theirs.ignore) and "*.py" in ours.ignore  # jupytext sources stay private
    assert ours.db_url == course_db_url(PROJECT_ROOT)
    placed = notebook_config(tmp_path, "release").CourseDirectory
    assert placed.root == str(tmp_path) and placed.release_directory == "release"
    assert placed.db_url.startswith(f"sqlite:///{tmp_path}/")
