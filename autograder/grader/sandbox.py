"""The operating-system sandbox a grading child applies to itself before it runs student code.

Mechanisms, all maintained by the kernel (nothing home-made):
    * resource limits (``setrlimit``): address space, CPU seconds, file size, open files, processes;
    * an unprivileged user (``nobody``) when the grader runs as root and the Python installation is
      readable by other users; otherwise root with every capability dropped (no CAP_DAC_OVERRIDE,
      CAP_KILL, CAP_SYS_ADMIN...), and the process-count limit cannot apply;
    * Landlock (Linux >= 5.13, through the ``landlock`` package): the child may read and execute
      files everywhere except the paths the grader names (the reference modules of the graded
      exercises, the solutions, the other submissions, the outputs), and may write only in its own
      working directory; with ABI >= 4 it may not open or bind TCP sockets, and with ABI >= 6 it may
      not signal processes outside its sandbox (the grader) nor reach abstract Unix sockets.
The child runs in its own session and process group (set by the parent), so the parent can kill
everything it started with ``killpg``. Where a mechanism is missing, :func:`apply` says which in the
list it returns, and the grader puts that in the feedback.
"""
from __future__ import annotations

import ctypes
import os
import resource
from pathlib import Path

__all__ = ["apply", "landlock_abi", "NOBODY", "others_can_read"]

NOBODY = 65534
# Raw Landlock system calls (the same numbers on x86-64 and arm64), for the network and scope rules
# that the `landlock` package does not expose yet.
_SYS_CREATE_RULESET, _SYS_RESTRICT_SELF = 444, 446
_ACCESS_NET_BIND_TCP, _ACCESS_NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is unavailable."""
    try:
        import landlock

        return int(landlock.landlock_abi_version())
    except Exception:  # noqa: BLE001 - no module, no kernel support, seccomp...
        return 0


def apply(workdir: Path, deny_read: list[str], *, memory_mb: int, cpu_seconds: int, drop_to: int | None,
          boxed: bool = False) -> list[str]:
    """Sandbox the calling process (irreversibly).

    Args:
        workdir: the only directory the process may write in.
        deny_read: absolute paths (files or folders) the process may not read.
        memory_mb: address-space limit in MiB.
        cpu_seconds: CPU-time limit in seconds.
        drop_to: uid/gid to switch to (root only), or None to stay.
        boxed: the process already runs in the grader's box (:mod:`autograder.grader.box`), whose user
            namespace makes "root" an unprivileged user of the box alone.

    Returns:
        The mechanisms that could not be applied, as readable notes (empty when all were).
    """
    notes: list[str] = []
    # 1. resource limits
    mib = 1 << 20
    for limit, value in [(resource.RLIMIT_AS, memory_mb * mib), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, 16 * mib), (resource.RLIMIT_NOFILE, 128), (resource.RLIMIT_CORE, 0)]:
        resource.setrlimit(limit, (value, value))
    # 2. Landlock: file system, then network and signals (needs no privilege; applied while root can
    #    still open every path it names in its rules)
    abi = landlock_abi()
    if abi == 0:
        notes.append("Landlock is not available on this kernel: file-system and network isolation were not applied")
    else:
        _restrict_files(workdir, [Path(p) for p in deny_read], abi)
        if abi >= 4:
            _restrict_net_and_scope(abi)
        else:
            notes.append(f"Landlock ABI {abi} < 4: network access was not restricted")
    # 3. an unprivileged user (the process limit counts per user, so only then), or no capabilities
    if drop_to is not None:
        os.setgroups([])
        os.setgid(drop_to)
        os.setuid(drop_to)
        resource.setrlimit(resource.RLIMIT_NPROC, (128, 128))
    elif os.geteuid() == 0 and boxed:
        _drop_capabilities()
        notes.append("ran in the box as root of its own user namespace, with no capabilities")
    elif os.geteuid() == 0:
        _drop_capabilities()
        notes.append("ran as root with all capabilities dropped (the Python installation is not readable by "
                     "'nobody'); the process-count limit does not apply to root")
    return notes


def others_can_read(path: str | os.PathLike) -> bool:
    """Whether a user other than the owner can reach and read ``path`` (o+x on folders, o+r on it)."""
    p = Path(path).resolve()
    try:
        if not p.stat().st_mode & 0o004:
            return False
        return all(parent.stat().st_mode & 0o001 for parent in p.parents)
    except OSError:
        return False


def _drop_capabilities() -> None:
    """Empty the bounding, ambient, effective, permitted and inheritable capability sets (capset(2))."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop, pr_cap_ambient, pr_cap_ambient_clear_all = 24, 47, 4
    libc.prctl(pr_cap_ambient, pr_cap_ambient_clear_all, 0, 0, 0)
    for cap in range(64):
        libc.prctl(pr_capbset_drop, cap, 0, 0, 0)  # fails harmlessly past the last capability

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed: could not drop capabilities")


def _restrict_files(workdir: Path, deny: list[Path], abi: int) -> None:
    import landlock
    from landlock import FSAccess

    handled = FSAccess.all()
    read = FSAccess.READ_FILE | FSAccess.EXECUTE
    ruleset = landlock.Ruleset(restrict_rules=handled)
    ruleset.allow("/", rules=FSAccess.READ_DIR)  # list any folder; reading files is granted below
    for path in _readable_roots(Path("/"), [p.resolve() for p in deny]):
        try:
            ruleset.allow(str(path), rules=read | (FSAccess.READ_DIR if path.is_dir() else 0))
        except FileNotFoundError:  # removed since the walk (another process's temp file): no rule needed
            continue
    ruleset.allow(str(workdir), rules=handled)
    if os.path.exists("/dev/null"):
        ruleset.allow("/dev/null", rules=FSAccess.READ_FILE | FSAccess.WRITE_FILE)
    ruleset.apply()


def _readable_roots(root: Path, deny: list[Path]) -> list[Path]:
    """The largest subtrees of ``root`` that contain none of ``deny`` (Landlock rules only allow)."""
    if not any(root == d or root in d.parents for d in deny):
        return [root]
    if root in deny or not root.is_dir() or root.is_symlink():
        return []
    out: list[Path] = []
    try:
        children = sorted(root.iterdir())
    except OSError:
        return out
    for child in children:
        if child.is_symlink():
            continue  # a link's target is reachable through its real path, or not at all
        out.extend(_readable_roots(child, deny))
    return out


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def _restrict_net_and_scope(abi: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    attr = _RulesetAttr(0, _ACCESS_NET_BIND_TCP | _ACCESS_NET_CONNECT_TCP,
                        (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 16
    fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset (network) failed")
    try:
        if libc.syscall(_SYS_RESTRICT_SELF, fd, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self (network) failed")
    finally:
        os.close(fd)
