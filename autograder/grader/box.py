"""The box a grading child runs in: its own namespaces, built by bubblewrap (``bwrap``).

Anything that runs in the child's interpreter belongs to the student (README, "How grading stays honest"), so
isolation must come from the operating system, around the interpreter. Per submission the grader
starts ``bwrap`` (https://github.com/containers/bubblewrap, Debian/Ubuntu package ``bubblewrap``)
with:

* new user, mount, PID, IPC, UTS, cgroup and network namespaces (``--unshare-all``, with the user
  namespace required, no nested user namespaces, every capability dropped): the child sees only its
  own processes (no grader's command line, no classmate's process), has no network at all (not even
  127.0.0.1 of the host), and cannot signal anything outside;
* a file system made of read-only binds of what Python needs (the system libraries, the Python
  installation and the environment, the project's ``autograder`` package, which the child runs), with
  the exercise specs (whose known-wrong solutions are one edit from right ones) replaced by
  ``/dev/null`` (not importable, not readable) and their byte-code folders by empty ones; the
  ``course`` library (every reference, and its near-copies in other modules), the solutions, the
  tests, the git history, the other submissions, the outputs and any other copy of the project are
  simply not there (a lesson's solution cells never import ``course``: the lesson tests check it);
* its job folder (job and inputs) read-only, and a size-limited private ``/tmp`` as the only
  writable place (results travel over a pipe, not files: :mod:`autograder.grader.transport`);
* ``--die-with-parent`` and a PID namespace: when the child (or the grader) ends, everything it
  started is killed by the kernel, ``setsid`` daemons included.

Landlock and resource limits (:mod:`autograder.grader.sandbox`) still apply inside, as a second layer. Where
the kernel lets the grader create control groups (cgroup v1 ``pids`` and ``memory`` hierarchies, as
on the CI machines), each child also gets its own: a process count (forks, threads) and a memory
limit that covers what rlimits miss (``memfd``, ``/tmp`` pages, the memory of many processes), and
whatever is left in the group is killed when the child ends (:class:`CgroupLimits`).
Where the box cannot be built (no ``bwrap``, user namespaces disabled), :func:`box_problem` says why
and the grader refuses unless told to grade without it.
"""
from __future__ import annotations

import functools
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterable

__all__ = ["BWRAP_HINT", "box_problem", "box_command", "package_roots", "CgroupLimits"]

BWRAP_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf",
              "/etc/passwd", "/etc/group", "/etc/fonts", "/etc/alternatives")


def _bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def box_problem() -> str | None:
    """Why the box cannot be built on this machine, or None when it can (tried once per process).

    The check runs ``bwrap`` with the options the grader uses on ``/bin/true``-like Python code.
    """
    if _bwrap() is None:
        return f"bubblewrap (bwrap) is not installed: {BWRAP_HINT}"
    # the child runs `python -I` (no PYTHONPATH): the box must give it the grader's own package
    probe = box_command([sys.executable, "-I", "-c", "import os, autograder; os.listdir('/proc'); "
                         "print(autograder.__file__)"], workdir=None, hidden=())
    try:
        done = subprocess.run(probe, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be started: {exc}"
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        return f"bwrap could not build the box (are user namespaces disabled?): {tail[0][:300]}"
    mine = str(package_roots()[0] / "__init__.py")
    theirs = done.stdout.decode(errors="replace").strip()
    if theirs != mine:
        return (f"the grading child imports {theirs}, not this grader's {mine} (python -I ignores PYTHONPATH): "
                "install the project you grade with (pip install -e .) in the environment that runs it")
    return None


def package_roots() -> list[Path]:
    """The folder of the import package ``autograder`` (wherever it is installed): the only project
    package in the box."""
    roots = []
    for name in ("autograder",):
        module = importlib.import_module(name)
        if getattr(module, "__file__", None) is None:  # a namespace package: some other folder of that name
            raise RuntimeError(f"the package {name!r} is not the project's; install the project (pip install -e .)")
        roots.append(Path(module.__file__).resolve().parent)
    return roots


def _python_roots() -> list[Path]:
    """The Python installation and environment: prefixes, and the real interpreter's folder."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent}
    return sorted(roots)


def _ro(path: Path | str) -> list[str]:
    """Bind ``path`` read-only at the same place; a symbolic link is recreated as a link."""
    path = str(path)
    if os.path.islink(path) and os.path.dirname(path) == "/":  # merged-/usr systems: /bin -> usr/bin
        return ["--symlink", os.readlink(path), path]
    return ["--ro-bind", path, path]


def box_command(argv: list[str], *, workdir: Path | None, hidden: Iterable[str | Path],
                tmp_mb: int = 256) -> list[str]:
    """The ``bwrap`` command line that runs ``argv`` in a box.

    Args:
        argv: the command to run inside (an absolute interpreter path first).
        workdir: the child's job folder (its job and inputs), bound read-only at the same path (None: none).
        hidden: files to replace by ``/dev/null`` inside the box (the reference modules); their
            ``__pycache__`` folders are replaced by empty ones.
        tmp_mb: size of the private ``/tmp`` (a tmpfs) in MiB.

    Returns:
        The full command line (``bwrap ... -- argv``).

    Raises:
        RuntimeError: ``bwrap`` is not installed.
    """
    bwrap = _bwrap()
    if bwrap is None:
        raise RuntimeError(f"bubblewrap (bwrap) is not installed: {BWRAP_HINT}")
    # 1. namespaces: all of them, the user namespace required and not nestable; no capabilities
    cmd = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
           "--die-with-parent", "--new-session", "--hostname", "grading"]
    # 2. a size-limited private /tmp first (the only writable folder), so that binds below it (a
    #    project or an environment that lives under /tmp, the job folder) stay visible on top of it
    cmd += ["--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp"]
    # 3. what Python needs, read-only
    for d in _SYSTEM_DIRS:
        if os.path.lexists(d):
            cmd += _ro(d)
    for f in _ETC_FILES:
        if os.path.exists(f):
            cmd += _ro(f)
    roots = [*_python_roots(), *package_roots()]
    for root in roots:
        cmd += _ro(root)
    # 4. the exercise specs (and any reference inside a mounted folder): not there (import and read fail)
    for path in hidden:
        path = Path(path)
        if not any(root == path or root in path.parents for root in roots):
            continue  # not mounted at all
        if path.exists():
            cmd += ["--ro-bind", "/dev/null", str(path)]
        cache = path.parent / "__pycache__"
        if cache.is_dir():
            cmd += ["--tmpfs", str(cache), "--remount-ro", str(cache)]
    # 5. a private /proc and /dev; the job folder read-only
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    if workdir is not None:
        cmd += ["--ro-bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    return [*cmd, "--", *argv]


class CgroupLimits:
    """A control group per child: at most ``max_pids`` tasks and ``memory_mb`` of memory, all processes.

    Created under the grader's own groups of the cgroup v1 ``pids`` and ``memory`` hierarchies
    (``/sys/fs/cgroup/{pids,memory}/<the grader's group>/grading-<id>``); :meth:`wrap` prefixes a
    command so that it enters the groups before it execs (nothing it starts can be outside them);
    :meth:`close` kills what is left in them and removes them. Where the hierarchies are missing or
    not writable, :attr:`problem` says why and the other methods do nothing.
    """

    def __init__(self, *, memory_mb: int, max_pids: int = 64):
        self.paths: list[Path] = []
        self.problem: str | None = None
        try:
            mine = {}
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                _, controllers, path = line.split(":", 2)
                for c in controllers.split(","):
                    mine[c] = path
            name = f"grading-{os.getpid()}-{os.urandom(4).hex()}"
            for controller, files in (("pids", {"pids.max": str(max_pids)}),
                                      ("memory", {"memory.limit_in_bytes": str(memory_mb * 2**20)})):
                root = Path("/sys/fs/cgroup") / controller
                if controller not in mine or not root.is_dir():
                    raise OSError(f"no cgroup v1 {controller} hierarchy")
                group = root / mine[controller].lstrip("/") / name
                group.mkdir()
                self.paths.append(group)
                for file, value in files.items():
                    (group / file).write_text(value)
        except (OSError, ValueError) as exc:
            self.problem = f"no per-child control groups ({exc}): process count and total memory not limited"
            self.close()

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run by a shell that first moves itself into the groups, then execs ``argv``."""
        if self.problem or not self.paths:
            return argv
        enter = " && ".join(f'echo $$ > "${i + 1}"' for i in range(len(self.paths)))
        return ["/bin/sh", "-c", f'{enter} && shift {len(self.paths)} && exec "$@"', "sh",
                *(str(p / "cgroup.procs") for p in self.paths), *argv]

    def close(self, timeout: float = 15.0) -> None:
        """Kill every task left in the groups and remove them, retrying while the kernel reaps them (on a
        busy machine 64 killed tasks can take seconds); a group still busy after ``timeout`` s is left."""
        import signal
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = []
            for group in self.paths:
                try:
                    pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
                except OSError:
                    pids = []
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                try:
                    group.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    left.append(group)
            self.paths = left
            if not left:
                return
            time.sleep(0.05)
