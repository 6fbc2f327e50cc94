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


def refuse(condition, fn):
    """A known-wrong version of ``fn`` that raises ValueError whenever ``condition(*args, **kwargs)`` holds.

    Used to prove that an exercise's cases include the minimum legal values: a solution that refuses
    one of them must fail.
    """
    def mutant(*args, **kwargs):
        if condition(*args, **kwargs):
            raise ValueError("refused")
        return fn(*args, **kwargs)
    return mutant


def assert_mutant_rejected(name: str, label: str, mutant, seed) -> None:  # noqa: ANN001
    """Assert that exercise ``name`` rejects ``mutant`` on its public (seed None) or hidden cases."""
    from autograder.student.check import evaluate
    from autograder.exercises import find_exercise

    ex = find_exercise(name)
    verdict = evaluate(ex, mutant, ex.cases(seed))
    assert not verdict.ok, f"{name}: the mutant that {label} passes the {'public' if seed is None else 'hidden'} cases"


def edge_mutant_test(cases: list, seeds: tuple = (None, 1, 2)):  # noqa: ANN201 - a pytest test function
    """A parametrized test that every ``(exercise name, label, mutant)`` of ``cases`` is rejected.

    Each mutant runs on the public cases (seed None) and on hidden cases of each other seed. Assign
    the result to a module-level ``test_...`` name so pytest collects it.
    """
    import pytest

    ids = ["public" if s is None else f"hidden{s}" for s in seeds]

    @pytest.mark.parametrize("name, label, mutant", cases, ids=[f"{n}-{l}" for n, l, _ in cases])
    @pytest.mark.parametrize("seed", list(seeds), ids=ids)
    def test(name, label, mutant, seed):  # noqa: ANN001, ANN202
        assert_mutant_rejected(name, label, mutant, seed)

    return test


def flatten_mutants(mutants: dict) -> list:
    """``{exercise: {label: mutant}}`` as a list of ``(exercise, label, mutant)``."""
    return [(name, label, fn) for name, table in mutants.items() for label, fn in table.items()]
