# nbgrader configuration of the course: read by nbgrader's own commands run from the project root (and
# the formgrader of `make lab-instructor`), and by the course build (autograder.builder.release.notebook_config,
# which only places it: another root, the release folder, the database under that root).
c = get_config()  # noqa: F821 - provided by nbgrader
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.db_url = "sqlite:///build/release.db"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.py", "feedback"]
