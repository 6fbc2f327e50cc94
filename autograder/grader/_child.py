"""The grading child: sandbox itself, run a submission's cells, call its functions, write plain data.

Run as ``python -I -m autograder.grader._child WORKDIR FD`` by :mod:`autograder.grader.grade`, never by hand.
WORKDIR holds ``job.json`` (cells, exercises, limits) and ``inputs.pt`` (the cases); in the box it
is read-only and the only writable folder is the box's private ``/tmp``. The child sends framed
messages over the pipe ``FD`` that the grader created (:class:`autograder.grader.transport.ChannelWriter`):
``PROG`` where it is ("cell <id>", "exercise <i>", "done"), ``RSLT`` one exercise's outcomes,
``CERR`` the cells' errors, ``NOTE`` the sandbox notes. It trusts nothing after the sandbox is
applied; the parent trusts nothing the child sends.
"""
from __future__ import annotations

import importlib.abc
import json
import os
import signal
import sys
import traceback
from pathlib import Path


class _BlockReferences(importlib.abc.MetaPathFinder):
    """Refuses to import the reference modules of the exercises being graded."""

    def __init__(self, names: list[str]):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001 - importlib protocol
        if fullname in self.names:
            raise ImportError(f"{fullname} holds the reference solution and cannot be imported while grading; "
                              "implement the exercise yourself")
        return None


def main(workdir: Path, fd: int) -> int:
    # 1. read the job before the sandbox closes anything
    job = json.loads((workdir / "job.json").read_text())
    import torch  # noqa: F401 - imported before the limits, as the grader's own dependency

    from autograder.grader import sandbox, transport
    from autograder.student.verdict import Outcome

    channel = transport.ChannelWriter(fd)
    inputs = transport.load(workdir / "inputs.pt")
    writable = Path(job.get("writable", str(workdir)))
    if any(job["forbidden_ops"]):  # the first dispatch mode imports torch._dynamo (~2 s): pay it before timing
        from autograder.student.verdict import OpRecorder

        with OpRecorder():
            torch.zeros(1).add(1)
    # 2. sandbox: limits, user, Landlock; quiet threads; no core dumps; write errors instead of SIGXFSZ
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    notes = sandbox.apply(writable, job["deny_read"], memory_mb=job["memory_mb"], cpu_seconds=job["cpu_seconds"],
                          drop_to=job["drop_to"], boxed=job.get("boxed", False))
    channel.send(b"NOTE", json.dumps(notes).encode())
    torch.set_num_threads(1)
    os.chdir(writable)
    # 3. the student's output goes to a file, never to the grader
    sys.stdout = open(writable / "stdout.txt", "w", buffering=1)  # noqa: SIM115
    sys.stderr = sys.stdout
    sys.meta_path.insert(0, _BlockReferences(job["blocked_modules"]))
    for name in job["blocked_modules"]:
        sys.modules.pop(name, None)
    # 4. run the cells (setup from the source, solutions from the submission); an error stops only its cell
    namespace: dict = {"__name__": "__main__"}
    cell_errors = []
    if job["start"] == 0:
        for cell in job["cells"]:
            channel.send(b"PROG", f"cell {cell['grade_id']}".encode())
            try:
                exec(compile(_python_source(cell["source"]), f"<cell {cell['grade_id']}>", "exec"), namespace)  # noqa: S102
            except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
                cell_errors.append({"grade_id": cell["grade_id"], "error": _short_error(exc)})
        channel.send(b"CERR", transport.dumps(transport.encode(cell_errors)))
    else:
        for cell in job["cells"]:
            try:
                exec(compile(_python_source(cell["source"]), f"<cell {cell['grade_id']}>", "exec"), namespace)  # noqa: S102
            except BaseException:  # noqa: BLE001
                pass
    # 5. call each exercise on its cases, one result file per exercise
    for i in range(job["start"], len(job["exercises"])):
        name = job["exercises"][i]
        channel.send(b"PROG", f"exercise {i}".encode())
        fn = namespace.get(name)
        outcomes = []
        if not callable(fn):
            outcomes = [Outcome("missing", message=f"no function named {name} was defined").to_plain()]
        else:
            forbidden = tuple(job["forbidden_ops"][i])
            for case in inputs[i]:
                outcomes.append(_call(fn, case, transport, forbidden))
        channel.send(b"RSLT", i.to_bytes(4, "big") + transport.dumps(outcomes))
    channel.send(b"PROG", b"done")
    return 0


def _python_source(source: str) -> str:
    """Turn IPython syntax (magics, shell escapes) into Python, as a notebook kernel would."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _call(fn, case, transport, forbidden: tuple[str, ...]) -> dict:  # noqa: ANN001
    """One call of the student's function as plain data (:meth:`Outcome.to_plain`); never raises."""
    from autograder.student.verdict import OpRecorder, Outcome

    recorder = OpRecorder()
    try:
        args = transport.decode(case["args"])
        kwargs = transport.decode(case["kwargs"])
        if forbidden:
            with recorder:
                value = fn(*args, **kwargs)
        else:
            value = fn(*args, **kwargs)
        out = Outcome("return", value)
        plain = out.to_plain(transport.encode)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        if isinstance(exc, MemoryError):
            return Outcome("crash", message="ran out of memory (the grader's memory limit)").to_plain()
        out = Outcome("raise", exc_types=tuple(c.__name__ for c in type(exc).__mro__),
                      message=_short_error(exc, with_type=False))
        plain = out.to_plain()
    plain["forbidden"] = [op for op in forbidden if op in recorder.ops]
    return plain


def _short_error(exc: BaseException, *, with_type: bool = True) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001
        text = "<unprintable>"
    text = text[:300]
    if with_type:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (line {tb[-1].lineno} of {tb[-1].filename})" if tb else ""
        return f"{type(exc).__name__}: {text}{where}"
    return text


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
