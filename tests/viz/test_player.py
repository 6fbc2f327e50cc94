"""course.viz.clip_player: Play drives the slider, the slider picks the frame (pixels decoded back)."""
import io

import matplotlib.image
import numpy as np
import pytest
import torch

from course.viz import clip_player


def _pixels(png: bytes) -> np.ndarray:
    return (matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3] * 255).round().astype(np.uint8)


@pytest.mark.parametrize("channels, dtype", [(3, torch.uint8), (1, torch.float32)])
def test_slider_shows_the_chosen_frame(channels, dtype):
    """Check that moving the slider shows exactly that frame's pixels, for RGB uint8 and grey float clips."""
    g = torch.Generator().manual_seed(channels)
    clip = torch.randint(0, 256, (5, channels, 7, 11), generator=g, dtype=torch.uint8)
    shown = clip if dtype == torch.uint8 else clip.float() / 255
    player = clip_player(shown, fps=10)
    (play, slider), image = player.children[0].children, player.children[1]
    assert (play.min, play.max, slider.min, slider.max, play.interval) == (0, 4, 0, 4, 100)
    for t in (0, 3, 4):
        slider.value = t
        expected = clip[t].permute(1, 2, 0).expand(-1, -1, 3).numpy()  # (H, W, 3)
        assert np.array_equal(_pixels(image.value), expected)


@pytest.mark.parametrize("clip, fps", [(torch.zeros(5, 7, 11), 8.0), (torch.zeros(5, 2, 7, 11), 8.0),
                                       (torch.zeros(0, 3, 7, 11), 8.0), (torch.zeros(5, 3, 7, 11), 0.0)])
def test_bad_input_is_refused(clip, fps):
    """Check the errors: not (T, C, H, W), C not 1 or 3, no frames, fps <= 0."""
    with pytest.raises(ValueError):
        clip_player(clip, fps=fps)
