# nbgrader configuration of the course, for running nbgrader's own commands from the project root
# (autograder.builder.release.notebook_config holds the same settings for `make release`).
c = get_config()  # noqa: F821 - provided by nbgrader
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.db_url = "sqlite:///build/release.db"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.py", "feedback"]
