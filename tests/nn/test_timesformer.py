"""TimeSformer against Hugging Face transformers: weights copied, outputs equal; counts; one-frame reduction."""
import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode
from transformers import (TimesformerConfig, TimesformerForVideoClassification, TimesformerModel, ViTConfig,
                          ViTModel)

from course.nn.attention_cost import attention_flops, attention_scores
from course.nn.attention import patch_embedding
from course.nn.timesformer import (ATTENTION_TYPES, POSITION_INITS, DividedSpaceTimeBlock, TimeSformer, TransformerBlock,
                                   tokens_from_hf)
from support import n_params, perturbed

# odd sizes: 20×20 frames, 4-pixel patches (P = 25), 3 frames, D = 24, 2 heads, MLP width 37
SMALL = dict(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_hidden_layers=2, num_attention_heads=2,
             intermediate_size=37)


def clips(n: int = 2, c: int = 3, t: int = 3, h: int = 20, w: int = 20, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, c, t, h, w, generator=torch.Generator().manual_seed(seed))


# --- parameter counts --------------------------------------------------------------------------------
@pytest.mark.parametrize("attention_type, expected", [("divided_space_time", 121_258_752),
                                                      ("joint_space_time", 85_804_800),
                                                      ("space_only", 85_798_656)])
def test_default_parameter_counts_equal_hugging_face(attention_type, expected):
    with torch.device("meta"):
        ours = TimeSformer(attention_type=attention_type)
        theirs = TimesformerModel(TimesformerConfig(attention_type=attention_type))
    assert n_params(ours) == n_params(theirs) == expected


def test_head_adds_d_times_k_plus_k():
    with torch.device("meta"):
        assert n_params(TimeSformer(num_classes=400)) - n_params(TimeSformer()) == 768 * 400 + 400


# --- equality with Hugging Face ------------------------------------------------------------------------
@pytest.mark.parametrize("attention_type", ATTENTION_TYPES)
@pytest.mark.parametrize("qkv_bias", [True, False])
def test_from_hf_backbone_gives_the_same_tokens(attention_type, qkv_bias):
    torch.manual_seed(0)
    hf = perturbed(TimesformerModel(TimesformerConfig(**SMALL, attention_type=attention_type, qkv_bias=qkv_bias)))
    ours = TimeSformer.from_hf(hf)
    x = clips()
    with torch.no_grad():
        theirs = hf(pixel_values=x.transpose(1, 2)).last_hidden_state  # HF takes (N, T, C, H, W)
        tokens = ours.forward_tokens(x)
        embedding = ours(x)
    if attention_type == "space_only":  # HF: one sequence per frame, rows n·T + t
        assert tokens.shape == (2, 3, 1 + 25, 24)
        theirs = theirs.reshape(2, 3, 1 + 25, 24)
        torch.testing.assert_close(embedding, theirs[:, :, 0].mean(1), rtol=0, atol=1e-5)
    else:  # HF: patch-major tokens; ours frame-major, the same numbers once reordered
        assert tokens.shape == (2, 1 + 25 * 3, 24)
        torch.testing.assert_close(embedding, theirs[:, 0], rtol=0, atol=1e-5)
        theirs = tokens_from_hf(theirs, 3)
    torch.testing.assert_close(tokens, theirs, rtol=0, atol=1e-5)
    assert ours.head is None and embedding.shape == (2, 24)


@pytest.mark.parametrize("attention_type", ATTENTION_TYPES)
def test_from_hf_classifier_gives_the_same_logits(attention_type):
    torch.manual_seed(0)
    hf = perturbed(TimesformerForVideoClassification(
        TimesformerConfig(**SMALL, attention_type=attention_type, num_labels=5, layer_norm_eps=1e-5)), seed=2)
    ours = TimeSformer.from_hf(hf)
    x = clips(n=3, seed=3)
    with torch.no_grad():
        theirs = hf(pixel_values=x.transpose(1, 2)).logits
        logits = ours(x)
    if attention_type == "space_only":  # HF classifies each frame; we average the T frame logits
        theirs = theirs.reshape(3, 3, 5).mean(1)
    assert logits.shape == (3, 5)
    torch.testing.assert_close(logits, theirs, rtol=0, atol=1e-5)
    assert ours.norm.eps == 1e-5


def test_from_hf_classifier_without_labels_gives_embeddings():
    torch.manual_seed(0)
    hf = perturbed(TimesformerForVideoClassification(TimesformerConfig(**SMALL, num_labels=0)))
    ours = TimeSformer.from_hf(hf)
    x = clips()
    with torch.no_grad():
        theirs = hf(pixel_values=x.transpose(1, 2)).logits  # the identity "classifier": the CLS embedding
        assert ours.head is None
        torch.testing.assert_close(ours(x), theirs, rtol=0, atol=1e-5)


def test_from_hf_copies_rather_than_shares_and_detects_a_changed_weight():
    torch.manual_seed(0)
    hf = perturbed(TimesformerModel(TimesformerConfig(**SMALL)))
    ours = TimeSformer.from_hf(hf)
    x = clips()
    with torch.no_grad():
        # change one output feature: a shift of all features would vanish in the final LayerNorm
        hf.encoder.layer[1].temporal_dense.weight[0].add_(0.5)
        theirs = tokens_from_hf(hf(pixel_values=x.transpose(1, 2)).last_hidden_state, 3)
        assert (ours.forward_tokens(x) - theirs).abs().max() > 1e-2


@pytest.mark.parametrize("change, match", [
    (dict(hidden_act="gelu_new"), "hidden_act"),
    (dict(hidden_act="relu"), "hidden_act"),
    (dict(image_size=(20, 20)), "image_size"),
])
def test_from_hf_rejects_unsupported_configs(change, match):
    with pytest.raises(ValueError, match=match):
        TimeSformer.from_hf(TimesformerModel(TimesformerConfig(**{**SMALL, **change})))


def test_from_hf_rejects_other_models():
    vit = ViTModel(ViTConfig(hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8,
                             image_size=8, patch_size=4))
    with pytest.raises(ValueError, match="Timesformer"):
        TimeSformer.from_hf(vit)


# --- input checks and shapes ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, match", [
    ((2, 3, 4, 20, 20), "num_frames=3"),      # wrong T
    ((2, 3, 3, 24, 20), "20×20"),              # wrong frame size
    ((2, 3, 3, 21, 21), "20×20"),
    ((2, 1, 3, 20, 20), "channels"),          # wrong C
    ((2, 3, 3, 20, 20, 1), r"\(N, C, T, H, W\)"),
    ((3, 20, 20), r"\(N, C, T, H, W\)"),
])
def test_clips_of_the_wrong_shape_are_rejected(shape, match):
    model = TimeSformer(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=1, num_heads=2)
    with pytest.raises(ValueError, match=match):
        model(torch.zeros(shape))


def test_n_t_c_h_w_input_gets_a_message_about_the_layout():
    model = TimeSformer(image_size=20, patch_size=4, num_frames=4, hidden_size=24, num_layers=1, num_heads=2)
    with pytest.raises(ValueError, match="transpose"):
        model(torch.zeros(2, 4, 3, 20, 20))  # (N, T, C, H, W) instead of (N, C, T, H, W)


@pytest.mark.parametrize("attention_type", ["divided_space_time", "joint_space_time"])
def test_tokens_are_frame_major_as_in_the_lesson_functions(attention_type):
    """One token order in the course: embed() equals the lesson's patch_embedding (token 1 + t·P + i)."""
    torch.manual_seed(0)
    model = TimeSformer(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=1, num_heads=2,
                        attention_type=attention_type, position_init="trunc_normal")
    x = clips()
    with torch.no_grad():
        tokens = model.embed(x)  # (N, 1 + T·P, D)
        patches = patch_embedding(x, model.patch_embed.weight, model.patch_embed.bias)  # (N, T·P, D), frame-major
        expected = (patches.reshape(2, 3, 25, 24) + model.pos_embed[:, None, 1:] + model.time_embed[:, :, None])
    torch.testing.assert_close(tokens[:, 1:], expected.reshape(2, 75, 24), rtol=0, atol=1e-5)
    torch.testing.assert_close(tokens[:, 0], (model.cls_token + model.pos_embed[:, :1])[:, 0].expand(2, 24))
    # frame t of a clip changes exactly the tokens 1 + t·P … (t + 1)·P
    y = x.clone()
    y[:, :, 1] += 1.0
    with torch.no_grad():
        changed = (model.embed(y) - tokens).abs().amax(-1)[0] > 0  # (1 + T·P,)
    assert changed.nonzero().flatten().tolist() == list(range(1 + 25, 1 + 50))


def test_tokens_from_hf_is_the_inverse_of_the_patch_major_order():
    x = torch.arange(2 * (1 + 4 * 3) * 1, dtype=torch.float32).reshape(2, 13, 1)  # T = 3 frames of P = 4
    frame_major = tokens_from_hf(x, 3)
    # HF's token 1 + i·T + t (patch i, frame t) goes to 1 + t·P + i
    for t in range(3):
        for i in range(4):
            assert frame_major[0, 1 + t * 4 + i, 0] == x[0, 1 + i * 3 + t, 0]
    assert torch.equal(frame_major[:, 0], x[:, 0])
    assert torch.equal(tokens_from_hf(x, 1), x)
    for bad in [(torch.zeros(2, 13), 3), (x, 5), (x, 0)]:
        with pytest.raises(ValueError, match="num_frames"):
            tokens_from_hf(*bad)


def test_space_only_accepts_any_number_of_frames():
    model = TimeSformer(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=1, num_heads=2,
                        attention_type="space_only", num_classes=4).eval()
    for t in (1, 5):
        assert model(clips(t=t)).shape == (2, 4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(attention_type="axial"), "attention_type"),
    (dict(hidden_size=25), "divisible by num_heads"),
    (dict(image_size=21), "divisible by patch_size"),
    (dict(num_frames=0), "num_frames"),
    (dict(num_classes=0), "num_classes"),
])
def test_bad_configurations_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimeSformer(**{**dict(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=1,
                              num_heads=2), **kwargs})


def test_non_square_frames_and_patches():
    model = TimeSformer(image_size=(12, 20), patch_size=(3, 4), num_frames=2, hidden_size=16, num_layers=1,
                        num_heads=2, num_classes=3).eval()
    assert model.grid_size == (4, 5) and model.num_patches == 20
    assert model.forward_tokens(clips(t=2, h=12, w=20)).shape == (2, 1 + 20 * 2, 16)
    assert model(clips(t=2, h=12, w=20)).shape == (2, 3)


def test_blocks_and_initialisation():
    torch.manual_seed(0)
    model = TimeSformer(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=3, num_heads=2)
    assert all(isinstance(b, DividedSpaceTimeBlock) for b in model.blocks)
    assert torch.equal(model.time_embed, torch.zeros(1, 3, 24))
    assert model.blocks[0].temporal_fc.weight.abs().sum() > 0  # the first block's time branch is on
    for block in model.blocks[1:]:  # the others start at zero (TimeSformer's initialisation)
        assert not block.temporal_fc.weight.any() and not block.temporal_fc.bias.any()
    assert 0.015 < model.pos_embed.std() < 0.025 and 0.015 < model.blocks[0].mlp.fc1.weight.std() < 0.025
    assert not model.blocks[0].mlp.fc1.bias.any()
    joint = TimeSformer(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=2, num_heads=2,
                        attention_type="joint_space_time")
    assert all(type(b) is TransformerBlock for b in joint.blocks)
    assert TimeSformer(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=2, num_heads=2,
                       attention_type="space_only").time_embed is None


@pytest.mark.parametrize("attention_type", ["divided_space_time", "joint_space_time"])
def test_position_init_changes_only_the_time_embeddings(attention_type):
    torch.manual_seed(0)
    zeros = TimeSformer(image_size=20, patch_size=4, num_frames=5, hidden_size=96, num_layers=1, num_heads=2,
                        attention_type=attention_type, num_classes=3)
    torch.manual_seed(0)
    drawn = TimeSformer(image_size=20, patch_size=4, num_frames=5, hidden_size=96, num_layers=1, num_heads=2,
                        attention_type=attention_type, num_classes=3, position_init="trunc_normal")
    with torch.device("meta"):
        hf = TimesformerModel(TimesformerConfig(attention_type=attention_type))
        for init in POSITION_INITS:  # same parameters as Hugging Face's model whatever the initialisation
            assert n_params(TimeSformer(attention_type=attention_type, position_init=init)) == n_params(hf)
    assert zeros.position_init == "zeros" and not zeros.time_embed.any()
    assert 0.015 < drawn.time_embed.std() < 0.025 and abs(drawn.time_embed.mean()) < 0.005
    assert len(set(drawn.time_embed[0].sum(1).tolist())) == 5  # five different frame codes
    same = {k: v for k, v in zeros.state_dict().items() if k != "time_embed"}
    for key, value in drawn.state_dict().items():  # the other weights are those of the default draw
        if key in same:
            assert torch.equal(value, same[key]), key


@pytest.mark.parametrize("attention_type", ["divided_space_time", "joint_space_time"])
def test_without_time_embeddings_the_model_is_blind_to_frame_order(attention_type):
    """Zero time embeddings: attention permutes with its tokens and the CLS output ignores the frame order."""
    x = clips(n=2, t=5)
    shuffled = x[:, :, [3, 0, 4, 2, 1]]
    for init, blind in [("zeros", True), ("trunc_normal", False)]:
        torch.manual_seed(0)
        model = TimeSformer(image_size=20, patch_size=4, num_frames=5, hidden_size=24, num_layers=2, num_heads=2,
                            attention_type=attention_type, num_classes=3, position_init=init).eval()
        with torch.no_grad():
            if attention_type == "divided_space_time":  # switch on the second block's time branch too
                model.blocks[1].temporal_fc.weight.normal_(std=0.02)
            difference = (model(x) - model(shuffled)).abs().max()
        assert (difference < 1e-6) if blind else (difference > 1e-4), (init, difference)


def test_unknown_position_init_is_rejected():
    with pytest.raises(ValueError, match="position_init"):
        TimeSformer(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=1, num_heads=2,
                    position_init="sinusoidal")


def test_frames_mix_only_when_attention_crosses_time():
    x = clips(n=1, t=3)
    y = x.clone()
    y[:, :, 2] += 1.0  # change the last frame only
    for attention_type in ATTENTION_TYPES:
        torch.manual_seed(0)
        model = perturbed(TimeSformer(image_size=20, patch_size=4, num_frames=3, hidden_size=24, num_layers=2,
                                      num_heads=2, attention_type=attention_type))
        with torch.no_grad():
            a, b = model.forward_tokens(x), model.forward_tokens(y)
        if attention_type == "space_only":  # frames 0 and 1 are untouched
            assert torch.equal(a[:, :2], b[:, :2]) and not torch.allclose(a[:, 2], b[:, 2])
        else:  # frame 0 is tokens 1 … 25 (frame-major); it sees frame 2
            assert not torch.allclose(a[:, 1:26], b[:, 1:26], atol=1e-4)


# --- one frame: divided attention reduces to a spatial ViT ------------------------------------------------
def vit_from(model: TimeSformer) -> ViTModel:
    """A Hugging Face ViT (no pooler) holding the spatial weights of our model."""
    block = model.blocks[0]
    config = ViTConfig(hidden_size=model.hidden_size, num_hidden_layers=len(model.blocks),
                       num_attention_heads=block.attn.num_heads, intermediate_size=block.mlp.fc1.out_features,
                       image_size=model.image_size[0], patch_size=model.patch_size[0], layer_norm_eps=1e-6,
                       hidden_act="gelu", qkv_bias=True)
    vit = ViTModel(config, add_pooling_layer=False).eval()
    state = {"embeddings.cls_token": model.cls_token, "embeddings.position_embeddings": model.pos_embed,
             "embeddings.patch_embeddings.projection.weight": model.patch_embed.weight,
             "embeddings.patch_embeddings.projection.bias": model.patch_embed.bias,
             "layernorm.weight": model.norm.weight, "layernorm.bias": model.norm.bias}
    v5 = "layers.0.attention.q_proj.weight" in vit.state_dict()  # transformers 5 renamed the layer weights
    names = ["attention.{}_proj", "attention.o_proj", "mlp.fc1", "mlp.fc2"] if v5 else \
        ["attention.attention.{}", "attention.output.dense", "intermediate.dense", "output.dense"]
    for i, b in enumerate(model.blocks):
        prefix = f"layers.{i}." if v5 else f"encoder.layer.{i}."
        qkv = "qkv" if v5 else ("query", "key", "value")
        for name, w, bias in zip(qkv, b.attn.qkv.weight.chunk(3), b.attn.qkv.bias.chunk(3)):
            key = prefix + names[0].format(name)
            state[key + ".weight"], state[key + ".bias"] = w, bias
        for theirs, mine in [(names[1], b.attn.proj), (names[2], b.mlp.fc1), (names[3], b.mlp.fc2),
                             ("layernorm_before", b.norm1), ("layernorm_after", b.norm2)]:
            state[prefix + theirs + ".weight"], state[prefix + theirs + ".bias"] = mine.weight, mine.bias
    vit.load_state_dict({k: v.detach() for k, v in state.items()}, strict=True)
    return vit


def test_one_frame_divided_without_time_branch_is_a_vit():
    """T = 1 with temporal_fc = 0 and no time embedding: exactly ViT (and our space_only) on the frame."""
    torch.manual_seed(0)
    divided = perturbed(TimeSformer(image_size=20, patch_size=4, num_frames=1, hidden_size=24, num_layers=2,
                                    num_heads=2))
    with torch.no_grad():
        for block in divided.blocks:
            block.temporal_fc.weight.zero_()
            block.temporal_fc.bias.zero_()
        divided.time_embed.zero_()
    space_only = TimeSformer(image_size=20, patch_size=4, num_frames=1, hidden_size=24, num_layers=2, num_heads=2,
                             attention_type="space_only").eval()
    missing, unexpected = space_only.load_state_dict(divided.state_dict(), strict=False)
    assert not missing and all("temporal" in k or k == "time_embed" for k in unexpected)
    x = clips(t=1)
    with torch.no_grad():
        tokens = divided.forward_tokens(x)  # (N, 1 + P, D)
        vit_tokens = vit_from(divided)(pixel_values=x[:, :, 0]).last_hidden_state
        torch.testing.assert_close(tokens, vit_tokens, rtol=0, atol=1e-5)
        torch.testing.assert_close(tokens, space_only.forward_tokens(x)[:, 0], rtol=0, atol=1e-5)


def test_one_frame_temporal_attention_is_a_token_wise_affine_map():
    """With T = 1 the softmax over one key is 1: the time branch is temporal_fc(proj(W_v·LN(x) + b_v)).

    So the query and key weights of the temporal attention do not matter, the branch still adds a
    learned affine function of each patch token, and the time embedding of frame 0 is a constant shift.
    """
    torch.manual_seed(0)
    block = perturbed(DividedSpaceTimeBlock(24, 2, 37))
    x = torch.randn(2, 1 + 25, 24, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        out = block(x, num_frames=1)
        # 1. query and key weights are irrelevant
        block.temporal_attn.qkv.weight[:48].normal_()
        block.temporal_attn.qkv.bias[:48].normal_()
        torch.testing.assert_close(block(x, num_frames=1), out, rtol=0, atol=1e-6)
        # 2. the block equals: patches + affine(LN(patches)), then a ViT block
        wv, bv = block.temporal_attn.qkv.weight[48:], block.temporal_attn.qkv.bias[48:]
        value = F.linear(block.temporal_norm(x[:, 1:]), wv, bv)
        time_branch = block.temporal_fc(block.temporal_attn.proj(value))
        vit_block = TransformerBlock(24, 2, 37)
        vit_block.load_state_dict({k: v for k, v in block.state_dict().items() if "temporal" not in k})
        expected = vit_block(torch.cat([x[:, :1], x[:, 1:] + time_branch], 1))
        torch.testing.assert_close(block(x, num_frames=1), expected, rtol=0, atol=1e-5)
        assert time_branch.abs().max() > 0.1  # the branch is not zero: it does not vanish by itself


# --- attention cost -----------------------------------------------------------------------------------------------
def sdpa_bmm_flops(module, *args) -> int:
    """FLOPs of the batched matrix products (attention) of a forward pass, SDPA run by its math kernel."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
        module(*args)
    return int(counter.get_flop_counts()["Global"].get(torch.ops.aten.bmm, 0))


def test_flop_counter_sees_no_fused_cpu_attention():
    """Why the other tests use the math kernel: the fused CPU kernel is invisible to FlopCounterMode."""
    q = torch.randn(1, 2, 7, 4)
    with FlopCounterMode(display=False) as counter:
        F.scaled_dot_product_attention(q, q, q)
    assert counter.get_total_flops() == 0
    assert sdpa_bmm_flops(F.scaled_dot_product_attention, q, q, q) == 2 * 2 * 7 * 7 * 8


@pytest.mark.parametrize("t, grid, d, heads", [(3, (5, 5), 24, 2), (4, (3, 7), 12, 3), (1, (2, 3), 8, 1)])
def test_attention_flops_equal_flop_counter_on_one_layer(t, grid, d, heads):
    n = grid[0] * grid[1]
    x = torch.randn(1, 3, t, 4 * grid[0], 4 * grid[1])
    for attention_type in ATTENTION_TYPES:
        model = TimeSformer(image_size=(4 * grid[0], 4 * grid[1]), patch_size=4, num_frames=t, hidden_size=d,
                            num_layers=1, num_heads=heads, attention_type=attention_type)
        with torch.no_grad():
            tokens = model.embed(x)
        block = model.blocks[0]
        measured = sdpa_bmm_flops(block, tokens, t) if attention_type == "divided_space_time" else \
            sdpa_bmm_flops(block, tokens)
        assert measured == attention_flops(t, n, d, attention_type, cls_token=True)


@pytest.mark.parametrize("t, n, d", [(3, 5, 8), (8, 196, 768), (2, 1, 4)])
def test_attention_flops_without_cls_match_raw_attention_calls(t, n, d):
    def attend(length: int, batch: int) -> int:
        q = torch.zeros(batch, 1, length, d)
        return sdpa_bmm_flops(F.scaled_dot_product_attention, q, q, q)

    if t * n <= 2000:
        assert attention_flops(t, n, d, "joint_space_time") == attend(t * n, 1)
    assert attention_flops(t, n, d, "divided_space_time") == attend(t, n) + attend(n, t)
    assert attention_flops(t, n, d, "space_only") == attend(n, t)


def test_divided_grows_far_slower_in_t_than_joint():
    n, d = 196, 768
    joint = [attention_flops(t, n, d, "joint_space_time") for t in (8, 16)]
    divided = [attention_flops(t, n, d, "divided_space_time") for t in (8, 16)]
    assert joint[1] == 4 * joint[0]  # quadratic in T
    assert 2 * divided[0] < divided[1] < 2.1 * divided[0]  # about linear while T ≪ N
    assert attention_scores(8, 196, "joint_space_time") / attention_scores(8, 196, "divided_space_time") > 7


@pytest.mark.parametrize("args", [(0, 4, 8, "joint_space_time"), (3, 4, 8, "axial"), (3, 4, 0, "space_only"),
                                  (3, 2.0, 8, "space_only")])
def test_attention_flops_rejects_bad_input(args):
    with pytest.raises(ValueError):
        attention_flops(*args)


# --- GPU: the fused kernels give the same numbers ----------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("attention_type", ATTENTION_TYPES)
def test_cuda_fused_attention_matches_cpu(attention_type):
    torch.manual_seed(0)
    model = perturbed(TimeSformer(image_size=32, patch_size=8, num_frames=4, hidden_size=64, num_layers=2,
                                  num_heads=4, attention_type=attention_type, num_classes=7))
    x = clips(t=4, h=32, w=32)
    with torch.no_grad():
        expected = model(x)
        got = model.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
