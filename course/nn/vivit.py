"""ViViT: tubelet embedding and the factorised encoder (spatial transformer, then temporal transformer).

Arnab et al. 2021, "ViViT: A Video Vision Transformer" (ICCV). **Tubelet embedding** (Sec. 3.2,
Fig. 3): the clip is cut into non-overlapping t × p × p tubes, each linearly mapped to a D-vector;
this is a Conv3d with kernel = stride = (t, p, p). A clip (C, T, H, W) gives
n_t · n_h · n_w tokens, n_t = T / t, n_h = H / p, n_w = W / p: t times fewer than frame-wise patches.

**Model 2, the factorised encoder** (Sec. 3.3, Fig. 4): tokens interact first only within one time
index, then only across time, through their summaries:

    x (N, C, T, H, W) → tubelet_embed Conv3d(C → D, k = s = (t, p, p)) → (N, n_t, n_s, D), n_s = n_h·n_w
      spatial:  per time index, CLS + n_s tokens + pos_embed (1 + n_s)
                → spatial_blocks (ViT blocks on N·n_t sequences of 1 + n_s tokens) → spatial_norm
                → the CLS of each time index: (N, n_t, D)
      temporal: temporal CLS + n_t tokens + temporal_pos_embed (1 + n_t)
                → temporal_blocks (ViT blocks on N sequences of 1 + n_t tokens) → temporal_norm
                → CLS (N, D) → head Linear(D → num_classes) when num_classes is set

The blocks are the pre-norm ViT blocks of :mod:`course.nn.timesformer` (scaled-dot-product attention).
Its attention cost per clip is n_t · (1 + n_s)² (spatial) + (1 + n_t)² (temporal) score entries per
layer and head, against (1 + n_t · n_s)² for model 1 (joint attention over all tubelets, Hugging
Face's ``VivitModel``), whose tubelet embedding is the same Conv3d with tokens in the same
frame-major (time, row, column) order, the course's one token order (:mod:`course.nn.attention`,
:class:`course.nn.timesformer.TimeSformer`).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from course.nn._checks import ntuple, positive_int
from course.nn.timesformer import TransformerBlock, _pair, init_vit_weights

__all__ = ["TubeletEmbedding", "ViViT"]


def _triple(size: int | Sequence[int], name: str) -> tuple[int, int, int]:
    return ntuple(size, 3, name, "(t, h, w)")  # type: ignore[return-value]


class TubeletEmbedding(nn.Module):
    """Non-overlapping t × p_h × p_w tubes of a clip, each linearly mapped to D numbers.

        x (N, C, T, H, W) → Conv3d(C → D, kernel = stride = tubelet_size) → (N, D, n_t, n_h, n_w)
          → tokens (N, n_t · n_h · n_w, D), token (i·n_h + j)·n_w + k = tube (i, j, k): frame-major,
            the course's token order (:mod:`course.nn.attention`)

    Arnab et al. 2021, Sec. 3.2 ("Tubelet embedding"): equivalent to flattening each tube into a
    C·t·p_h·p_w vector and multiplying it by a (C·t·p_h·p_w) × D matrix, plus a bias.

    Args:
        tubelet_size: (t, p_h, p_w), or one int for all three.
        hidden_size: D.
        in_channels: C.

    Raises:
        ValueError: for a bad ``tubelet_size``; in forward, for T, H, W not divisible by it.
    """

    def __init__(self, tubelet_size: int | Sequence[int] = (2, 16, 16), hidden_size: int = 768,
                 in_channels: int = 3) -> None:
        super().__init__()
        self.tubelet_size = _triple(tubelet_size, "tubelet_size")
        self.proj = nn.Conv3d(in_channels, hidden_size, self.tubelet_size, stride=self.tubelet_size)

    def grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int]:
        """(n_t, n_h, n_w): tubelets along time, rows and columns.

        Raises:
            ValueError: if (T, H, W) is not divisible by ``tubelet_size``.
        """
        sizes = (num_frames, height, width)
        if any(s % k for s, k in zip(sizes, self.tubelet_size)):
            raise ValueError(f"clip size (T, H, W) = {sizes} must be divisible by tubelet_size {self.tubelet_size}; "
                             f"crop or sample frames so that it is")
        return tuple(s // k for s, k in zip(sizes, self.tubelet_size))  # type: ignore[return-value]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips (N, C, T, H, W) → tokens (N, n_t · n_h · n_w, D), frame-major (time index, row, column)."""
        if x.ndim != 5:
            raise ValueError(f"expected clips (N, C, T, H, W), got a tensor of shape {tuple(x.shape)}")
        self.grid(*x.shape[2:])
        return self.proj(x).flatten(2).transpose(1, 2)  # (N, D, n_t, n_h, n_w) → (N, L, D)


class ViViT(nn.Module):
    """ViViT with the factorised encoder (model 2) on clips (N, C, T, H, W): logits or the clip embedding.

    See the module docstring for the data flow. Defaults: ViViT-B (D = 768, 12 heads) on 32 frames of
    224 × 224, tubelets 2 × 16 × 16, 12 spatial and 4 temporal layers. Weights: ``trunc_normal_(std=0.02)``
    for linear, tubelet, CLS and position weights, zero biases, LayerNorm (1, 0).

    Args:
        image_size: frame size (H, W) the spatial position embeddings are made for (int: square).
        num_frames: T the temporal position embeddings are made for.
        tubelet_size: (t, p_h, p_w), or one int.
        hidden_size: D.
        num_spatial_layers: L_s, blocks of the spatial transformer.
        num_temporal_layers: L_t, blocks of the temporal transformer.
        num_heads: attention heads; must divide D.
        num_classes: size of the linear head; None: no head, the model returns embeddings.
        in_channels: C.
        intermediate_size: hidden width of the MLPs; None: 4·D.
        layer_norm_eps: epsilon of every LayerNorm.
        qkv_bias: bias of the qkv projections.

    Raises:
        ValueError: for sizes not divisible by the tubelet, or non-positive sizes.
    """

    def __init__(self, *, image_size: int | Sequence[int] = 224, num_frames: int = 32,
                 tubelet_size: int | Sequence[int] = (2, 16, 16), hidden_size: int = 768, num_spatial_layers: int = 12,
                 num_temporal_layers: int = 4, num_heads: int = 12, num_classes: int | None = None,
                 in_channels: int = 3, intermediate_size: int | None = None, layer_norm_eps: float = 1e-6,
                 qkv_bias: bool = True) -> None:
        super().__init__()
        image_size = _pair(image_size, "image_size")
        for name, value in [("num_frames", num_frames), ("hidden_size", hidden_size), ("in_channels", in_channels),
                            ("num_spatial_layers", num_spatial_layers), ("num_temporal_layers", num_temporal_layers)]:
            positive_int(value, name)
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"num_classes must be a positive int or None (no head), got {num_classes!r}")
        self.tubelet_embed = TubeletEmbedding(tubelet_size, hidden_size, in_channels)
        self.tubelet_size = self.tubelet_embed.tubelet_size
        self.grid_size = self.tubelet_embed.grid(num_frames, *image_size)  # (n_t, n_h, n_w)
        self.image_size, self.num_frames, self.in_channels = image_size, num_frames, in_channels
        self.hidden_size, self.num_classes = hidden_size, num_classes
        n_t, n_h, n_w = self.grid_size
        intermediate_size = 4 * hidden_size if intermediate_size is None else intermediate_size
        blocks = lambda n: nn.ModuleList(  # noqa: E731
            TransformerBlock(hidden_size, num_heads, intermediate_size, qkv_bias, layer_norm_eps) for _ in range(n))

        self.cls_token = nn.Parameter(torch.zeros(1, 1, hidden_size))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + n_h * n_w, hidden_size))
        self.spatial_blocks = blocks(num_spatial_layers)
        self.spatial_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.temporal_cls_token = nn.Parameter(torch.zeros(1, 1, hidden_size))
        self.temporal_pos_embed = nn.Parameter(torch.zeros(1, 1 + n_t, hidden_size))
        self.temporal_blocks = blocks(num_temporal_layers)
        self.temporal_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.head = nn.Linear(hidden_size, num_classes) if num_classes is not None else None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise every weight as described in the class docstring (uses the global torch RNG)."""
        init_vit_weights(self)
        for p in (self.cls_token, self.pos_embed, self.temporal_cls_token, self.temporal_pos_embed):
            nn.init.trunc_normal_(p, std=0.02)

    def _check_clip(self, x: torch.Tensor) -> None:
        if x.ndim != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected clips (N, C={self.in_channels}, T, H, W), got shape {tuple(x.shape)}; "
                             f"a (N, T, C, H, W) batch needs x.transpose(1, 2) first")
        T, H, W = x.shape[2:]
        if (T, H, W) != (self.num_frames, *self.image_size):
            raise ValueError(f"clips must be T×H×W = {self.num_frames}×{self.image_size[0]}×{self.image_size[1]} "
                             f"(the position embeddings are made for it), got {T}×{H}×{W}")

    def spatial_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """The spatial transformer's summary of each time index: its CLS after ``spatial_norm``.

        Args:
            x: clips (N, C, T, H, W), float, of the model's size.

        Returns:
            (N, n_t, D): row i depends only on frames i·t … i·t + t − 1.

        Raises:
            ValueError: for clips of another shape than the model's.
        """
        self._check_clip(x)
        N = x.shape[0]
        n_t, n_h, n_w = self.grid_size
        # 1. tubelets, grouped by time index
        tokens = self.tubelet_embed(x)  # (N, n_t·n_s, D)
        D = tokens.shape[-1]
        tokens = tokens.reshape(N * n_t, n_h * n_w, D)  # (N·n_t, n_s, D)
        # 2. spatial transformer, one sequence per time index
        cls = self.cls_token.expand(N * n_t, 1, D)
        tokens = torch.cat([cls, tokens], dim=1) + self.pos_embed  # (N·n_t, 1 + n_s, D)
        for block in self.spatial_blocks:
            tokens = block(tokens)
        # 3. keep the CLS of each time index
        return self.spatial_norm(tokens[:, 0]).reshape(N, n_t, D)  # (N, n_t, D)

    def forward_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """All tokens of the temporal transformer after ``temporal_norm``: (N, 1 + n_t, D), CLS first."""
        frames = self.spatial_tokens(x)  # (N, n_t, D)
        N, _, D = frames.shape
        # 4. temporal transformer over the per-index summaries
        tokens = torch.cat([self.temporal_cls_token.expand(N, 1, D), frames], dim=1) + self.temporal_pos_embed
        for block in self.temporal_blocks:
            tokens = block(tokens)
        return self.temporal_norm(tokens)  # (N, 1 + n_t, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips (N, C, T, H, W) → logits (N, num_classes), or the (N, D) temporal CLS when num_classes is None."""
        embedding = self.forward_tokens(x)[:, 0]  # (N, D)
        return embedding if self.head is None else self.head(embedding)
