"""The official grader, ``python -m autograder grade``: sandboxed, parallel, resumable.

:mod:`autograder.grader.grade` is the driver; :mod:`autograder.grader._child` the process that runs
student code, in the box of :mod:`autograder.grader.box` with the limits of
:mod:`autograder.grader.sandbox`; :mod:`autograder.grader.transport` carries plain data back;
:mod:`autograder.grader.notebook`, :mod:`autograder.grader.review`, :mod:`autograder.grader.gradebook`,
:mod:`autograder.grader.autograded` and :mod:`autograder.grader.feedback` read submissions and write
what an instructor reads. The grader may import the student side (it takes the reference outcomes from
:mod:`autograder.student.check`), never the other way round.
"""
