"""TimeSformer: a Vision Transformer for clips, with joint, divided or space-only attention.

Bertasius, Wang and Torresani 2021, "Is Space-Time Attention All You Need for Video Understanding?"
(ICML). A clip of T frames is cut, frame by frame, into P = (H / p) · (W / p) patches of p × p
pixels; each patch becomes one token of D numbers (a Conv2d with kernel = stride = p, shared by all
frames). One CLS token is prepended; learned space (per patch position) and time (per frame)
position embeddings are added. Three kinds of layer then mix the T · P tokens:

    joint_space_time     every token attends to all 1 + T·P tokens              cost ∝ (T·P)²
    divided_space_time   time: each patch position attends over its T frames   cost ∝ P·T²
                         then space: each frame's P patches (+ a copy of CLS)    + T·P²
    space_only           each frame is its own image (its own CLS), no time embedding;
                         the clip's embedding is the average over frames

A divided layer (the paper's "T+S", its best model), with x = (CLS, patch tokens):

    patches (N, T·P, D) → (N·P, T, D): per patch position, its T frames
      temporal_norm → temporal_attn over T → temporal_fc ──(+) to the patches
      ↓ (N·T, 1 + P, D): per frame, a copy of CLS + its P patches
      norm1 → attn over 1 + P (per frame) ──(+) to the patches; CLS gets the mean over frames
      ↓ (N, 1 + T·P, D)
      norm2 → mlp (fc1 → GELU → fc2) ──(+)

Joint and space-only layers are plain pre-norm ViT blocks (norm1 → attn ─(+), norm2 → mlp ─(+)).
The computation matches Hugging Face ``transformers``' ``TimesformerModel`` layer for layer
(:meth:`TimeSformer.from_hf` copies its weights), with one exception for space_only: there
Hugging Face returns one CLS per frame and leaves the pooling to the user; we average the per-frame
CLS embeddings after the final norm, which averages the per-frame logits (the original code averages
the tokens before the final norm).

**One frame** (T = 1): temporal attention over a single token has one softmax weight, 1, so it
returns that token's value: the time branch becomes the token-wise affine map
temporal_fc(proj(W_v · temporal_norm(x) + b_v)), independent of the query and key weights; the
mean over one CLS copy is the copy itself. A divided layer is then a ViT layer after that extra
residual map, and exactly a ViT layer (our space_only layer, Hugging Face's ``ViTLayer``) when
``temporal_fc`` is zero, as TimeSformer initialises every block but the first. The time embedding of
the one frame is a constant added to every patch token (tests/nn/test_timesformer.py checks both).

**Token order**: the course's one order (:mod:`course.nn.attention`, :mod:`course.nn.vivit`): the
CLS token first, then the patch tokens **frame-major**, all P patches of frame 0 row by row, then
those of frame 1, …: token 1 + t·P + i is patch i of frame t, and ``tokens[:, 1:].reshape(N, T, P, D)``
gives (clip, frame, patch, feature). The original code and Hugging Face's port store the patches
patch-major (token 1 + i·T + t). The order changes no weight: the space embeddings are indexed by
patch position and the time embeddings by frame, whatever the order. It changes only which reshapes
the divided layer uses and the order of the output tokens, so :meth:`TimeSformer.from_hf` copies the
weights unchanged and :func:`tokens_from_hf` reorders Hugging Face's ``last_hidden_state`` once
(CLS and logits are equal as they are).

Attention is computed by ``torch.nn.functional.scaled_dot_product_attention``, which picks a fused
kernel (flash / memory-efficient) on GPU. Note that on CPU ``torch.utils.flop_counter`` does not count
the fused CPU kernel: count FLOPs under ``torch.nn.attention.sdpa_kernel(SDPBackend.MATH)`` (see
:mod:`course.nn.attention_cost`).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course.nn._checks import ntuple, positive_int
from course.nn.attention import ATTENTION_TYPES

__all__ = [
    "ATTENTION_TYPES",
    "POSITION_INITS",
    "init_vit_weights",
    "MultiHeadSelfAttention",
    "MLP",
    "TransformerBlock",
    "DividedSpaceTimeBlock",
    "TimeSformer",
    "tokens_from_hf",
]

POSITION_INITS = ("zeros", "trunc_normal")


def _pair(size: int | Sequence[int], name: str) -> tuple[int, int]:
    return ntuple(size, 2, name, "(height, width)")  # type: ignore[return-value]


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention with one fused qkv projection, computed by SDPA.

        x (B, L, D) → qkv (B, L, 3·D) → q, k, v (B, heads, L, D / heads)
          → softmax(q kᵀ / √(D / heads)) v → (B, L, D) → proj → (B, L, D)

    Vaswani et al. 2017, "Attention Is All You Need", eq. 1; the layout of ``qkv`` (q, k, v stacked
    along the output features, heads inside each) is the one of the TimeSformer and ViT code.

    Args:
        hidden_size: D.
        num_heads: heads; D must be divisible by it.
        qkv_bias: whether the qkv projection has a bias (the output projection always has one).

    Raises:
        ValueError: if D is not divisible by ``num_heads``.
    """

    def __init__(self, hidden_size: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        if num_heads < 1 or hidden_size % num_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_heads ({num_heads}); "
                             f"pick e.g. num_heads in {[h for h in range(1, 17) if hidden_size % h == 0]}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size, bias=qkv_bias)
        self.proj = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) tokens → (B, L, D): every token attends to all L tokens of its sequence."""
        B, L, D = x.shape
        qkv = self.qkv(x).view(B, L, 3, self.num_heads, D // self.num_heads)  # (B, L, 3, heads, hd)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, L, hd)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, L, hd)
        return self.proj(out.transpose(1, 2).reshape(B, L, D))  # (B, L, D)


class MLP(nn.Module):
    """The transformer's token-wise feed-forward network: fc1 (D → D_ff) → GELU (exact) → fc2 (D_ff → D)."""

    def __init__(self, hidden_size: int, intermediate_size: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(hidden_size, intermediate_size)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(intermediate_size, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) → (..., D)."""
        return self.fc2(self.act(self.fc1(x)))


class TransformerBlock(nn.Module):
    """A pre-norm ViT block: x + attn(norm1(x)), then x + mlp(norm2(x)). Used for joint and space-only.

    Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words", eq. 2–3.

    Args:
        hidden_size: D.
        num_heads: attention heads.
        intermediate_size: hidden width of the MLP (4·D in ViT-Base).
        qkv_bias: bias of the qkv projection.
        layer_norm_eps: epsilon of the LayerNorms.
    """

    def __init__(self, hidden_size: int, num_heads: int, intermediate_size: int, qkv_bias: bool = True,
                 layer_norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.attn = MultiHeadSelfAttention(hidden_size, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.mlp = MLP(hidden_size, intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) → (B, L, D)."""
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DividedSpaceTimeBlock(nn.Module):
    """TimeSformer's divided space-time block: temporal attention, then spatial attention, then MLP.

    Bertasius et al. 2021, Sec. 3 ("Divided Space-Time Attention", eq. 6–8, Fig. 1): each patch first
    attends to the patches at the same position in the T frames, then to the patches of its own
    frame. The CLS token takes no part in the temporal step; in the spatial step every frame gets a
    copy of it, and the T attention outputs of the copies are averaged. The temporal output goes
    through an extra linear layer ``temporal_fc`` before its residual addition (in the original code;
    not in the paper's equations).

    Args:
        hidden_size: D.
        num_heads: attention heads (both attentions).
        intermediate_size: hidden width of the MLP.
        qkv_bias: bias of the qkv projections.
        layer_norm_eps: epsilon of the LayerNorms.
    """

    def __init__(self, hidden_size: int, num_heads: int, intermediate_size: int, qkv_bias: bool = True,
                 layer_norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.temporal_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.temporal_attn = MultiHeadSelfAttention(hidden_size, num_heads, qkv_bias)
        self.temporal_fc = nn.Linear(hidden_size, hidden_size)
        self.norm1 = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.attn = MultiHeadSelfAttention(hidden_size, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.mlp = MLP(hidden_size, intermediate_size)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """(N, 1 + T·P, D) tokens (CLS, then frame-major patches: token 1 + t·P + i) → (N, 1 + T·P, D).

        Raises:
            ValueError: if the L − 1 patch tokens are not a multiple of ``num_frames``.
        """
        N, L, D = x.shape
        T = num_frames
        if T < 1 or (L - 1) % T:
            raise ValueError(f"{L - 1} patch tokens cannot be split into num_frames={T} frames")
        P = (L - 1) // T
        cls, patches = x[:, :1], x[:, 1:]  # (N, 1, D), (N, T·P, D)
        # 1. time: the T tokens of one patch position form one sequence
        xt = self.temporal_norm(patches).reshape(N, T, P, D).transpose(1, 2).reshape(N * P, T, D)  # (N·P, T, D)
        xt = self.temporal_fc(self.temporal_attn(xt))  # (N·P, T, D)
        patches = patches + xt.reshape(N, P, T, D).transpose(1, 2).reshape(N, T * P, D)  # back to frame-major
        # 2. space: the P tokens of one frame, with a copy of CLS, form one sequence
        xs = torch.cat([cls.expand(N, T, D).reshape(N * T, 1, D), patches.reshape(N * T, P, D)], dim=1)  # (N·T, 1 + P, D)
        ys = self.attn(self.norm1(xs))  # (N·T, 1 + P, D)
        cls = cls + ys[:, :1].reshape(N, T, D).mean(dim=1, keepdim=True)  # average the T copies
        patches = patches + ys[:, 1:].reshape(N, T * P, D)
        # 3. MLP on every token
        x = torch.cat([cls, patches], dim=1)  # (N, 1 + T·P, D)
        return x + self.mlp(self.norm2(x))


@torch.no_grad()
def init_vit_weights(model: nn.Module) -> None:
    """ViT's initialisation of every layer: truncated normal (std 0.02) weights and zero biases for
    linear layers and patch/tubelet convolutions, ones and zeros for layer norms (Dosovitskiy et al.
    2021; the original TimeSformer and ViViT code use the same)."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.Conv3d)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class TimeSformer(nn.Module):
    """TimeSformer (ViT-Base by default) on clips (N, C, T, H, W): logits, or the CLS embedding.

        x (N, C, T, H, W) → per frame: patch_embed Conv2d(C → D, k = s = p) → (N, T, P, D)
          + CLS token, + pos_embed (space, 1 + P), + time_embed (T; not for space_only)
          → num_layers blocks (divided / joint: one sequence of 1 + T·P tokens per clip, frame-major;
                              space_only: one sequence of 1 + P tokens per frame)
          → norm (LayerNorm) → CLS token (space_only: mean over frames of the per-frame CLS)
          → (N, D) embedding → head Linear(D → num_classes) when num_classes is set

    Bertasius et al. 2021 (see the module docstring). At the defaults (ViT-Base/16, 8 frames of
    224 × 224) the backbone has 121,258,752 parameters with divided attention, 85,804,800 with joint
    and 85,798,656 space-only, the counts of Hugging Face's ``TimesformerModel``.

    Weights are initialised as in the TimeSformer code: ``trunc_normal_(std=0.02)`` for the linear,
    patch, CLS and space-position weights (cut at ±2, i.e. 100 σ: in effect a normal), zero biases and
    time embeddings, LayerNorm (1, 0), and ``temporal_fc`` zero in every divided block but the first, so
    that these blocks start by adding nothing from time. With ``position_init="trunc_normal"`` the time
    embeddings are drawn like the space ones (``trunc_normal_(std=0.02)``, as ViT and ViViT do): the
    frames then differ from the first step on, which a small model trained briefly needs to tell a
    clip from the same clip played backwards (attention alone is blind to the order of its tokens).

    Args:
        image_size: frame size (H, W) the space position embeddings are made for (int: square).
        patch_size: p (int) or (p_h, p_w); the frame size must be divisible by it.
        num_frames: T the time embeddings are made for (any T is accepted by space_only).
        hidden_size: D, token width.
        num_layers: number of blocks.
        num_heads: attention heads; must divide D.
        attention_type: "divided_space_time", "joint_space_time" or "space_only".
        num_classes: size of the linear head; None: no head, the model returns embeddings.
        in_channels: C (3 for RGB).
        intermediate_size: hidden width of the MLPs; None: 4·D.
        layer_norm_eps: epsilon of every LayerNorm.
        qkv_bias: bias of the qkv projections.
        position_init: initialisation of the time embeddings: "zeros" (TimeSformer's and Hugging
            Face's) or "trunc_normal" (std 0.02, like the space embeddings). Space embeddings are
            always ``trunc_normal_(std=0.02)``; the parameters are the same either way.

    Raises:
        ValueError: for an unknown attention type or position_init, sizes that do not divide, or
            non-positive sizes.
    """

    def __init__(self, *, image_size: int | Sequence[int] = 224, patch_size: int | Sequence[int] = 16,
                 num_frames: int = 8, hidden_size: int = 768, num_layers: int = 12, num_heads: int = 12,
                 attention_type: str = "divided_space_time", num_classes: int | None = None,
                 in_channels: int = 3, intermediate_size: int | None = None, layer_norm_eps: float = 1e-6,
                 qkv_bias: bool = True, position_init: str = "zeros") -> None:
        super().__init__()
        if attention_type not in ATTENTION_TYPES:
            raise ValueError(f"attention_type must be one of {ATTENTION_TYPES}, got {attention_type!r}")
        if position_init not in POSITION_INITS:
            raise ValueError(f"position_init must be one of {POSITION_INITS}, got {position_init!r}")
        self.position_init = position_init
        self.image_size = _pair(image_size, "image_size")
        self.patch_size = _pair(patch_size, "patch_size")
        if any(s % q for s, q in zip(self.image_size, self.patch_size)):
            raise ValueError(f"image_size {self.image_size} must be divisible by patch_size {self.patch_size}")
        for name, value in [("num_frames", num_frames), ("hidden_size", hidden_size), ("num_layers", num_layers),
                            ("in_channels", in_channels)]:
            positive_int(value, name)
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"num_classes must be a positive int or None (no head), got {num_classes!r}")
        self.grid_size = (self.image_size[0] // self.patch_size[0], self.image_size[1] // self.patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.num_frames = num_frames
        self.hidden_size = hidden_size
        self.in_channels = in_channels
        self.attention_type = attention_type
        self.num_classes = num_classes
        intermediate_size = 4 * hidden_size if intermediate_size is None else intermediate_size

        self.patch_embed = nn.Conv2d(in_channels, hidden_size, self.patch_size, stride=self.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, hidden_size))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.num_patches, hidden_size))
        self.time_embed = None if attention_type == "space_only" else \
            nn.Parameter(torch.zeros(1, num_frames, hidden_size))
        block = DividedSpaceTimeBlock if attention_type == "divided_space_time" else TransformerBlock
        self.blocks = nn.ModuleList(block(hidden_size, num_heads, intermediate_size, qkv_bias, layer_norm_eps)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.head = nn.Linear(hidden_size, num_classes) if num_classes is not None else None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise every weight as described in the class docstring (uses the global torch RNG)."""
        init_vit_weights(self)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        if self.time_embed is not None and self.position_init == "trunc_normal":
            nn.init.trunc_normal_(self.time_embed, std=0.02)
        elif self.time_embed is not None:
            nn.init.zeros_(self.time_embed)
        for block in list(self.blocks)[1:]:
            if isinstance(block, DividedSpaceTimeBlock):
                nn.init.zeros_(block.temporal_fc.weight)
                nn.init.zeros_(block.temporal_fc.bias)

    def _check_clip(self, x: torch.Tensor) -> None:
        if x.ndim != 5:
            raise ValueError(f"expected clips (N, C, T, H, W), got a tensor of shape {tuple(x.shape)}; "
                             f"a (N, T, C, H, W) batch needs x.transpose(1, 2) first")
        _, C, T, H, W = x.shape
        if C != self.in_channels:
            raise ValueError(f"expected {self.in_channels} channels in dim 1 of (N, C, T, H, W), got {C} "
                             f"(shape {tuple(x.shape)}); a (N, T, C, H, W) batch needs x.transpose(1, 2)")
        if (H, W) != self.image_size:
            raise ValueError(f"frames must be {self.image_size[0]}×{self.image_size[1]} pixels (the space position "
                             f"embeddings hold a {self.grid_size[0]}×{self.grid_size[1]} grid of patches), got "
                             f"{H}×{W}; resize or crop the frames")
        if self.time_embed is not None and T != self.num_frames:
            raise ValueError(f"clips must have num_frames={self.num_frames} frames (the time embeddings hold "
                             f"{self.num_frames}), got T={T}; sample {self.num_frames} frames per clip")

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The tokens that enter the first block: patches + CLS + position (+ time) embeddings.

        Args:
            x: clips (N, C, T, H, W), float.

        Returns:
            divided / joint: (N, 1 + T·P, D), CLS first, then frame-major patch tokens (token
            1 + t·P + i is patch i of frame t);
            space_only: (N·T, 1 + P, D), one sequence per frame (frame t of clip n is row n·T + t).

        Raises:
            ValueError: if C, (H, W) or (except space_only) T differ from the model's.
        """
        self._check_clip(x)
        N, C, T, H, W = x.shape
        # 1. patch embedding, frame by frame
        frames = x.transpose(1, 2).reshape(N * T, C, H, W)  # (N·T, C, H, W)
        patches = self.patch_embed(frames).flatten(2).transpose(1, 2)  # (N·T, P, D)
        P, D = patches.shape[1:]
        # 2. space position embeddings: the CLS slot and one per patch position
        cls = self.cls_token + self.pos_embed[:, :1]  # (1, 1, D)
        patches = patches + self.pos_embed[:, 1:]  # (N·T, P, D)
        if self.time_embed is None:
            return torch.cat([cls.expand(N * T, 1, D), patches], dim=1)  # (N·T, 1 + P, D)
        # 3. time embeddings, one per frame, on the patch tokens only
        patches = patches.reshape(N, T, P, D) + self.time_embed[:, :, None]  # (N, T, P, D)
        return torch.cat([cls.expand(N, 1, D), patches.reshape(N, T * P, D)], dim=1)  # (N, 1 + T·P, D)

    def forward_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """All tokens after the last block and the final LayerNorm.

        Args:
            x: clips (N, C, T, H, W), float.

        Returns:
            divided / joint: (N, 1 + T·P, D): CLS, then token 1 + t·P + i for patch i of frame t;
            space_only: (N, T, 1 + P, D): each frame's CLS and patches.
        """
        tokens = self.embed(x)
        T = x.shape[2]
        for block in self.blocks:
            tokens = block(tokens, T) if isinstance(block, DividedSpaceTimeBlock) else block(tokens)
        tokens = self.norm(tokens)
        if self.time_embed is None:
            return tokens.reshape(x.shape[0], T, *tokens.shape[1:])  # (N, T, 1 + P, D)
        return tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips (N, C, T, H, W) → logits (N, num_classes), or the (N, D) embedding when num_classes is None.

        The embedding is the CLS token after the final LayerNorm (space_only: its mean over the T frames,
        so the logits are the mean of the per-frame logits).
        """
        tokens = self.forward_tokens(x)
        embedding = tokens[:, :, 0].mean(dim=1) if self.time_embed is None else tokens[:, 0]  # (N, D)
        return embedding if self.head is None else self.head(embedding)

    @classmethod
    def from_hf(cls, model: nn.Module) -> "TimeSformer":
        """A TimeSformer with the weights of a Hugging Face ``TimesformerModel`` / ``...ForVideoClassification``.

        Both then give the same outputs (to float rounding) on the same clips, ours in the (N, C, T, H, W)
        layout, theirs in (N, T, C, H, W) (``pixel_values = x.transpose(1, 2)``): our logits equal their
        ``logits`` (space_only: averaged over frames), our CLS embedding their CLS token, and our
        ``forward_tokens`` their ``last_hidden_state`` once that is put in the course's frame-major order
        by :func:`tokens_from_hf` (space_only: reshaped to (N, T, 1 + P, D)). The weights are copied
        unchanged: no weight depends on the token order (see the module docstring). Dropout and
        drop-path rates are not carried over (they act only in training).

        Args:
            model: a ``transformers`` ``TimesformerModel`` or ``TimesformerForVideoClassification``
                (its classifier becomes ``head``; with ``num_labels=0`` there is no head).

        Returns:
            A new TimeSformer in float32 (eval mode), on the CPU.

        Raises:
            ValueError: if the model is neither class, or its config is one we do not implement
                (an activation other than "gelu", non-square or non-int image / patch sizes).
        """
        backbone = getattr(model, "timesformer", model)
        config = getattr(backbone, "config", None)
        if config is None or getattr(config, "model_type", None) != "timesformer" or \
                not hasattr(backbone, "embeddings"):
            raise ValueError(f"expected a transformers TimesformerModel or TimesformerForVideoClassification, "
                             f"got {type(model).__name__}")
        if config.hidden_act != "gelu":
            raise ValueError(f"only hidden_act='gelu' (exact GELU) is implemented, the config has "
                             f"{config.hidden_act!r}; set TimesformerConfig(hidden_act='gelu')")
        for name in ("image_size", "patch_size"):
            if not isinstance(getattr(config, name), int):
                raise ValueError(f"config.{name} must be an int (square frames and patches, as Hugging Face's "
                                 f"layers assume), got {getattr(config, name)!r}")
        classifier = getattr(model, "classifier", None)
        num_classes = classifier.out_features if isinstance(classifier, nn.Linear) else None
        ours = cls(image_size=config.image_size, patch_size=config.patch_size, num_frames=config.num_frames,
                   hidden_size=config.hidden_size, num_layers=config.num_hidden_layers,
                   num_heads=config.num_attention_heads, attention_type=config.attention_type, num_classes=num_classes,
                   in_channels=config.num_channels, intermediate_size=config.intermediate_size,
                   layer_norm_eps=config.layer_norm_eps, qkv_bias=config.qkv_bias)
        renames = [  # their key prefix → ours, longest first within each module
            ("embeddings.patch_embeddings.projection.", "patch_embed."), ("embeddings.cls_token", "cls_token"),
            ("embeddings.position_embeddings", "pos_embed"), ("embeddings.time_embeddings", "time_embed"),
            ("encoder.layer.", "blocks."), ("temporal_attention.attention.qkv.", "temporal_attn.qkv."),
            ("temporal_attention.output.dense.", "temporal_attn.proj."), ("temporal_layernorm.", "temporal_norm."),
            ("temporal_dense.", "temporal_fc."), ("attention.attention.qkv.", "attn.qkv."),
            ("attention.output.dense.", "attn.proj."), ("layernorm_before.", "norm1."),
            ("layernorm_after.", "norm2."), ("intermediate.dense.", "mlp.fc1."), ("output.dense.", "mlp.fc2."),
            ("layernorm.", "norm.")]
        state = {}
        for key, value in backbone.state_dict().items():
            for theirs, mine in renames:
                key = key.replace(theirs, mine) if key.startswith(theirs) or f".{theirs}" in key else key
            state[key] = value.detach().float().cpu()
        if num_classes is not None:
            state["head.weight"] = classifier.weight.detach().float().cpu()
            state["head.bias"] = classifier.bias.detach().float().cpu()
        missing, unexpected = ours.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"cannot map the Hugging Face weights: missing {missing}, unexpected {unexpected}")
        return ours.eval()


def tokens_from_hf(tokens: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Hugging Face's TimeSformer tokens (CLS, then patch-major) in the course's frame-major order.

    Hugging Face's ``TimesformerModel`` (joint and divided attention) returns ``last_hidden_state``
    (N, 1 + P·T, D) with token 1 + i·T + t for patch i of frame t; the course (and
    :meth:`TimeSformer.forward_tokens`) puts patch i of frame t at 1 + t·P + i. The CLS token stays first.

    Args:
        tokens: (N, 1 + P·T, D), CLS first, patch-major.
        num_frames: T >= 1.

    Returns:
        (N, 1 + T·P, D), CLS first, frame-major.

    Raises:
        ValueError: tokens not (N, L, D) or L − 1 not a multiple of ``num_frames``.
    """
    if tokens.ndim != 3 or not isinstance(num_frames, int) or num_frames < 1 or (tokens.shape[1] - 1) % num_frames:
        raise ValueError(f"tokens must be (N, 1 + P·T, D) with T = num_frames = {num_frames!r}, got shape "
                         f"{tuple(tokens.shape)}")
    N, L, D = tokens.shape
    T, P = num_frames, (L - 1) // num_frames
    patches = tokens[:, 1:].reshape(N, P, T, D).transpose(1, 2).reshape(N, T * P, D)  # (p, t) -> (t, p)
    return torch.cat([tokens[:, :1], patches], dim=1)
