"""Attention from scratch against torch's SDPA, nn.MultiheadAttention, conv2d/conv3d and Hugging Face's TimeSformer."""
import math

import pytest
import torch
import torch.nn.functional as F

from course.nn.attention import (attention, attention_score_count, divided_space_time_attention,
                                 joint_space_time_attention, multi_head_attention, patch_embedding,
                                 tubelet_embedding)


def _weights(D: int, g: torch.Generator, dtype=torch.float64, bias: bool = True):
    def r(*s):
        return torch.randn(*s, generator=g, dtype=dtype) / math.sqrt(s[-1])

    return r(3 * D, D), (r(3 * D) if bias else None), r(D, D), (r(D) if bias else None)


# --- attention ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape_q, S, dv", [((3, 7), 5, 11), ((2, 3, 5, 6), 9, 4), ((1, 1, 1), 1, 1),
                                            ((2, 4, 13, 8), 13, 8)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_attention_equals_sdpa(shape_q, S, dv, dtype):
    g = torch.Generator().manual_seed(0)
    *batch, L, d = shape_q
    q = torch.randn(*batch, L, d, generator=g, dtype=dtype)
    k = torch.randn(*batch, S, d, generator=g, dtype=dtype)
    v = torch.randn(*batch, S, dv, generator=g, dtype=dtype)
    tol = {"atol": 1e-12, "rtol": 1e-10} if dtype == torch.float64 else {"atol": 1e-5, "rtol": 1e-5}
    torch.testing.assert_close(attention(q, k, v), F.scaled_dot_product_attention(q, k, v), **tol)


def test_attention_with_boolean_and_float_masks_equals_sdpa():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 7, 5, generator=g, dtype=torch.float64) for _ in range(3))
    causal = torch.ones(7, 7, dtype=torch.bool).tril()  # broadcast over batch and heads
    torch.testing.assert_close(attention(q, k, v, causal), F.scaled_dot_product_attention(q, k, v, attn_mask=causal))
    torch.testing.assert_close(attention(q, k, v, causal), F.scaled_dot_product_attention(q, k, v, is_causal=True))
    bias = torch.randn(2, 1, 7, 7, generator=g, dtype=torch.float64)
    torch.testing.assert_close(attention(q, k, v, bias), F.scaled_dot_product_attention(q, k, v, attn_mask=bias))


def test_attention_rows_are_weighted_means_of_the_values():
    g = torch.Generator().manual_seed(2)
    q, k = torch.randn(4, 3, generator=g), torch.randn(6, 3, generator=g)
    v = torch.ones(6, 2)  # any convex combination of ones is one
    torch.testing.assert_close(attention(q, k, v), torch.ones(4, 2))
    # with identical keys every query weights the values equally: the plain mean
    v = torch.randn(6, 2, generator=g)
    torch.testing.assert_close(attention(q, torch.zeros(6, 3), v), v.mean(0).expand(4, 2))


@pytest.mark.parametrize("q, k, v", [(torch.zeros(5), torch.zeros(5, 3), torch.zeros(5, 3)),
                                     (torch.zeros(4, 3), torch.zeros(5, 2), torch.zeros(5, 3)),
                                     (torch.zeros(4, 3), torch.zeros(5, 3), torch.zeros(6, 3))])
def test_attention_rejects_mismatched_shapes(q, k, v):
    with pytest.raises(ValueError):
        attention(q, k, v)


# --- multi-head attention ----------------------------------------------------------------------------
@pytest.mark.parametrize("N, L, D, h, bias", [(2, 7, 12, 3, True), (1, 5, 10, 5, False), (3, 1, 6, 1, True),
                                              (2, 11, 16, 4, True)])
def test_multi_head_attention_equals_torch_module(N, L, D, h, bias):
    torch.manual_seed(3)
    mha = torch.nn.MultiheadAttention(D, h, bias=bias, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # nonzero biases, so a mixed-up bias shows
        if bias:
            mha.in_proj_bias.normal_()
            mha.out_proj.bias.normal_()
    x = torch.randn(N, L, D, dtype=torch.float64)
    expected, _ = mha(x, x, x)
    got = multi_head_attention(x, mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias, h)
    torch.testing.assert_close(got, expected)


def test_multi_head_attention_heads_are_independent_slices():
    """Head j sees only features j·D/h ... of q, k, v: with block weights, one head's input never moves another's."""
    g = torch.Generator().manual_seed(4)
    D, h = 8, 2
    x = torch.randn(2, 5, D, generator=g, dtype=torch.float64)
    eye = torch.eye(D, dtype=torch.float64)
    out = multi_head_attention(x, torch.cat([eye, eye, eye]), None, eye, None, h)
    for j in range(h):
        part = x[..., j * 4:(j + 1) * 4]
        torch.testing.assert_close(out[..., j * 4:(j + 1) * 4], F.scaled_dot_product_attention(part, part, part))


@pytest.mark.parametrize("x, h, in_w", [(torch.zeros(5, 6), 2, torch.zeros(18, 6)),
                                        (torch.zeros(1, 5, 6), 4, torch.zeros(18, 6)),
                                        (torch.zeros(1, 5, 6), 2, torch.zeros(12, 6))])
def test_multi_head_attention_rejects_bad_inputs(x, h, in_w):
    with pytest.raises(ValueError):
        multi_head_attention(x, in_w, None, torch.zeros(6, 6), None, h)


# --- embeddings --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("clip_shape, w_shape", [((2, 3, 6, 10, 15), (7, 3, 2, 5, 3)),
                                                 ((1, 1, 5, 9, 9), (4, 1, 1, 3, 3)),
                                                 ((3, 2, 8, 8, 8), (5, 2, 4, 4, 4)),
                                                 ((1, 3, 3, 7, 7), (2, 3, 3, 7, 7))])
@pytest.mark.parametrize("bias", [True, False])
def test_tubelet_embedding_equals_conv3d_with_kernel_equal_to_stride(clip_shape, w_shape, bias):
    g = torch.Generator().manual_seed(5)
    clip = torch.randn(clip_shape, generator=g, dtype=torch.float64)
    weight = torch.randn(w_shape, generator=g, dtype=torch.float64)
    b = torch.randn(w_shape[0], generator=g, dtype=torch.float64) if bias else None
    expected = F.conv3d(clip, weight, b, stride=w_shape[2:]).flatten(2).transpose(1, 2)  # (N, T'H'W', D)
    torch.testing.assert_close(tubelet_embedding(clip, weight, b), expected)


def test_tubelet_tokens_are_frame_major():
    clip = torch.zeros(1, 1, 4, 4, 6)
    clip[0, 0, 3, 2, 4] = 1.0  # frame 3, row 2, column 4 -> tube (1, 1, 2) of a (2, 2, 2) tubelet
    tokens = tubelet_embedding(clip, torch.ones(1, 1, 2, 2, 2))  # T' = 2, H' = 2, W' = 3
    assert tokens.shape == (1, 12, 1)
    assert tokens[0, :, 0].nonzero().flatten().tolist() == [(1 * 2 + 1) * 3 + 2]


def test_patch_embedding_equals_conv2d_on_every_frame():
    g = torch.Generator().manual_seed(6)
    clip = torch.randn(2, 3, 5, 12, 9, generator=g, dtype=torch.float64)
    weight = torch.randn(7, 3, 4, 3, generator=g, dtype=torch.float64)
    b = torch.randn(7, generator=g, dtype=torch.float64)
    frames = clip.transpose(1, 2).flatten(0, 1)  # (N·T, C, H, W)
    per_frame = F.conv2d(frames, weight, b, stride=(4, 3)).flatten(2).transpose(1, 2)  # (N·T, P, D)
    torch.testing.assert_close(patch_embedding(clip, weight, b), per_frame.reshape(2, 5 * 9, 7))  # P = 3·3


@pytest.mark.parametrize("clip_shape, w_shape", [((1, 3, 5, 8, 8), (4, 3, 2, 4, 4)),  # T not divisible
                                                 ((1, 3, 4, 9, 8), (4, 3, 2, 4, 4)),  # H not divisible
                                                 ((1, 2, 4, 8, 8), (4, 3, 2, 4, 4)),  # channels differ
                                                 ((3, 4, 8, 8), (4, 3, 2, 4, 4))])    # no batch axis
def test_tubelet_embedding_rejects_bad_sizes(clip_shape, w_shape):
    with pytest.raises(ValueError):
        tubelet_embedding(torch.zeros(clip_shape), torch.zeros(w_shape))


# --- joint and divided space-time attention -------------------------------------------------------------
def _hf_layer(D: int, h: int, T: int, ph: int, pw: int, attention_type: str):
    """A Hugging Face TimesformerLayer reduced to its attention part: no layer norms, no MLP, no temporal_dense."""
    from transformers import TimesformerConfig
    from transformers.models.timesformer.modeling_timesformer import TimesformerLayer

    config = TimesformerConfig(image_size=ph * 4, patch_size=4, num_frames=T, hidden_size=D, num_attention_heads=h,
                               intermediate_size=2 * D, attention_type=attention_type, qkv_bias=True)
    layer = TimesformerLayer(config, 0).double().eval()
    layer.layernorm_before = torch.nn.Identity()
    if attention_type == "divided_space_time":
        layer.temporal_layernorm = torch.nn.Identity()
        layer.temporal_dense = torch.nn.Identity()
    with torch.no_grad():
        layer.output.dense.weight.zero_()  # the MLP adds exactly 0
        layer.output.dense.bias.zero_()
        for p in layer.parameters():
            if p.dim() == 1 and p.abs().sum() == 0 and p is not layer.output.dense.bias:
                p.normal_()  # nonzero attention biases
    assert ph == pw  # HF reads the patch grid from image_size
    return layer


def _attn_weights(module):
    return (module.attention.qkv.weight, module.attention.qkv.bias,
            module.output.dense.weight, module.output.dense.bias)


def _to_patch_major(x, T, P):
    """Frame-major tokens (CLS, t, p) -> Hugging Face's patch-major tokens (CLS, p, t)."""
    N, _, D = x.shape
    return torch.cat([x[:, :1], x[:, 1:].reshape(N, T, P, D).transpose(1, 2).reshape(N, P * T, D)], dim=1)


@pytest.mark.parametrize("N, T, side, D, h", [(2, 3, 3, 8, 2), (1, 5, 2, 12, 3), (3, 1, 2, 6, 1)])
def test_divided_attention_equals_hugging_face_timesformer_layer(N, T, side, D, h):
    torch.manual_seed(7)
    layer = _hf_layer(D, h, T, side, side, "divided_space_time")
    P = side * side
    x = torch.randn(N, 1 + T * P, D, dtype=torch.float64)
    with torch.no_grad():
        expected = layer(_to_patch_major(x, T, P))[0]
        got = divided_space_time_attention(x, T, _attn_weights(layer.temporal_attention),
                                           _attn_weights(layer.attention), h)
    torch.testing.assert_close(_to_patch_major(got, T, P), expected)


def test_joint_attention_equals_hugging_face_timesformer_layer():
    torch.manual_seed(8)
    N, T, side, D, h = 2, 3, 2, 8, 2
    layer = _hf_layer(D, h, T, side, side, "joint_space_time")
    x = torch.randn(N, 1 + T * side * side, D, dtype=torch.float64)
    with torch.no_grad():
        expected = layer(x)[0]  # joint attention does not depend on the token order
        got = joint_space_time_attention(x, _attn_weights(layer.attention), h)
    torch.testing.assert_close(got, expected)


def _torch_mha(weights, D, h):
    in_w, in_b, out_w, out_b = weights
    mha = torch.nn.MultiheadAttention(D, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(in_w), mha.in_proj_bias.copy_(in_b)
        mha.out_proj.weight.copy_(out_w), mha.out_proj.bias.copy_(out_b)
    return lambda seq: mha(seq, seq, seq)[0]


@torch.no_grad()
def test_divided_attention_equals_loops_over_patches_and_frames():
    """Time attention patch by patch, space attention frame by frame (CLS copied in), CLS = mean over frames."""
    g = torch.Generator().manual_seed(9)
    N, T, P, D, h = 2, 4, 3, 6, 2
    x = torch.randn(N, 1 + T * P, D, generator=g, dtype=torch.float64)
    tw, sw = _weights(D, g), _weights(D, g)
    time, space = _torch_mha(tw, D, h), _torch_mha(sw, D, h)
    patches = x[:, 1:].reshape(N, T, P, D)
    after_time = torch.stack([patches[:, :, p] + time(patches[:, :, p]) for p in range(P)], dim=2)  # (N, T, P, D)
    frames = [space(torch.cat([x[:, :1], after_time[:, t]], dim=1)) for t in range(T)]  # each (N, 1 + P, D)
    got = divided_space_time_attention(x, T, tw, sw, h)
    torch.testing.assert_close(got[:, 0], x[:, 0] + torch.stack([f[:, 0] for f in frames]).mean(0))
    for t in range(T):
        torch.testing.assert_close(got[:, 1 + t * P:1 + (t + 1) * P], after_time[:, t] + frames[t][:, 1:])


def test_divided_attention_with_one_patch_per_frame_and_no_time_mixing():
    """P = 1 and zero time weights: the time step adds only the output bias, and space mixes CLS with one patch."""
    g = torch.Generator().manual_seed(10)
    D = 4
    x = torch.randn(1, 1 + 3, D, generator=g, dtype=torch.float64)
    zero = (torch.zeros(3 * D, D, dtype=torch.float64), None, torch.zeros(D, D, dtype=torch.float64), None)
    torch.testing.assert_close(divided_space_time_attention(x, 3, zero, zero, 2), x)


@pytest.mark.parametrize("shape, T", [((2, 10, 4), 4), ((2, 4, 4), 4), ((10, 4), 3), ((2, 7, 4), 0)])
def test_divided_attention_rejects_bad_token_counts(shape, T):
    with pytest.raises(ValueError):
        divided_space_time_attention(torch.zeros(shape), T, _weights(4, torch.Generator()),
                                     _weights(4, torch.Generator()), 2)


# --- score counts ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("T, P", [(1, 1), (8, 196), (3, 5), (16, 49)])
def test_attention_score_count_equals_the_score_tensors(T, P):
    """Count the entries of every Q·Kᵀ that the functions above build, by recording the softmax inputs."""
    D = 2
    x = torch.zeros(1, 1 + T * P, D)
    w = (torch.zeros(3 * D, D), None, torch.zeros(D, D), None)
    sizes = []

    class Record(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is torch.softmax:
                sizes.append(args[0].numel())
            return func(*args, **(kwargs or {}))

    if T * P > 400:  # too big to build: check the formula against its definition instead
        assert attention_score_count(T, P, "joint_space_time") == (1 + T * P) ** 2
        return
    with Record():
        joint_space_time_attention(x, w, 1)
    assert sum(sizes) == attention_score_count(T, P, "joint_space_time")
    sizes.clear()
    with Record():
        divided_space_time_attention(x, T, w, w, 1)
    assert sum(sizes) == attention_score_count(T, P, "divided_space_time")
    assert attention_score_count(T, P, "space_only") == T * (1 + P) ** 2


def test_divided_grows_slower_than_joint():
    P = 16
    ratios = [attention_score_count(T, P, "joint_space_time") / attention_score_count(T, P, "divided_space_time")
              for T in (1, 2, 4, 8, 16, 32)]
    assert all(b > a for a, b in zip(ratios, ratios[1:]))
    assert ratios[-1] > 10


@pytest.mark.parametrize("args", [(0, 4, "joint_space_time"), (4, 2.0, "space_only"), (4, 4, "divided"),
                                  (True, 4, "space_only")])
def test_attention_score_count_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        attention_score_count(*args)


# --- the graded exercises cannot call torch's attention ---------------------------------------------------------
@pytest.mark.parametrize("name", ["attention", "multi_head_attention", "divided_space_time_attention"])
def test_exercises_reject_torch_attention_whatever_the_entry_point(name):
    """The lesson asks for attention from scratch: SDPA and nn.MultiheadAttention are caught at the dispatcher."""
    from autograder.student.check import evaluate
    from autograder.exercises import find_exercise

    ex = find_exercise(name)

    def sdpa(q, k, v, mask=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    def mha_module(x, in_weight, in_bias, out_weight, out_bias, num_heads):
        N, L, D = x.shape
        mha = torch.nn.MultiheadAttention(D, num_heads, bias=in_bias is not None, batch_first=True,
                                          dtype=x.dtype).eval()
        with torch.no_grad():
            mha.in_proj_weight.copy_(in_weight)
            mha.out_proj.weight.copy_(out_weight)
            if in_bias is not None:
                mha.in_proj_bias.copy_(in_bias)
                mha.out_proj.bias.copy_(out_bias)
            return mha(x, x, x, need_weights=False)[0]

    def divided_with_mha(x, num_frames, time_weights, space_weights, num_heads):
        N, L, D = x.shape
        T, P = num_frames, (L - 1) // num_frames
        cls, patches = x[:, :1], x[:, 1:]
        xt = patches.reshape(N, T, P, D).transpose(1, 2).reshape(N * P, T, D)
        xt = (xt + mha_module(xt, *time_weights, num_heads)).reshape(N, P, T, D).transpose(1, 2).reshape(N * T, P, D)
        ys = mha_module(torch.cat([cls.expand(N, T, D).reshape(N * T, 1, D), xt], dim=1), *space_weights, num_heads)
        return torch.cat([cls + ys[:, 0].reshape(N, T, D).mean(1, keepdim=True), (xt + ys[:, 1:]).reshape(N, -1, D)], 1)

    cheat = {"attention": sdpa, "multi_head_attention": mha_module, "divided_space_time_attention": divided_with_mha}
    verdict = evaluate(ex, cheat[name], ex.cases())
    assert not verdict.ok and "uses aten." in verdict.reason, verdict.text()
    assert any(op in verdict.reason for op in ("scaled_dot_product", "safe_softmax", "multi_head")), verdict.text()
    assert evaluate(ex, ex.load_reference(), ex.cases()).ok


def test_attention_score_count_agrees_with_the_timesformer_cost_module():
    from course.nn.attention_cost import attention_scores

    for T in (1, 4, 8, 16):
        for kind in ("joint_space_time", "divided_space_time", "space_only"):
            assert attention_score_count(T, 49, kind) == attention_scores(T, 49, kind, cls_token=True)
