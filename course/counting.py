"""Counting what a network costs: parameters, FLOPs and activation memory.

Lesson 02_conv3d.

    conv_params        weights (+ biases) of a 1D/2D/3D convolution, closed form
    count_params       parameters of a module, as ``torch.nn.Module.parameters()`` holds them
    conv3d_flops       FLOPs of one 3D convolution on one clip, closed form
    count_flops        FLOPs of a forward pass, measured by ``torch.utils.flop_counter.FlopCounterMode``
    activation_memory  bytes of the outputs of every leaf module in one forward pass

**The FLOP convention.** One multiply-accumulate (MAC), ``acc += w * x``, is counted as **2 FLOPs**
(one multiply, one add). ``torch.utils.flop_counter.FlopCounterMode`` counts this way: a convolution
with C_out output channels, C_in / groups input channels per group, a kernel of K taps and P output
positions costs 2 · C_out · (C_in / groups) · K · P FLOPs per sample; the bias addition is not
counted. Many papers and tools report **MACs** under the name "FLOPs" (fvcore, and the "GFLOPS"
column of torchvision's model tables): their numbers are half of torch's. Always say which one a
number is.

Sources: ``torch.utils.flop_counter`` (``conv_flop_count``: "2 * prod(w_shape) * prod(out_shape)"
per batch element); the parameter shapes of ``torch.nn.Conv3d`` (weight (C_out, C_in / groups, kT,
kH, kW), bias (C_out,)); Tran et al. 2015 (C3D), Tran et al. 2018 (R(2+1)D), whose tables count
parameters and FLOPs of 3D CNNs this way.
"""
from __future__ import annotations

import math
import numbers
import time
from typing import Callable, Sequence

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["conv_params", "count_params", "conv3d_flops", "count_flops", "activation_memory", "best_time"]


def conv_params(in_channels: int, out_channels: int, kernel_size: int | Sequence[int], bias: bool = True,
                groups: int = 1) -> int:
    """Parameters of a convolution: C_out · (C_in / groups) · prod(kernel_size) weights, + C_out biases.

    The weight of ``torch.nn.ConvNd`` has shape (C_out, C_in / groups, *kernel_size): each of the
    C_out filters sees the C_in / groups channels of its group through every kernel tap.

    Args:
        in_channels: C_in, >= 1.
        out_channels: C_out, >= 1.
        kernel_size: a tuple of any length, one size per axis ((3, 3) for a 2D conv, (3, 3, 3) for a
            3D one), or one int k for a **3D** cube k × k × k (the convention of ``nn.Conv3d``).
        bias: whether the convolution has a bias, one per output channel.
        groups: channel groups; must divide C_in and C_out.

    Returns:
        The parameter count, a Python int (``sum(p.numel() for p in conv.parameters())``).

    Raises:
        ValueError: sizes that are not integers >= 1, or groups that do not divide the channels.
    """
    # 1. validate: positive integers; groups divides both channel counts
    kernel = (kernel_size,) * 3 if isinstance(kernel_size, numbers.Integral) else tuple(kernel_size)
    for name, value in [("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups),
                        *((f"kernel_size[{i}]", k) for i, k in enumerate(kernel))]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if len(kernel) == 0 or in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}, "
                         f"and kernel_size {kernel_size!r} needs at least one axis")
    # 2. weights: C_out filters of (C_in / groups) × kernel taps; then one bias per output channel
    weights = out_channels * (in_channels // groups) * math.prod(kernel)
    return int(weights + (out_channels if bias else 0))


def count_params(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of a module (each shared parameter once).

    Args:
        model: any ``torch.nn.Module``.
        trainable_only: count only parameters with ``requires_grad`` (e.g. a frozen backbone is left out).

    Returns:
        The count of numbers (not bytes), a Python int. Buffers (BatchNorm running statistics) are not
        parameters and are not counted.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def conv3d_flops(in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 output_size: int | Sequence[int], groups: int = 1) -> int:
    """FLOPs of one 3D convolution on one clip: 2 · C_out · (C_in / groups) · kT·kH·kW · T'·H'·W'.

    Every output number (C_out · T' · H' · W' of them) is a sum of (C_in / groups) · kT·kH·kW products:
    that many multiply-accumulates, 2 FLOPs each. The bias addition is not counted, as in
    ``torch.utils.flop_counter.FlopCounterMode``; for a batch of N clips multiply by N. Half of
    this number is the MAC count that fvcore and torchvision call "FLOPs".

    Args:
        in_channels: C_in, >= 1.
        out_channels: C_out, >= 1.
        kernel_size: (kT, kH, kW) or one int for all three; each >= 1.
        output_size: the **output** size (T', H', W') (see ``course.nn.conv3d.conv3d_output_size``),
            or one int for all three; each >= 1.
        groups: channel groups; must divide C_in and C_out.

    Returns:
        FLOPs (2 per multiply-accumulate) for one clip, a Python int.

    Raises:
        ValueError: sizes that are not integers >= 1 (three per size), or groups that do not divide
            the channels.
    """
    # 1. validate: channels, groups, and three sizes each for the kernel and the output
    kernel = (kernel_size,) * 3 if isinstance(kernel_size, numbers.Integral) else tuple(kernel_size)
    output = (output_size,) * 3 if isinstance(output_size, numbers.Integral) else tuple(output_size)
    if len(kernel) != 3 or len(output) != 3:
        raise ValueError(f"kernel_size {kernel_size!r} and output_size {output_size!r} need three sizes (T, H, W)")
    for name, value in [("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups),
                        *(("kernel_size", k) for k in kernel), *(("output_size", n) for n in output)]:
        if not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be integers >= 1, got {value!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
    # 2. multiply-accumulates per output number × output numbers, 2 FLOPs each
    macs_per_output = (in_channels // groups) * math.prod(kernel)
    return int(2 * macs_per_output * out_channels * math.prod(output))


def count_flops(model: torch.nn.Module, *inputs: torch.Tensor) -> int:
    """FLOPs of one forward pass of ``model(*inputs)``, as counted by ``FlopCounterMode``.

    Runs the forward pass under ``torch.no_grad()`` (no backward is counted; a training step costs
    about 3× this: forward, and backward for the inputs and for the weights). Torch counts matrix
    multiplications and convolutions (2 FLOPs per multiply-accumulate, bias excluded, the whole batch
    included); element-wise operations (activations, normalization, pooling) count 0. Attention
    (``F.scaled_dot_product_attention``) runs on its math kernel here, two batched matmuls that
    the counter sees: FlopCounterMode does not count the fused CPU kernel and would report 0.

    Args:
        model: any module.
        *inputs: its inputs, e.g. one (N, C, T, H, W) clip batch.

    Returns:
        Total FLOPs, a Python int. Divide by 2 for MACs (what fvcore and torchvision call FLOPs).
    """
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*inputs)
    return int(counter.get_total_flops())


def activation_memory(model: torch.nn.Module, *inputs: torch.Tensor) -> int:
    """Bytes of all module outputs in one forward pass: a standard estimate of activation memory.

    A forward hook on every **leaf** module (one without children: Conv3d, BatchNorm3d, ReLU, ...)
    adds up the ``nbytes`` of the tensors it returns. Counted: each leaf output once; an output
    that shares memory with the module's input (an in-place ReLU, a view such as ``Flatten``) is
    not new memory and is not counted. Not counted: the inputs, parameters and gradients, the
    outputs of container modules (they are their last child's), functional calls inside
    ``forward`` (``F.relu``, ``x + y``), and the workspace of the kernels. During training
    autograd keeps roughly these tensors alive until the backward pass, so the sum approximates
    what a batch costs beyond the weights; in inference each is freed once the next layer has read
    it. The forward pass runs under ``torch.no_grad()``. Aliases are found by tensor identity and
    ``Tensor._base`` (not by storage address), so the count also works on the ``meta`` device, where
    a 96³ transformer costs no memory and little time to count.

    Args:
        model: any module.
        *inputs: its inputs, e.g. one (N, C, T, H, W) clip batch (the batch size is included).

    Returns:
        Bytes, a Python int.
    """
    total = 0

    def owner(t: torch.Tensor) -> torch.Tensor:
        return t if t._base is None else t._base  # a view's _base owns its memory

    def hook(module: torch.nn.Module, args: tuple, output: object) -> None:
        nonlocal total
        owners = [owner(a) for a in args if isinstance(a, torch.Tensor)]
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        for tensor in outputs:  # an in-place op returns its input, a view shares its input's memory: not new
            if isinstance(tensor, torch.Tensor) and not any(owner(tensor) is o for o in owners):
                total += tensor.nelement() * tensor.element_size()

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return int(total)


def best_time(fn: Callable[[], object], *, repeats: int = 5) -> float:
    """Shortest wall time of ``fn()`` over ``repeats`` calls, in seconds (``time.perf_counter``).

    The minimum, not the mean: other work on the machine only ever adds time, so the fastest call is
    the best estimate of the cost itself (the rule of Python's ``timeit``). Compare two timings taken
    the same way, on the same machine, one after the other.

    Args:
        fn: called with no arguments; its result is discarded.
        repeats: number of calls, >= 1.

    Returns:
        Seconds, a Python float >= 0.

    Raises:
        ValueError: ``repeats`` is not an integer >= 1.
    """
    if not isinstance(repeats, numbers.Integral) or isinstance(repeats, bool) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
