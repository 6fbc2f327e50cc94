"""Optical flow from scratch: Horn–Schunck, pyramidal Lucas–Kanade, end-point error, colour coding.

Lesson 06_two_stream.

**The flow convention of the course** (used by every function here, by ``course.data.flow_clips``
and by ``course.nn.two_stream``):

    flow: (N, 2, H, W) float32, in pixels; channel 0 = u (along x = width, positive to the right),
    channel 1 = v (along y = height, positive downwards, as image rows grow), such that

        frame2(x + u, y + v) ≈ frame1(x, y)

i.e. the flow at a pixel of the *first* frame says where that pixel went in the second frame. This
is the convention of OpenCV's ``calcOpticalFlowFarneback`` and of the Middlebury benchmark (Baker et
al. 2011). A frame shifted 2 px to the right (``torch.roll(frame, 2, dims=-1)``) has u = 2, v = 0.

Frames are grey images (N, H, W) float (any range; the lessons use [0, 1]). Linearizing
brightness constancy frame2(x + u, y + v) = frame1(x, y) gives the **optical flow constraint**

    I_x·u + I_y·v + I_t = 0,      I_t = frame2 − frame1,

one equation for two unknowns per pixel (the aperture problem). Two classic ways to add equations:

    horn_schunck_step   Horn & Schunck 1981: a global smoothness term α²·(|∇u|² + |∇v|²); one
                        Jacobi iteration of its Euler–Lagrange equations
    lucas_kanade_step   Lucas & Kanade 1981: the flow is constant in a window; per pixel a 2×2
                        least-squares system from window sums of gradient products

Both need the motion to be small (a pixel or two): the pyramidal versions ``horn_schunck`` and
``lucas_kanade`` estimate the flow on a coarse image, then refine it level by level, each time
warping frame 2 back by the current flow (Bouguet 2001, "Pyramidal implementation of the affine
Lucas Kanade feature tracker"). Everything is batched over N and runs on the device of the input.

    image_gradients(frame1, frame2)             (N, 3, H, W): I_x, I_y, I_t                [exercise]
    horn_schunck_step(grads, flow, alpha)       one Jacobi update of (u, v)                [exercise]
    lucas_kanade_step(grads, window)            the windowed least-squares flow            [exercise]
    endpoint_error(flow, flow_gt, valid)        mean ‖flow − flow_gt‖₂ (Baker et al. 2011) [exercise]
    warp(frame, flow)                           frame2 sampled at (x + u, y + v)
    horn_schunck(frame1, frame2, ...)           coarse-to-fine Horn–Schunck with warping
    lucas_kanade(frame1, frame2, ...)           pyramidal, iterative Lucas–Kanade (Bouguet)
    clip_flows(clip, method)                    flow between consecutive frames of clips
    flow_to_color(flow)                         the HSV colour wheel: hue = direction, saturation = speed
    color_wheel(size)                           the legend of flow_to_color
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

__all__ = ["image_gradients", "horn_schunck_step", "lucas_kanade_step", "endpoint_error", "warp",
           "horn_schunck", "lucas_kanade", "clip_flows", "flow_to_color", "color_wheel"]


# --- the exercises --------------------------------------------------------------------------------
def image_gradients(frame1: torch.Tensor, frame2: torch.Tensor) -> torch.Tensor:
    """Spatial and temporal derivatives of a pair of grey frames, for the optical flow constraint.

    I_x and I_y are central differences, (I[x + 1] − I[x − 1]) / 2, of the mean of the two frames
    (replicating the border pixels, so the derivative at the border is half a one-sided
    difference); I_t = frame2 − frame1. With these, I_x·u + I_y·v + I_t ≈ 0 for the flow
    convention of this module (Horn & Schunck 1981, Sec. 7, also average the two frames).

    Args:
        frame1: (N, H, W) float grey frames at time t.
        frame2: (N, H, W) float grey frames at time t + 1, same shape and dtype.

    Returns:
        (N, 3, H, W), same dtype: channel 0 = I_x (along width), 1 = I_y (along height), 2 = I_t,
        in intensity units per pixel and per frame.

    Raises:
        ValueError: the frames are not 3-D or their shapes differ.
    """
    # 1. validate
    if frame1.dim() != 3 or frame1.shape != frame2.shape:
        raise ValueError(f"frame1 and frame2 must both be (N, H, W), got {tuple(frame1.shape)} and "
                         f"{tuple(frame2.shape)}")
    # 2. the mean image, its border replicated once: (N, H + 2, W + 2)
    mean = F.pad(((frame1 + frame2) / 2)[:, None], (1, 1, 1, 1), mode="replicate")[:, 0]
    # 3. central differences: x along the last axis (width), y along rows (height)
    ix = (mean[:, 1:-1, 2:] - mean[:, 1:-1, :-2]) / 2  # (N, H, W)
    iy = (mean[:, 2:, 1:-1] - mean[:, :-2, 1:-1]) / 2  # (N, H, W)
    # 4. the temporal difference: the second frame minus the first
    it = frame2 - frame1  # (N, H, W)
    return torch.stack([ix, iy, it], dim=1)  # (N, 3, H, W)


def horn_schunck_step(grads: torch.Tensor, flow: torch.Tensor, alpha: float) -> torch.Tensor:
    """One Jacobi iteration of Horn–Schunck (Horn & Schunck 1981, eqs. 12–13).

    Minimizing ∑ (I_x·u + I_y·v + I_t)² + α²·(|∇u|² + |∇v|²) gives, per pixel,

        u ← ū − I_x·(I_x·ū + I_y·v̄ + I_t) / (α² + I_x² + I_y²)
        v ← v̄ − I_y·(I_x·ū + I_y·v̄ + I_t) / (α² + I_x² + I_y²)

    where ū, v̄ are local averages of the current flow with the paper's 3×3 weights
    [[1, 2, 1], [2, 0, 2], [1, 2, 1]] / 12 (the centre pixel excluded; borders replicated).

    Args:
        grads: (N, 3, H, W) float, I_x, I_y, I_t as returned by :func:`image_gradients`.
        flow: (N, 2, H, W) float, the current (u, v) in pixels (zeros to start).
        alpha: smoothness weight α > 0, in intensity units per pixel (it enters squared).

    Returns:
        (N, 2, H, W), the updated flow (u, v), same dtype as ``flow``.

    Raises:
        ValueError: shapes that are not (N, 3, H, W) and (N, 2, H, W) of the same N, H, W, or alpha <= 0.
    """
    # 1. validate
    if grads.dim() != 4 or grads.shape[1] != 3 or flow.shape != (grads.shape[0], 2, *grads.shape[2:]):
        raise ValueError(f"grads must be (N, 3, H, W) and flow (N, 2, H, W), got {tuple(grads.shape)} and "
                         f"{tuple(flow.shape)}")
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    N, _, H, W = flow.shape
    ix, iy, it = grads[:, 0], grads[:, 1], grads[:, 2]  # (N, H, W) each
    # 2. the neighbourhood average of u and v (u and v as separate images of one channel)
    kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 0.0, 2.0], [1.0, 2.0, 1.0]], dtype=flow.dtype,
                          device=flow.device) / 12
    padded = F.pad(flow.reshape(N * 2, 1, H, W), (1, 1, 1, 1), mode="replicate")  # (2N, 1, H + 2, W + 2)
    mean = F.conv2d(padded, kernel[None, None]).view(N, 2, H, W)  # (N, 2, H, W)
    u_bar, v_bar = mean[:, 0], mean[:, 1]
    # 3. the residual of the constraint at the averages, divided by α² + |∇I|²
    ratio = (ix * u_bar + iy * v_bar + it) / (alpha ** 2 + ix ** 2 + iy ** 2)  # (N, H, W)
    # 4. step from the averages back towards the constraint line
    return torch.stack([u_bar - ix * ratio, v_bar - iy * ratio], dim=1)  # (N, 2, H, W)


def lucas_kanade_step(grads: torch.Tensor, window: int, min_eigenvalue: float = 1e-6) -> torch.Tensor:
    """Lucas–Kanade flow: least squares of the flow constraint over a window around each pixel.

    Assuming one flow (u, v) for the whole window, the constraints I_x·u + I_y·v = −I_t of its
    pixels give the normal equations (Lucas & Kanade 1981; the structure tensor)

        [∑ I_x²    ∑ I_x·I_y] [u]     [∑ I_x·I_t]
        [∑ I_x·I_y ∑ I_y²   ] [v] = − [∑ I_y·I_t]

    with sums over the window × window pixels centred on the pixel (pixels outside the image count
    as zero). The 2×2 system is solved in closed form (Cramer's rule). Where the smaller eigenvalue
    of the matrix is below ``min_eigenvalue`` (a flat patch or a straight edge: the aperture
    problem) the flow is set to 0.

    Args:
        grads: (N, 3, H, W) float, I_x, I_y, I_t as returned by :func:`image_gradients`.
        window: side of the square window, an odd int >= 1.
        min_eigenvalue: pixels whose summed matrix has a smaller eigenvalue below this get zero flow.

    Returns:
        (N, 2, H, W) flow (u, v) in pixels, same dtype as ``grads``.

    Raises:
        ValueError: ``grads`` is not (N, 3, H, W) or ``window`` is not an odd int >= 1.
    """
    # 1. validate
    if grads.dim() != 4 or grads.shape[1] != 3:
        raise ValueError(f"grads must be (N, 3, H, W), got {tuple(grads.shape)}")
    if not isinstance(window, int) or isinstance(window, bool) or window < 1 or window % 2 == 0:
        raise ValueError(f"window must be an odd int >= 1, got {window!r}")
    ix, iy, it = grads[:, 0], grads[:, 1], grads[:, 2]  # (N, H, W) each
    # 2. the five products, summed over the window (a box filter with zero padding)
    products = torch.stack([ix * ix, ix * iy, iy * iy, ix * it, iy * it], dim=1)  # (N, 5, H, W)
    box = torch.ones(5, 1, window, window, dtype=grads.dtype, device=grads.device)
    sxx, sxy, syy, sxt, syt = F.conv2d(products, box, padding=window // 2, groups=5).unbind(1)
    # 3. Cramer's rule for the 2×2 system
    det = sxx * syy - sxy * sxy
    safe = torch.where(det == 0, torch.ones_like(det), det)
    u = (-syy * sxt + sxy * syt) / safe
    v = (sxy * sxt - sxx * syt) / safe
    # 4. zero flow where the smaller eigenvalue says the system is (nearly) singular
    smaller = (sxx + syy) / 2 - torch.sqrt(((sxx - syy) / 2) ** 2 + sxy ** 2)
    ok = smaller > min_eigenvalue
    return torch.stack([torch.where(ok, u, 0.0), torch.where(ok, v, 0.0)], dim=1)  # (N, 2, H, W)


def endpoint_error(flow: torch.Tensor, flow_gt: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Average end-point error: the mean Euclidean distance between estimated and true flow vectors.

    EPE = mean over valid pixels of sqrt((u − u_gt)² + (v − v_gt)²) (Baker et al. 2011, "A Database
    and Evaluation Methodology for Optical Flow", Sec. 4.1). It is the length of the error vector,
    not the mean of the two component errors.

    Args:
        flow: (N, 2, H, W) float, estimated (u, v) in pixels.
        flow_gt: (N, 2, H, W) float, the ground truth, same shape.
        valid: optional (N, H, W) bool, the pixels to average over (e.g. those whose true flow
            stays inside the image); None averages over every pixel.

    Returns:
        A 0-dim tensor of flow's dtype, in pixels.

    Raises:
        ValueError: shapes that are not (N, 2, H, W) alike, a mask of the wrong shape, or an empty mask.
    """
    # 1. validate
    if flow.dim() != 4 or flow.shape[1] != 2 or flow.shape != flow_gt.shape:
        raise ValueError(f"flow and flow_gt must both be (N, 2, H, W), got {tuple(flow.shape)} and "
                         f"{tuple(flow_gt.shape)}")
    # 2. the length of the error vector at every pixel
    error = torch.sqrt(((flow - flow_gt) ** 2).sum(dim=1))  # (N, H, W), pixels
    if valid is None:
        return error.mean()
    # 3. the mean over the valid pixels only
    if valid.shape != error.shape or valid.dtype != torch.bool:
        raise ValueError(f"valid must be a bool (N, H, W) mask of shape {tuple(error.shape)}, got "
                         f"{valid.dtype} {tuple(valid.shape)}")
    if not valid.any():
        raise ValueError("valid selects no pixel: the mean end-point error is undefined")
    return error[valid].mean()


# --- whole estimators -----------------------------------------------------------------------------
def warp(frame: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample frames at (x + u, y + v): with the right flow, ``warp(frame2, flow) ≈ frame1``.

    Bilinear interpolation; positions outside the image take the nearest border pixel.

    Args:
        frame: (N, H, W) float frames (the second frame of each pair).
        flow: (N, 2, H, W) float flow (u, v) in pixels.

    Returns:
        (N, H, W), ``out[n, y, x] = frame[n, y + v, x + u]``.

    Raises:
        ValueError: the shapes do not match.
    """
    if frame.dim() != 3 or flow.shape != (frame.shape[0], 2, *frame.shape[1:]):
        raise ValueError(f"frame must be (N, H, W) and flow (N, 2, H, W), got {tuple(frame.shape)} and "
                         f"{tuple(flow.shape)}")
    N, H, W = frame.shape
    ys, xs = torch.meshgrid(torch.arange(H, dtype=flow.dtype, device=flow.device),
                            torch.arange(W, dtype=flow.dtype, device=flow.device), indexing="ij")
    x = xs + flow[:, 0]  # (N, H, W) sample positions in pixels
    y = ys + flow[:, 1]
    # grid_sample wants (x, y) in [-1, 1]; with align_corners=True, -1 and 1 are the border pixel centres
    grid = torch.stack([2 * x / max(W - 1, 1) - 1, 2 * y / max(H - 1, 1) - 1], dim=-1)  # (N, H, W, 2)
    return F.grid_sample(frame[:, None], grid.to(frame.dtype), mode="bilinear", padding_mode="border",
                         align_corners=True)[:, 0]


def _check_pair(frame1: torch.Tensor, frame2: torch.Tensor, levels: int) -> None:
    if frame1.dim() != 3 or frame1.shape != frame2.shape:
        raise ValueError(f"frame1 and frame2 must both be grey (N, H, W) frames, got {tuple(frame1.shape)} and "
                         f"{tuple(frame2.shape)}; average the colour channels first")
    if not frame1.is_floating_point():
        raise ValueError(f"frames must be float (e.g. uint8 / 255), got {frame1.dtype}")
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")


def _pyramid(frame: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Coarse-to-fine list of (N, h, w) images, each half the size (rounded up) of the next."""
    images = [frame]
    for _ in range(levels - 1):
        h, w = images[-1].shape[-2:]
        if min(h, w) < 8:  # too small to estimate anything: stop early
            break
        images.append(F.interpolate(images[-1][:, None], size=((h + 1) // 2, (w + 1) // 2), mode="bilinear",
                                    align_corners=False, antialias=True)[:, 0])
    return images[::-1]


def _upsample_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize a flow field to ``size`` (H, W), scaling u by the width ratio and v by the height ratio."""
    h, w = flow.shape[-2:]
    up = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
    scale = torch.tensor([size[1] / w, size[0] / h], dtype=flow.dtype, device=flow.device)
    return up * scale[None, :, None, None]


def _coarse_to_fine(frame1: torch.Tensor, frame2: torch.Tensor, levels: int, num_warps: int,
                    refine: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Shared driver: at each level (coarse first) warp frame 2 by the flow so far and ``refine`` it."""
    flow = None
    for f1, f2 in zip(_pyramid(frame1, levels), _pyramid(frame2, levels)):
        N, h, w = f1.shape
        flow = f1.new_zeros(N, 2, h, w) if flow is None else _upsample_flow(flow, (h, w))
        for _ in range(num_warps):
            flow = refine(f1, warp(f2, flow), flow)
    return flow


def horn_schunck(frame1: torch.Tensor, frame2: torch.Tensor, *, alpha: float = 0.1, num_iters: int = 100,
                 levels: int = 3, num_warps: int = 1) -> torch.Tensor:
    """Dense optical flow by Horn–Schunck, coarse to fine with warping.

    At each pyramid level (coarse first) frame 2 is warped back by the current flow w₀, the
    constraint is linearized around w₀ (I_t becomes I_t − I_x·u₀ − I_y·v₀ for the warped pair) and
    ``num_iters`` Jacobi iterations of :func:`horn_schunck_step` update the total flow, so the
    smoothness term acts on the flow itself (Horn & Schunck 1981; the warping scheme of Brox et
    al. 2004, without their robust penalties). ``levels=1`` is the original single-scale method.

    Args:
        frame1: (N, H, W) float grey frames (e.g. in [0, 1]).
        frame2: (N, H, W) float grey frames, the next ones.
        alpha: smoothness weight α, in intensity units per pixel; larger gives smoother flow.
        num_iters: Jacobi iterations per level and warp.
        levels: pyramid levels (each halves H and W); 1 = no pyramid.
        num_warps: how often each level re-warps frame 2 and iterates again.

    Returns:
        (N, 2, H, W) flow (u, v) in pixels, frame2(x + u, y + v) ≈ frame1(x, y), on frame1's device.

    Raises:
        ValueError: frames that are not float (N, H, W) of one shape, or levels < 1.
    """
    _check_pair(frame1, frame2, levels)

    def refine(f1: torch.Tensor, warped: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        grads = image_gradients(f1, warped)  # (N, 3, h, w) of the warped pair
        it = grads[:, 2] - grads[:, 0] * flow[:, 0] - grads[:, 1] * flow[:, 1]  # linearized around `flow`
        grads = torch.stack([grads[:, 0], grads[:, 1], it], dim=1)
        for _ in range(num_iters):
            flow = horn_schunck_step(grads, flow, alpha)
        return flow

    return _coarse_to_fine(frame1, frame2, levels, num_warps, refine)


def lucas_kanade(frame1: torch.Tensor, frame2: torch.Tensor, *, window: int = 11, levels: int = 3,
                 num_iters: int = 1, min_eigenvalue: float = 1e-5) -> torch.Tensor:
    """Dense optical flow by pyramidal, iterative Lucas–Kanade (Bouguet 2001).

    At each pyramid level (coarse first) the flow of the coarser level is upsampled, and
    ``num_iters`` times frame 2 is warped back by the current flow and :func:`lucas_kanade_step`
    on the warped pair adds a correction. Pixels whose window is flat or a straight edge get no
    correction (zero at the finest level where the coarse levels had none either).

    Bouguet shifts each window by the displacement of its centre; this dense version warps every
    pixel by its own flow, so errors of neighbours feed back into a window. One iteration per level
    is the default: on the synthetic clips of ``course.data.flow_clips`` more iterations per level
    raise the end-point error instead of lowering it.

    Args:
        frame1: (N, H, W) float grey frames (e.g. in [0, 1]).
        frame2: (N, H, W) float grey frames, the next ones.
        window: odd side of the window of :func:`lucas_kanade_step`.
        levels: pyramid levels (each halves H and W); 1 = no pyramid.
        num_iters: warp-and-correct iterations per level.
        min_eigenvalue: see :func:`lucas_kanade_step`.

    Returns:
        (N, 2, H, W) flow (u, v) in pixels, frame2(x + u, y + v) ≈ frame1(x, y), on frame1's device.

    Raises:
        ValueError: frames that are not float (N, H, W) of one shape, levels < 1, or a bad window.
    """
    _check_pair(frame1, frame2, levels)

    def refine(f1: torch.Tensor, warped: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        return flow + lucas_kanade_step(image_gradients(f1, warped), window, min_eigenvalue)

    return _coarse_to_fine(frame1, frame2, levels, num_iters, refine)


def clip_flows(clip: torch.Tensor, method: str = "lucas_kanade", *, chunk_size: int = 64, progress: bool = False,
               **kwargs: float) -> torch.Tensor:
    """Optical flow between consecutive frames of clips, ``chunk_size`` clips at a time.

    All frame pairs of a chunk go through the estimator as one batch. The estimators keep several
    full-size intermediates per pair (gradients, pyramid levels, window sums), so one batch of
    thousands of clips needs gigabytes (3,600 Moving Digits clips in one batch peaked at 4.3 GB);
    chunks bound the memory to the output plus one chunk's work (about 2.4 MB per 8-frame 32×32
    clip for single-level Lucas–Kanade, so 64 clips add about 150 MB). Pairs are independent, so the
    result does not depend on ``chunk_size`` (up to float rounding of batched kernels).

    Args:
        clip: (N, C, T, H, W) float clips (Conv3d layout); colour is averaged to grey.
        method: "lucas_kanade" or "horn_schunck".
        chunk_size: clips per batch of the estimator, >= 1.
        progress: show a tqdm bar over the chunks.
        **kwargs: passed to the estimator (``window``, ``alpha``, ``levels``, ...).

    Returns:
        (N, 2, T − 1, H, W) float: the flow from frame t to frame t + 1 at time index t, in the
        Conv3d layout with the two flow components as channels.

    Raises:
        ValueError: ``clip`` is not 5-D with T >= 2, the method is unknown, or chunk_size < 1.
    """
    # 1. validate
    if clip.dim() != 5 or clip.shape[2] < 2:
        raise ValueError(f"clip must be (N, C, T, H, W) with T >= 2, got {tuple(clip.shape)}")
    estimators = {"lucas_kanade": lucas_kanade, "horn_schunck": horn_schunck}
    if method not in estimators:
        raise ValueError(f"method must be one of {sorted(estimators)}, got {method!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    from tqdm.auto import tqdm

    N, C, T, H, W = clip.shape
    out = None  # (N, 2, T − 1, H, W), allocated with the estimator's dtype
    for start in tqdm(range(0, N, chunk_size), desc=f"{method} flow", disable=not progress, leave=False):
        # 2. pairs (t, t + 1) of a chunk of clips as one batch
        grey = clip[start:start + chunk_size].float().mean(dim=1)  # (n, T, H, W)
        n = grey.shape[0]
        first = grey[:, :-1].reshape(n * (T - 1), H, W)
        second = grey[:, 1:].reshape(n * (T - 1), H, W)
        flow = estimators[method](first, second, **kwargs)  # (n·(T−1), 2, H, W)
        # 3. back to the Conv3d layout, (n, 2, T − 1, H, W)
        if out is None:
            out = flow.new_empty(N, 2, T - 1, H, W)
        out[start:start + n] = flow.view(n, T - 1, 2, H, W).permute(0, 2, 1, 3, 4)
    return out


# --- colour coding --------------------------------------------------------------------------------
def _hsv_to_rgb(hue: torch.Tensor, saturation: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """HSV (each (...) in [0, 1]) to RGB (..., 3) in [0, 1], the standard hexcone formula."""
    channels = []
    for n in (5.0, 3.0, 1.0):  # R, G, B
        k = (n + hue * 6) % 6
        channels.append(value - value * saturation * torch.clamp(torch.minimum(k, 4 - k), 0, 1))
    return torch.stack(channels, dim=-1)


def flow_to_color(flow: torch.Tensor, max_magnitude: float | None = None) -> torch.Tensor:
    """Colour-code flow fields: hue = direction, saturation = speed (white = no motion).

    The hue goes round the HSV colour wheel with the angle atan2(v, u): right (u > 0) is red, down
    (v > 0, image rows grow downwards) is yellow-green, left cyan, up violet. Saturation is the
    magnitude divided by ``max_magnitude`` (clipped to 1), value is 1. This follows the idea of the
    Middlebury colour coding (Baker et al. 2011, Fig. 1) with the plain HSV wheel instead of their
    hand-made one; :func:`color_wheel` draws the legend.

    Args:
        flow: (N, 2, H, W) float flow (u, v) in pixels.
        max_magnitude: speed (pixels) drawn fully saturated; None uses the largest magnitude of
            the batch (at least 1e-6).

    Returns:
        (N, 3, H, W) float32 RGB in [0, 1], on flow's device.

    Raises:
        ValueError: ``flow`` is not (N, 2, H, W), or max_magnitude <= 0.
    """
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow must be (N, 2, H, W), got {tuple(flow.shape)}")
    if max_magnitude is not None and max_magnitude <= 0:
        raise ValueError(f"max_magnitude must be > 0, got {max_magnitude}")
    flow = flow.float()
    u, v = flow[:, 0], flow[:, 1]
    magnitude = torch.sqrt(u ** 2 + v ** 2)  # (N, H, W)
    scale = max(float(magnitude.max()), 1e-6) if max_magnitude is None else max_magnitude
    hue = (torch.atan2(v, u) / (2 * math.pi)) % 1.0  # 0 = right, 0.25 = down, 0.5 = left, 0.75 = up
    rgb = _hsv_to_rgb(hue, torch.clamp(magnitude / scale, 0, 1), torch.ones_like(hue))  # (N, H, W, 3)
    return rgb.permute(0, 3, 1, 2).contiguous()


def color_wheel(size: int = 65) -> torch.Tensor:
    """The legend of :func:`flow_to_color`: the colour of the flow (x − c, y − c) at each pixel.

    Args:
        size: side in pixels (odd sizes put a pixel at the centre).

    Returns:
        (3, size, size) float32 RGB in [0, 1]; white in the centre, saturated at the rim, white
        outside the disc.

    Raises:
        ValueError: size < 3.
    """
    if size < 3:
        raise ValueError(f"size must be >= 3, got {size}")
    c = (size - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(size) - c, torch.arange(size) - c, indexing="ij")
    flow = torch.stack([xs, ys])[None].float()  # (1, 2, size, size): u = x − c, v = y − c
    rgb = flow_to_color(flow, max_magnitude=c)[0]
    outside = (xs ** 2 + ys ** 2) > c ** 2
    return torch.where(outside[None], torch.ones_like(rgb), rgb)
