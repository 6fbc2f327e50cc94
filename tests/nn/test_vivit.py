"""ViViT: tubelet embedding against an explicit patchify + matmul and Hugging Face; the factorised encoder."""
import pytest
import torch
from transformers import VivitConfig, VivitModel

from course.nn.timesformer import TimeSformer
from course.nn.vivit import TubeletEmbedding, ViViT
from support import n_params, perturbed


def clips(n: int, c: int, t: int, h: int, w: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, c, t, h, w, generator=torch.Generator().manual_seed(seed))


# --- tubelet embedding -----------------------------------------------------------------------------------
@pytest.mark.parametrize("c, t, h, w, tubelet, d", [(2, 6, 10, 15, (3, 5, 5), 7), (3, 4, 12, 8, (2, 4, 2), 5),
                                                   (1, 3, 7, 7, (1, 7, 7), 4), (3, 5, 6, 9, (5, 3, 3), 6)])
def test_tubelet_embedding_is_patchify_then_matmul(c, t, h, w, tubelet, d):
    torch.manual_seed(0)
    embed = perturbed(TubeletEmbedding(tubelet, d, c))
    x = clips(2, c, t, h, w)
    kt, kh, kw = tubelet
    nt, nh, nw = t // kt, h // kh, w // kw
    # explicit: cut (N, C, T, H, W) into tubes, flatten each (C, kt, kh, kw), time-major token order
    tubes = x.reshape(2, c, nt, kt, nh, kh, nw, kw).permute(0, 2, 4, 6, 1, 3, 5, 7)  # (N, nt, nh, nw, C, kt, kh, kw)
    tubes = tubes.reshape(2, nt * nh * nw, c * kt * kh * kw)
    expected = tubes @ embed.proj.weight.reshape(d, -1).T + embed.proj.bias
    with torch.no_grad():
        tokens = embed(x)
    assert tokens.shape == (2, nt * nh * nw, d)
    assert embed.grid(t, h, w) == (nt, nh, nw)
    torch.testing.assert_close(tokens, expected, rtol=0, atol=1e-5)
    # token (i·nh + j)·nw + k depends on tube (i, j, k) only
    y = x.clone()
    y[:, :, kt * (nt - 1):, :kh, :kw] += 1.0  # the tube (nt − 1, 0, 0)
    with torch.no_grad():
        changed = (embed(y) - tokens).abs().amax(dim=(0, 2)) > 0
    assert changed.nonzero().flatten().tolist() == [(nt - 1) * nh * nw]


def test_tubelets_make_t_times_fewer_tokens_than_frame_patches():
    x = clips(1, 3, 8, 32, 32)
    tubelets = TubeletEmbedding((2, 8, 8), 16)(x)
    frames = TimeSformer(image_size=32, patch_size=8, num_frames=8, hidden_size=16, num_layers=1, num_heads=2,
                         attention_type="joint_space_time").embed(x)  # CLS + frame-wise patches
    assert tubelets.shape[1] == 4 * 4 * 4 and frames.shape[1] - 1 == 8 * 4 * 4 == 2 * tubelets.shape[1]


def test_tubelet_embedding_equals_hugging_face_vivit_embeddings():
    """Model 1 (joint): HF's CLS + tubelet tokens + position embeddings, from our TubeletEmbedding."""
    torch.manual_seed(0)
    config = VivitConfig(image_size=15, num_frames=6, tubelet_size=[3, 5, 5], hidden_size=12, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=8, num_channels=2)
    hf = perturbed(VivitModel(config, add_pooling_layer=False))
    embed = TubeletEmbedding((3, 5, 5), 12, in_channels=2)
    embed.proj.load_state_dict(hf.embeddings.patch_embeddings.projection.state_dict())
    x = clips(3, 2, 6, 15, 15)
    with torch.no_grad():
        theirs = hf.embeddings(x.transpose(1, 2))  # HF takes (N, T, C, H, W)
        tokens = embed(x)
        ours = torch.cat([hf.embeddings.cls_token.expand(3, 1, 12), tokens], 1) + hf.embeddings.position_embeddings
    assert theirs.shape == (3, 1 + 2 * 3 * 3, 12)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)


@pytest.mark.parametrize("tubelet", [(0, 4, 4), (2, 4), 2.0, (2, 4, True)])
def test_bad_tubelet_sizes_are_rejected(tubelet):
    with pytest.raises(ValueError, match="tubelet_size"):
        TubeletEmbedding(tubelet, 8)


def test_clip_sizes_must_divide_into_tubelets():
    with pytest.raises(ValueError, match="divisible by tubelet_size"):
        TubeletEmbedding((2, 4, 4), 8)(torch.zeros(1, 3, 5, 8, 8))
    with pytest.raises(ValueError, match="divisible by tubelet_size"):
        ViViT(image_size=10, num_frames=4, tubelet_size=(2, 4, 4), hidden_size=8, num_heads=2)


# --- the factorised encoder ------------------------------------------------------------------------------
def small_vivit(**kwargs) -> ViViT:
    torch.manual_seed(0)
    args = dict(image_size=(10, 15), num_frames=6, tubelet_size=(2, 5, 5), hidden_size=12, num_spatial_layers=2,
                num_temporal_layers=1, num_heads=3, intermediate_size=17)
    return perturbed(ViViT(**{**args, **kwargs}))


def test_shapes_and_token_counts():
    model = small_vivit(num_classes=4)
    assert model.grid_size == (3, 2, 3)
    x = clips(2, 3, 6, 10, 15)
    with torch.no_grad():
        assert model.spatial_tokens(x).shape == (2, 3, 12)     # one summary per time index
        assert model.forward_tokens(x).shape == (2, 1 + 3, 12)  # temporal CLS + n_t
        assert model(x).shape == (2, 4)
        assert small_vivit()(x).shape == (2, 12)
    assert model.pos_embed.shape == (1, 1 + 6, 12) and model.temporal_pos_embed.shape == (1, 1 + 3, 12)


def test_spatial_stage_sees_one_time_index_temporal_stage_sees_all():
    model = small_vivit()
    x = clips(1, 3, 6, 10, 15)
    y = x.clone()
    y[:, :, 2:4] += 1.0  # frames 2 and 3: time index 1 of tubelets 2 frames long
    with torch.no_grad():
        a, b = model.spatial_tokens(x), model.spatial_tokens(y)
        assert torch.equal(a[:, 0], b[:, 0]) and torch.equal(a[:, 2], b[:, 2])
        assert not torch.allclose(a[:, 1], b[:, 1], atol=1e-3)
        ta, tb = model.forward_tokens(x), model.forward_tokens(y)
    assert ((ta - tb).abs().amax(dim=2) > 1e-4).all()  # every temporal token changed


def test_spatial_stage_with_one_frame_tubelets_is_a_space_only_timesformer():
    """t = 1: each time index is a frame, and the spatial transformer is TimeSformer's space_only model."""
    vivit = small_vivit(tubelet_size=(1, 5, 5), num_frames=3)
    space_only = TimeSformer(image_size=(10, 15), patch_size=5, num_frames=3, hidden_size=12, num_layers=2,
                             num_heads=3, attention_type="space_only", intermediate_size=17).eval()
    state = {"patch_embed.weight": vivit.tubelet_embed.proj.weight[:, :, 0],
             "patch_embed.bias": vivit.tubelet_embed.proj.bias, "cls_token": vivit.cls_token,
             "pos_embed": vivit.pos_embed, "norm.weight": vivit.spatial_norm.weight,
             "norm.bias": vivit.spatial_norm.bias}
    state.update({f"blocks.{k}": v for k, v in vivit.spatial_blocks.state_dict().items()})
    space_only.load_state_dict({k: v.detach() for k, v in state.items()}, strict=True)
    x = clips(2, 3, 3, 10, 15)
    with torch.no_grad():
        torch.testing.assert_close(vivit.spatial_tokens(x), space_only.forward_tokens(x)[:, :, 0], rtol=0, atol=1e-5)


def test_parameter_count_against_hugging_face_joint_vivit():
    """Same blocks as HF's ViViT-B: the factorised encoder adds only its temporal CLS, positions and norm."""
    with torch.device("meta"):
        ours = ViViT()  # 12 spatial + 4 temporal layers
        joint = VivitModel(VivitConfig(num_hidden_layers=16), add_pooling_layer=False)
    n_t, n_s, d = 16, 14 * 14, 768
    # joint: one position per tubelet (+ CLS); factorised: 1 + n_s spatial, 1 + n_t temporal, + CLS, + a LayerNorm
    expected = n_params(joint) - d * (1 + n_t * n_s) + d * (1 + n_s) + d * (1 + n_t) + d + 2 * d
    assert n_params(ours) == expected


@pytest.mark.parametrize("shape", [(2, 3, 4, 10, 15), (2, 3, 6, 10, 10), (2, 1, 6, 10, 15), (2, 6, 3, 10, 15),
                                   (3, 6, 10, 15)])
def test_clips_of_the_wrong_shape_are_rejected(shape):
    with pytest.raises(ValueError, match=r"\(N, C=3, T, H, W\)|T×H×W"):
        small_vivit()(torch.zeros(shape))
