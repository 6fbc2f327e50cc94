"""Small tools shared by the tests (on the test path through pytest's ``pythonpath`` setting).

They count and perturb independently of ``course``, so a test built on them does not check the
library against itself.
"""
import torch


def n_params(module: torch.nn.Module) -> int:
    """Number of parameter elements, counted directly (not with course.counting)."""
    return sum(p.numel() for p in module.parameters())


def perturbed(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Add noise to every weight, so zero biases, zero embeddings and unit LayerNorms hide nothing; eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=g))
    return model.eval()
