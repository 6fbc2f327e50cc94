"""The course build, ``make release`` and ``make course``.

:mod:`autograder.builder.release` (jupytext source -> nbgrader source notebook -> student release),
:mod:`autograder.builder.execute` (runs a notebook in a fresh kernel, measures its peak memory),
:mod:`autograder.builder.make_course` (what ``make course`` runs), :mod:`autograder.builder.demo` (the
demo class) and :mod:`autograder.builder.lesson_index` (the lesson index in ``solutions/README.md``).
"""
