"""What a student's notebook imports: ``from autograder import check`` runs the public cases of an exercise.

:mod:`autograder.student.check` (``check(fn)`` and the reference outcomes), :mod:`autograder.student.spec`
(the ``Exercise``, ``Case`` and ``Misconception`` records), :mod:`autograder.student.verdict` (calls a
function on a case, judges the outcome, names a known mistake) and :mod:`autograder.student.compare`
(strict comparison). These modules, and the exercise specs in :mod:`autograder.exercises`, import nothing
from :mod:`autograder.grader` or :mod:`autograder.builder` (``tests/autograder/test_layering.py``).
"""
