"""UNETR: a plain ViT encoder on 3D patches, tapped at four depths, decoded by a convolutional U.

Hatamizadeh, Tang, Nath, Yang, Myronenko, Landman, Roth, Xu 2022, "UNETR: Transformers for 3D
Medical Image Segmentation" (WACV). The volume is cut into non-overlapping 16 × 16 × 16 patches,
each a token; a ViT (12 pre-norm blocks, no CLS token) mixes all tokens globally; the hidden states
of four depths are folded back into (hidden, D/16, H/16, W/16) grids and brought up to 1/8, 1/4,
1/2 of the input size by stacks of 2 × 2 × 2 transposed convolutions, where a decoder of residual
conv blocks picks them up as skip connections, as a U-Net's decoder picks up its encoder's.

The layout is the one of ``monai.networks.nets.UNETR`` (MONAI 1.x, ``unetr.py``, ``unetr_block.py``,
``dynunet_block.py``, ``patchembedding.py``, ``transformerblock.py``, ``selfattention.py``), written
again here; ``load_monai_state_dict`` copies its weights and the outputs agree
(tests/nn/test_unetr.py). Two facts the paper's Fig. 2 hides and the code fixes:

- **Which depths.** MONAI (and the authors' BTCV code) take ``hidden_states_out[3]``, ``[6]``,
  ``[9]`` of the per-block outputs (counted from 0: blocks 4, 7 and 10 counted from 1; the paper
  labels them z3, z6, z9) and the last block's output **after** the final LayerNorm as z12.
  Generalised here to ``num_layers = L`` (a multiple of 4): indices L/4, L/2, 3L/4, then the normed
  output; L = 12 is MONAI's rule exactly.
- **Unused parameters.** MONAI ≥ 1.4 keeps one LayerNorm per block (``norm_cross_attn``) that its
  UNETR never calls (no cross-attention); this model has none, so MONAI counts
  2 · hidden_size · 12 parameters more (18,432 at hidden 768): ``monai_unused_params``.

    UNETR                 the network (layout (N, C, D, H, W); D, H, W = img_size, divisible by 16)
    unetr                 builder for CPU lessons: 32³ patches, hidden 96, feature 8, 12 layers
    load_monai_state_dict copy a MONAI UNETR's weights into ours; ``monai_state_dict`` the other way

Weights: position embeddings ``trunc_normal_(std=0.02)``, every other layer PyTorch's default, as MONAI.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

import torch
from torch import nn

from course.nn._checks import ntuple
from course.nn.attention import attention

__all__ = ["PatchEmbedding", "SelfAttention", "ViTBlock", "ViTEncoder", "ResBlock", "ProjectionUpBlock", "UpBlock",
           "UNETR", "unetr", "load_monai_state_dict", "monai_state_dict", "monai_unused_params"]

PATCH_SIZE = 16  # 4 up-steps of 2 in the decoder: only 16 brings every skip to its level's size


def monai_unused_params(hidden_size: int, num_layers: int = 12) -> int:
    """Parameters MONAI's UNETR holds but never uses: one LayerNorm (weight and bias) per ViT block.

    Args:
        hidden_size: the ViT width.
        num_layers: ViT blocks (MONAI's UNETR always has 12).

    Returns:
        2 · hidden_size · num_layers, a Python int.
    """
    return 2 * hidden_size * num_layers


def _norm(norm_name: str, channels: int) -> nn.Module:
    if norm_name == "instance":  # MONAI's "instance": no affine scale and shift, no running statistics
        return nn.InstanceNorm3d(channels)
    return nn.BatchNorm3d(channels)


def _up(in_channels: int, out_channels: int) -> nn.ConvTranspose3d:
    """2 × 2 × 2 transposed convolution, stride 2, no bias: doubles D, H and W."""
    return nn.ConvTranspose3d(in_channels, out_channels, 2, stride=2, bias=False)


class PatchEmbedding(nn.Module):
    """Non-overlapping p × p × p patches → tokens, plus learned position embeddings (ViT eq. 1, in 3D).

        x (N, C, D, H, W) → Conv3d(C → hidden, kernel = stride = p) → (N, hidden, D/p, H/p, W/p)
          → tokens (N, L, hidden), L = (D/p)(H/p)(W/p), token (d·H/p + h)·W/p + w → + position (1, L, hidden)
    """

    def __init__(self, in_channels: int, img_size: tuple[int, int, int], patch_size: int, hidden_size: int) -> None:
        super().__init__()
        num_patches = (img_size[0] // patch_size) * (img_size[1] // patch_size) * (img_size[2] // patch_size)
        self.patch_embeddings = nn.Conv3d(in_channels, hidden_size, patch_size, stride=patch_size)
        self.position_embeddings = nn.Parameter(torch.zeros(1, num_patches, hidden_size))
        nn.init.trunc_normal_(self.position_embeddings, std=0.02, a=-2.0, b=2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, D, H, W) → (N, L, hidden)."""
        x = self.patch_embeddings(x)  # (N, hidden, D/p, H/p, W/p)
        return x.flatten(2).transpose(1, 2) + self.position_embeddings  # (N, L, hidden)


class SelfAttention(nn.Module):
    """Multi-head self-attention: one fused qkv projection, :func:`course.nn.attention.attention`, out_proj.

    The qkv output features are (q, k, v) × (head) × (feature of the head), the order of MONAI's
    ``SABlock`` and of ``course.nn.timesformer``; the qkv projection has no bias by default (MONAI's).
    """

    def __init__(self, hidden_size: int, num_heads: int, qkv_bias: bool = False) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size, bias=qkv_bias)
        self.out_proj = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, hidden) → (N, L, hidden)."""
        N, L, E = x.shape
        qkv = self.qkv(x).reshape(N, L, 3, self.num_heads, E // self.num_heads)  # (N, L, 3, heads, E/heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (N, heads, L, E/heads)
        out = attention(q, k, v)  # (N, heads, L, E/heads)
        return self.out_proj(out.transpose(1, 2).reshape(N, L, E))  # (N, L, hidden)


class MLP(nn.Module):
    """Token-wise feed-forward: linear1 (hidden → mlp_dim) → GELU (exact) → linear2 (mlp_dim → hidden)."""

    def __init__(self, hidden_size: int, mlp_dim: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(hidden_size, mlp_dim)
        self.fn = nn.GELU()
        self.linear2 = nn.Linear(mlp_dim, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., hidden) → (..., hidden)."""
        return self.linear2(self.fn(self.linear1(x)))


class ViTBlock(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)) (Dosovitskiy et al. 2021, eq. 2–3).

    LayerNorms with PyTorch's default eps 1e-5, as MONAI's ``TransformerBlock``.
    """

    def __init__(self, hidden_size: int, mlp_dim: int, num_heads: int, qkv_bias: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden_size)
        self.attn = SelfAttention(hidden_size, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(hidden_size)
        self.mlp = MLP(hidden_size, mlp_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, hidden) → (N, L, hidden)."""
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViTEncoder(nn.Module):
    """Patch embedding → ``num_layers`` ViT blocks → LayerNorm; returns the normed tokens and every block's output."""

    def __init__(self, in_channels: int, img_size: tuple[int, int, int], patch_size: int, hidden_size: int,
                 mlp_dim: int, num_layers: int, num_heads: int, qkv_bias: bool = False) -> None:
        super().__init__()
        self.patch_embedding = PatchEmbedding(in_channels, img_size, patch_size, hidden_size)
        self.blocks = nn.ModuleList(ViTBlock(hidden_size, mlp_dim, num_heads, qkv_bias) for _ in range(num_layers))
        self.norm = nn.LayerNorm(hidden_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(N, C, D, H, W) → (normed tokens (N, L, hidden), [output of block i, (N, L, hidden)] for every i)."""
        x = self.patch_embedding(x)
        hidden_states = []
        for block in self.blocks:
            x = block(x)
            hidden_states.append(x)
        return self.norm(x), hidden_states


class ResBlock(nn.Module):
    """Residual conv block (MONAI's ``UnetResBlock``, nnU-Net's residual unit), size-preserving.

        x ─ conv1 3³ → norm1 → LeakyReLU(0.01) → conv2 3³ → norm2 ─(+)→ LeakyReLU(0.01)
        └─ (conv3 1³ → norm3, only when C_in ≠ C_out) ───────────────┘

    Convolutions without bias (a norm follows each).
    """

    def __init__(self, in_channels: int, out_channels: int, norm_name: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(in_channels, out_channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv3d(out_channels, out_channels, 3, padding=1, bias=False)
        self.lrelu = nn.LeakyReLU(0.01)
        self.norm1 = _norm(norm_name, out_channels)
        self.norm2 = _norm(norm_name, out_channels)
        if in_channels != out_channels:
            self.conv3 = nn.Conv3d(in_channels, out_channels, 1, bias=False)
            self.norm3 = _norm(norm_name, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, *S) → (N, C_out, *S)."""
        # 1. main path: two convs, each normalized, the first one activated
        out = self.lrelu(self.norm1(self.conv1(x)))  # (N, C_out, *S)
        out = self.norm2(self.conv2(out))
        # 2. shortcut: a 1³ projection when the channels change; add, then activate
        residual = self.norm3(self.conv3(x)) if hasattr(self, "conv3") else x
        return self.lrelu(out + residual)


class ProjectionUpBlock(nn.Module):
    """A ViT hidden state brought up to a skip's size: up-conv, then ``num_layer`` × (up-conv → ResBlock).

        z (N, hidden, *S) → transp_conv_init 2³ (hidden → C) → [up-conv 2³ → ResBlock(C → C)] × num_layer
          → (N, C, *S · 2^(1 + num_layer))

    MONAI's ``UnetrPrUpBlock`` with ``conv_block=True, res_block=True`` (UNETR's defaults).
    """

    def __init__(self, hidden_size: int, out_channels: int, num_layer: int, norm_name: str) -> None:
        super().__init__()
        self.transp_conv_init = _up(hidden_size, out_channels)
        self.blocks = nn.ModuleList(nn.Sequential(_up(out_channels, out_channels),
                                                  ResBlock(out_channels, out_channels, norm_name))
                                    for _ in range(num_layer))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, hidden, *S) → (N, C, *S · 2^(1 + num_layer))."""
        x = self.transp_conv_init(x)
        for block in self.blocks:
            x = block(x)
        return x


class UpBlock(nn.Module):
    """Decoder step: up-conv 2³ (C_in → C), concatenate the skip (C channels), ResBlock(2C → C) (``UnetrUpBlock``)."""

    def __init__(self, in_channels: int, out_channels: int, norm_name: str) -> None:
        super().__init__()
        self.transp_conv = _up(in_channels, out_channels)
        self.conv_block = ResBlock(2 * out_channels, out_channels, norm_name)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """x (N, C_in, *S), skip (N, C, *2S) → (N, C, *2S); the up-conv comes first in the concatenation."""
        return self.conv_block(torch.cat([self.transp_conv(x), skip], dim=1))


def _size3(img_size: int | Sequence[int]) -> tuple[int, int, int]:
    return ntuple(img_size, 3, "img_size", "(D, H, W)")  # type: ignore[return-value]


class UNETR(nn.Module):
    """UNETR (Hatamizadeh et al. 2022) on volumes (N, C, D, H, W) of one fixed size ``img_size``.

        x (N, C_in, D, H, W) ───────────────────────────── encoder1 ResBlock → F ──────────────── skip ─┐
        │ vit: 16³ patches → L = (D/16)(H/16)(W/16) tokens + positions → blocks 1 … 12                 │
        │   z3  = block 4 out  → fold (N, hidden, D/16, …) → encoder2: up ×3 → 2F at D/2 ────── skip ─┐  │
        │   z6  = block 7 out  → fold → encoder3: up ×2 → 4F at D/4 ──────────────────── skip ─┐      │  │
        │   z9  = block 10 out → fold → encoder4: up ×1 → 8F at D/8 ────────────── skip ─┐     │      │  │
        │   z12 = norm(block 12 out) → fold (N, hidden, D/16, H/16, W/16)                │     │      │  │
        │ decoder5: up-conv → 8F at D/8, cat skip → ResBlock(16F → 8F) ←──────────────────┘     │      │  │
        │ decoder4: up-conv → 4F at D/4, cat skip → ResBlock(8F → 4F)  ←────────────────────────┘      │  │
        │ decoder3: up-conv → 2F at D/2, cat skip → ResBlock(4F → 2F)  ←───────────────────────────────┘  │
        │ decoder2: up-conv → F at D,    cat skip → ResBlock(2F → F)   ←──────────────────────────────────┘
        │ out: conv 1³ (F → out_channels, with bias)
        ↓
        logits (N, out_channels, D, H, W)

    "up" is a 2³ transposed conv of stride 2 (no bias); in encoder2…4 every up-conv but the first is
    followed by a ResBlock (``ProjectionUpBlock``). F = ``feature_size``. Block numbers count from 1
    for ``num_layers = 12``; in general the taps are block outputs L/4, L/2, 3L/4 counted from 0
    (module docstring). Parameter names differ from MONAI's only where MONAI wraps a layer in a
    ``Convolution`` (``conv1.conv.weight`` → ``conv1.weight``): see ``load_monai_state_dict``.
    Paper configuration (in 1, out 14, 96³, F = 16, hidden 768): 92,784,046 parameters here,
    MONAI 1.x 92,802,478 (18,432 more: its unused LayerNorms); the paper reports 92.58M (≈ 92.6M),
    0.2M fewer than either (tests/nn/test_unetr.py prints the three).

    Args:
        in_channels: C_in, channels of the input (CT: 1; MRI sequences: 4).
        out_channels: classes, one logit each (background included).
        img_size: (D, H, W) the position embeddings are made for (int: a cube); each divisible by 16.
        feature_size: F, channels of the full-resolution level (16 in the paper).
        hidden_size: ViT width (768, ViT-Base).
        mlp_dim: hidden width of the MLPs (3072 = 4 · 768).
        num_heads: attention heads; must divide hidden_size.
        num_layers: ViT blocks; a multiple of 4 (12 in the paper and in MONAI, which fixes it).
        patch_size: must be 16: the decoder doubles the size four times.
        norm_name: "instance" (MONAI's default: InstanceNorm3d without affine) or "batch".
        qkv_bias: a bias in the qkv projection (MONAI's default False).

    Raises:
        ValueError: img_size not divisible by the patch size, hidden_size not divisible by num_heads,
            num_layers not a positive multiple of 4, another patch_size or norm_name; in ``forward``
            an input of another shape than (N, in_channels, *img_size).
    """

    def __init__(self, in_channels: int, out_channels: int, img_size: int | Sequence[int], *, feature_size: int = 16,
                 hidden_size: int = 768, mlp_dim: int = 3072, num_heads: int = 12, num_layers: int = 12,
                 patch_size: int = 16, norm_name: str = "instance", qkv_bias: bool = False) -> None:
        super().__init__()
        # 1. validate: sizes divisible by the patches, heads dividing the width, a decoder that fits
        img_size = _size3(img_size)
        if patch_size != PATCH_SIZE:
            raise ValueError(f"patch_size must be 16 (the decoder doubles the size 4 times), got {patch_size!r}")
        if any(s % patch_size for s in img_size):
            fixed = tuple(-(-s // patch_size) * patch_size for s in img_size)
            raise ValueError(f"img_size {img_size} must be divisible by patch_size {patch_size} on every axis; "
                             f"pad or crop the volume to e.g. {fixed}")
        if num_heads < 1 or hidden_size % num_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_heads ({num_heads}); pick "
                             f"num_heads in {[h for h in range(1, 17) if hidden_size % h == 0]}")
        if num_layers < 4 or num_layers % 4:
            raise ValueError(f"num_layers must be a positive multiple of 4 (taps at L/4, L/2, 3L/4), got {num_layers}")
        if norm_name not in ("instance", "batch"):
            raise ValueError(f"norm_name must be 'instance' or 'batch', got {norm_name!r}")
        self.in_channels, self.out_channels, self.img_size = in_channels, out_channels, img_size
        self.patch_size, self.hidden_size = patch_size, hidden_size
        self.feat_size = tuple(s // patch_size for s in img_size)  # (D/16, H/16, W/16)
        self.taps = (num_layers // 4, num_layers // 2, 3 * num_layers // 4)  # MONAI: (3, 6, 9)
        F = feature_size
        # 2. encoder: the ViT, and the full-resolution conv path
        self.vit = ViTEncoder(in_channels, img_size, patch_size, hidden_size, mlp_dim, num_layers, num_heads, qkv_bias)
        self.encoder1 = ResBlock(in_channels, F, norm_name)
        # 3. the three hidden-state skips: up ×3, ×2, ×1
        self.encoder2 = ProjectionUpBlock(hidden_size, 2 * F, 2, norm_name)
        self.encoder3 = ProjectionUpBlock(hidden_size, 4 * F, 1, norm_name)
        self.encoder4 = ProjectionUpBlock(hidden_size, 8 * F, 0, norm_name)
        # 4. decoder, bottom to top, and the 1³ head
        self.decoder5 = UpBlock(hidden_size, 8 * F, norm_name)
        self.decoder4 = UpBlock(8 * F, 4 * F, norm_name)
        self.decoder3 = UpBlock(4 * F, 2 * F, norm_name)
        self.decoder2 = UpBlock(2 * F, F, norm_name)
        self.out = nn.Conv3d(F, out_channels, 1)

    @staticmethod
    def fold(tokens: torch.Tensor, grid: Sequence[int]) -> torch.Tensor:
        """Tokens (N, L, hidden) → a feature grid (N, hidden, *grid) (the token order of ``PatchEmbedding``).

        Args:
            tokens: (N, L, hidden), L = grid[0] · grid[1] · grid[2].
            grid: (D/16, H/16, W/16), patches along each axis.
        """
        N, _, E = tokens.shape
        volume = tokens.reshape(N, *grid, E)  # (N, D/16, H/16, W/16, hidden)
        return volume.permute(0, 4, 1, 2, 3).contiguous()  # (N, hidden, D/16, H/16, W/16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels, D, H, W) with (D, H, W) = img_size → logits (N, out_channels, D, H, W)."""
        if x.dim() != 5 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.img_size:
            raise ValueError(f"expected (N, {self.in_channels}, {', '.join(map(str, self.img_size))}) (the position "
                             f"embeddings are made for img_size), got {tuple(x.shape)}; use sliding-window "
                             f"inference with roi_size = img_size for other sizes")
        # 1. transformer: normed last tokens and every block's output
        grid = tuple(s // self.patch_size for s in x.shape[2:])  # (D/16, H/16, W/16)
        last, hidden_states = self.vit(x)
        z3, z6, z9 = (self.fold(hidden_states[i], grid) for i in self.taps)  # each (N, hidden, D/16, H/16, W/16)
        # 2. skips at full, 1/2, 1/4, 1/8 resolution
        enc1 = self.encoder1(x)  # (N, F, D, H, W)
        enc2 = self.encoder2(z3)  # (N, 2F, D/2, H/2, W/2)
        enc3 = self.encoder3(z6)  # (N, 4F, D/4, H/4, W/4)
        enc4 = self.encoder4(z9)  # (N, 8F, D/8, H/8, W/8)
        # 3. decoder from z12 up
        dec3 = self.decoder5(self.fold(last, grid), enc4)  # (N, 8F, D/8, H/8, W/8)
        dec2 = self.decoder4(dec3, enc3)  # (N, 4F, D/4, H/4, W/4)
        dec1 = self.decoder3(dec2, enc2)  # (N, 2F, D/2, H/2, W/2)
        return self.out(self.decoder2(dec1, enc1))  # (N, out_channels, D, H, W)


def unetr(*, num_classes: int, img_size: int | Sequence[int] = (32, 32, 32), in_channels: int = 1,
          feature_size: int = 8, hidden_size: int = 96, mlp_dim: int = 384, num_heads: int = 4, num_layers: int = 12,
          **kwargs: object) -> UNETR:
    """A UNETR small enough to train on a CPU in a lesson: 32³ patches (8 tokens), hidden 96, F = 8.

    Keeps MONAI's 12 blocks and taps, so ``monai.networks.nets.UNETR(in_channels, num_classes, img_size,
    feature_size=8, hidden_size=96, mlp_dim=384, num_heads=4)`` has the same layout and its weights load.

    Args:
        num_classes: logits per voxel (background included).
        img_size: (D, H, W), each divisible by 16.
        in_channels: input channels.
        feature_size, hidden_size, mlp_dim, num_heads, num_layers: see ``UNETR``.
        **kwargs: ``patch_size``, ``norm_name``, ``qkv_bias`` of ``UNETR``.

    Returns:
        A ``UNETR`` (2,438,290 parameters at 1 in, 2 classes, the defaults; a training step on a batch
        of two 32³ patches takes ≈ 0.5 s on one CPU core pair).
    """
    return UNETR(in_channels, num_classes, img_size, feature_size=feature_size, hidden_size=hidden_size,
                 mlp_dim=mlp_dim, num_heads=num_heads, num_layers=num_layers, **kwargs)  # type: ignore[arg-type]


_RENAMES = [  # MONAI key pattern → ours (MONAI's Convolution wrappers and UnetrBasicBlock's .layer dropped)
    (r"^encoder1\.layer\.", "encoder1."),
    (r"^out\.conv\.conv\.", "out."),
    (r"\.conv\.(weight|bias)$", r".\1"),
]
_UNUSED = re.compile(r"^vit\.blocks\.\d+\.norm_cross_attn\.")


def load_monai_state_dict(model: UNETR, monai_state: Mapping[str, torch.Tensor]) -> None:
    """Copy the weights of a ``monai.networks.nets.UNETR`` (its ``state_dict()``) into ``model``.

    Renames MONAI's keys (``encoder1.layer.conv1.conv.weight`` → ``encoder1.conv1.weight``,
    ``out.conv.conv.weight`` → ``out.weight``, ``….conv.weight`` → ``….weight``), drops the unused
    ``norm_cross_attn`` LayerNorms, and loads strictly: every other key must match in name and shape.

    Args:
        model: a ``UNETR`` built with the MONAI model's sizes (its ``num_layers`` must be 12).
        monai_state: MONAI's state dict.

    Raises:
        RuntimeError: a missing or unexpected key, or a shape mismatch (from ``load_state_dict``).
    """
    renamed = {}
    for key, value in monai_state.items():
        if _UNUSED.match(key):
            continue
        for pattern, replacement in _RENAMES:
            key = re.sub(pattern, replacement, key)
        renamed[key] = value
    model.load_state_dict(renamed, strict=True)


def monai_state_dict(model: UNETR) -> dict[str, torch.Tensor]:
    """Our weights under MONAI's names, for ``monai_unetr.load_state_dict(...)`` (the unused LayerNorms at 1, 0).

    Args:
        model: a ``UNETR`` with 12 layers.

    Returns:
        A state dict with MONAI's keys.
    """
    state: dict[str, torch.Tensor] = {}
    for key, value in model.state_dict().items():
        if key.startswith("encoder1."):
            key = "encoder1.layer." + key[len("encoder1."):]
        if key.startswith("out."):
            key = "out.conv.conv." + key[len("out."):]
        elif re.search(r"(conv\d|transp_conv\w*|blocks\.\d+\.0)\.(weight|bias)$", key):
            key = re.sub(r"\.(weight|bias)$", r".conv.\1", key)
        state[key] = value
    for i in range(len(model.vit.blocks)):
        state[f"vit.blocks.{i}.norm_cross_attn.weight"] = torch.ones(model.hidden_size)
        state[f"vit.blocks.{i}.norm_cross_attn.bias"] = torch.zeros(model.hidden_size)
    return state
