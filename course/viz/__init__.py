"""Figures (matplotlib) and interactive viewers (ipywidgets) used by the lessons.

Every interactive viewer has a static twin, so an executed notebook shows the figure too.
"""
from course.viz.video import *  # noqa: F401,F403
from course.viz.video import __all__ as _video_all
from course.viz.medical import *  # noqa: F401,F403
from course.viz.medical import __all__ as _medical_all
from course.viz.volume import *  # noqa: F401,F403
from course.viz.volume import __all__ as _volume_all
from course.viz.tasks import *  # noqa: F401,F403
from course.viz.tasks import __all__ as _tasks_all
from course.viz.segmenters import *  # noqa: F401,F403
from course.viz.segmenters import __all__ as _segmenters_all

__all__ = [*_video_all, *_medical_all, *_volume_all, *_tasks_all, *_segmenters_all]
