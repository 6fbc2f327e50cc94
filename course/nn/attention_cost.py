"""What space-time attention costs, in closed form: attention-score entries and FLOPs per layer.

A clip of T frames with P patches per frame gives T·P patch tokens of width D. The part of a
transformer layer whose cost depends on how the tokens are grouped is the attention itself: the
scores Q Kᵀ and the weighted sum A V. For one sequence of L tokens both are L × L × D
multiply-accumulates, so one attention costs 2 · 2 · L² · D FLOPs (2 FLOPs per multiply-accumulate,
the convention of ``torch.utils.flop_counter`` and :func:`course.counting.count_flops`), whatever the
number of heads (they split D). The projections (qkv, output, MLP) cost the same per token in every
scheme and are left out here.

    joint_space_time     one sequence of T·P tokens         2·2·(T·P)²·D
    divided_space_time   time: P sequences of T tokens      2·2·P·T²·D
                         + space: T sequences of P tokens   + 2·2·T·P²·D
    space_only           T sequences of P tokens            2·2·T·P²·D

Bertasius et al. 2021 ("Is Space-Time Attention All You Need for Video Understanding?", Sec. 3):
joint attention compares every token with T·P others, divided attention with T + P. With
``cls_token=True`` the counts are those of :class:`course.nn.timesformer.TimeSformer`, which adds one
CLS token: to the joint sequence (1 + T·P), and to each frame's spatial sequence (1 + P); the
temporal sequences have no CLS.

Measuring it: on CPU ``torch.utils.flop_counter.FlopCounterMode`` does not count the fused kernel
that ``scaled_dot_product_attention`` runs there (it counts 0); under
``torch.nn.attention.sdpa_kernel(SDPBackend.MATH)`` attention runs as two batched matrix products,
which it counts, and the count equals :func:`attention_flops`.
"""
from __future__ import annotations

from course.nn._checks import positive_int
from course.nn.attention import ATTENTION_TYPES

__all__ = ["attention_scores", "attention_flops"]


def _check(num_frames: int, num_patches: int, attention_type: str) -> None:
    positive_int(num_frames, "num_frames"), positive_int(num_patches, "num_patches")
    if attention_type not in ATTENTION_TYPES:
        raise ValueError(f"attention_type must be one of {ATTENTION_TYPES}, got {attention_type!r}")


def attention_scores(num_frames: int, num_patches: int, attention_type: str, cls_token: bool = False) -> int:
    """Entries of the attention matrices of one layer, one clip, one head: the sum of L² over its sequences.

    Joint: (T·P)²; divided: P·T² (time) + T·P² (space); space-only: T·P². With ``cls_token``:
    (1 + T·P)², P·T² + T·(1 + P)², T·(1 + P)². Multiply by heads × bytes per number for the memory
    the scores take when they are materialized (the math kernel; flash attention never stores them).

    Args:
        num_frames: T.
        num_patches: P, patches per frame.
        attention_type: "joint_space_time", "divided_space_time" or "space_only".
        cls_token: count one CLS token as TimeSformer does.

    Returns:
        A Python int.

    Raises:
        ValueError: for non-positive sizes or an unknown attention type.
    """
    _check(num_frames, num_patches, attention_type)
    T, P, c = num_frames, num_patches, int(cls_token)
    if attention_type == "joint_space_time":
        return (c + T * P) ** 2
    space = T * (c + P) ** 2
    return space + P * T ** 2 if attention_type == "divided_space_time" else space


def attention_flops(num_frames: int, num_patches: int, hidden_size: int, attention_type: str,
                    cls_token: bool = False) -> int:
    """FLOPs of the attention products (Q Kᵀ and A V) of one layer on one clip.

    Formula (2 FLOPs per multiply-accumulate, as ``torch.utils.flop_counter``):

        joint:       2·2·(T·P)²·D
        divided:     2·2·P·T²·D  (time)  +  2·2·T·P²·D  (space)
        space_only:  2·2·T·P²·D

    that is ``4 · D · attention_scores(...)``; with ``cls_token`` P becomes 1 + P in the joint and
    spatial sequences (see :func:`attention_scores`). Softmax and scaling are not counted (torch counts
    0 for them); the qkv, output and MLP projections neither (the same in all three schemes). For a
    batch, multiply by N clips; for the network, by the number of layers.

    Args:
        num_frames: T.
        num_patches: P, patches per frame ((H / p) · (W / p)).
        hidden_size: D (all heads together).
        attention_type: "joint_space_time", "divided_space_time" or "space_only".
        cls_token: count one CLS token as TimeSformer does.

    Returns:
        FLOPs, a Python int.

    Raises:
        ValueError: for non-positive sizes or an unknown attention type.
    """
    positive_int(hidden_size, "hidden_size")
    return 2 * 2 * hidden_size * attention_scores(num_frames, num_patches, attention_type, cls_token)
