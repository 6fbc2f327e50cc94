"""Lesson 08's checks probe the edges: mutants that refuse a minimum legal size or loosen a validation fail.

Each mutant is the reference with one change of the kind that survived an earlier round of mutation
grading (a refused minimum legal value, a type check turned off, ``or`` turned into ``and``). Both the
public cases (``check`` in the notebook) and the hidden cases (official grading) must reject it.
"""
import torch

from course.nn import attention as ref
from support import edge_mutant_test, flatten_mutants, refuse


def _no_type_check(fn):
    """``fn`` that turns NumPy arguments into tensors instead of refusing them."""
    def mutant(*args, **kwargs):
        args = tuple(torch.as_tensor(a) if hasattr(a, "__array__") and not isinstance(a, torch.Tensor) else a
                     for a in args)
        return fn(*args, **kwargs)
    return mutant


def _count_or_to_and(num_frames, num_patches, attention_type):
    for value in (num_frames, num_patches):
        if not isinstance(value, int) and value < 1:  # `or` turned into `and`: 8.0 and True pass
            raise ValueError("bad size")
    T, P = num_frames, num_patches
    return ref.attention_score_count(int(T), int(P), attention_type)


MUTANTS = {
    "attention": {
        "refuses one query": refuse(lambda q, k, v, *m: q.shape[-2] < 2, ref.attention),
        "refuses one key": refuse(lambda q, k, v, *m: k.shape[-2] < 2, ref.attention),
        "refuses d = 1": refuse(lambda q, k, v, *m: q.shape[-1] < 2, ref.attention),
        "no type check": _no_type_check(ref.attention),
    },
    "multi_head_attention": {
        "refuses one head": refuse(lambda x, *w: w[-1] < 2, ref.multi_head_attention),
        "refuses one token": refuse(lambda x, *w: x.shape[1] < 2, ref.multi_head_attention),
        "refuses D = 1": refuse(lambda x, *w: x.shape[-1] < 2, ref.multi_head_attention),
        "no type check": _no_type_check(ref.multi_head_attention),
    },
    "tubelet_embedding": {
        "refuses T = 1": refuse(lambda clip, *w: clip.shape[2] < 2, ref.tubelet_embedding),
        "refuses a tubelet as large as the clip": refuse(lambda clip, w, *b: clip.shape[2:] == w.shape[2:],
                                                          ref.tubelet_embedding),
        "refuses 1×1×1 tubes": refuse(lambda clip, w, *b: max(w.shape[2:]) < 2, ref.tubelet_embedding),
        "no type check": _no_type_check(ref.tubelet_embedding),
    },
    "divided_space_time_attention": {
        "refuses T = 1": refuse(lambda x, T, *w: T < 2, ref.divided_space_time_attention),
        "refuses P = 1": refuse(lambda x, T, *w: x.shape[1] - 1 < 2 * T, ref.divided_space_time_attention),
        "refuses D = 1": refuse(lambda x, *w: x.shape[-1] < 2, ref.divided_space_time_attention),
    },
    "attention_score_count": {
        "refuses T = 1": refuse(lambda T, P, kind: T < 2, ref.attention_score_count),
        "refuses P = 1": refuse(lambda T, P, kind: P < 2, ref.attention_score_count),
        "`or` → `and` in the size check": _count_or_to_and,
    },
}
CASES = flatten_mutants(MUTANTS)


test_edge_mutant_is_rejected = edge_mutant_test(CASES)
