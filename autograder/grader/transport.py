"""Plain-data transport between the grader and its sandboxed child.

Values cross the process boundary as framed messages over a pipe the grader creates (the child's
results, progress and notes; see :class:`ChannelReader`), their payloads written with ``torch.save``
and read with ``torch.load(weights_only=True)``, which rebuilds tensors, numbers, strings and containers but never
runs code from the file. Arrays travel as tensors tagged with their kind, so the trusted side sees
the exact type the student returned; anything else arrives as a :class:`Foreign` that names the type
and compares unequal to everything.
"""
from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autograder.student.compare import Foreign  # defined beside the comparison that fails it

__all__ = ["Foreign", "encode", "decode", "save", "load", "dumps", "loads", "ChannelWriter", "ChannelReader"]

MAX_DEPTH = 16


def _type_name(x: Any) -> str:
    return f"{type(x).__module__}.{type(x).__qualname__}".removeprefix("builtins.")


def encode(x: Any, depth: int = 0) -> Any:
    """Turn a value into tagged plain data (tensors, numbers, strings, lists, dicts)."""
    if depth > MAX_DEPTH:
        return {"t": "foreign", "v": "too deeply nested value"}
    if type(x) is torch.Tensor:
        if x.layout != torch.strided or x.is_quantized:
            return {"t": "foreign", "v": f"torch.Tensor with layout {x.layout}"}
        return {"t": "tensor", "v": x.detach().to("cpu").clone().contiguous()}
    if type(x) is np.ndarray:
        try:
            return {"t": "ndarray", "v": torch.from_numpy(np.ascontiguousarray(x)).clone()}
        except TypeError:
            return {"t": "foreign", "v": f"np.ndarray of dtype {x.dtype}"}
    if x is None or type(x) in (bool, int, float, str):
        return {"t": "py", "v": x}
    if isinstance(x, np.generic) and type(x).__module__ == "numpy" and x.dtype.kind in "biuf":
        return {"t": "npscalar", "d": str(x.dtype), "v": x.item()}
    if type(x) in (tuple, list):
        return {"t": type(x).__name__, "v": [encode(i, depth + 1) for i in x]}
    if type(x) is dict and all(type(k) in (str, int) for k in x):
        return {"t": "dict", "k": list(x.keys()), "v": [encode(v, depth + 1) for v in x.values()]}
    return {"t": "foreign", "v": _type_name(x)}


MAX_NODES = 200_000  # containers and leaves one decoded value may have (a case or a result is far smaller)


def decode(d: Any, depth: int = 0, *, budget: list[int] | None = None) -> Any:
    """Inverse of :func:`encode`.

    A pickle can refer to one object many times, so a 2 KB file may stand for a tree of 10⁸ leaves;
    decoding counts the nodes it builds and stops past :data:`MAX_NODES`.

    Raises:
        ValueError: the data is not what :func:`encode` writes, or has more than MAX_NODES nodes.
    """
    if budget is None:
        budget = [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"transport data with more than {MAX_NODES} nodes (shared references?)")
    if depth > MAX_DEPTH + 1 or type(d) is not dict or type(d.get("t")) is not str:
        raise ValueError("malformed transport data")
    t, v = d["t"], d.get("v")
    if t in ("tensor", "ndarray") and type(v) is torch.Tensor:
        _check_tensor(v)
        return v if t == "tensor" else v.numpy()
    if t == "py" and (v is None or type(v) in (bool, int, float, str)):
        return v
    if t == "npscalar" and type(v) in (bool, int, float) and d.get("d") in _NP_SCALARS:
        return np.dtype(d["d"]).type(v)
    if t in ("tuple", "list") and type(v) is list:
        items = [decode(i, depth + 1, budget=budget) for i in v]
        return tuple(items) if t == "tuple" else items
    if t == "dict" and type(v) is list and type(d.get("k")) is list and len(d["k"]) == len(v):
        return {k: decode(i, depth + 1, budget=budget) for k, i in zip(d["k"], v) if type(k) in (str, int)}
    if t == "foreign" and type(v) is str:
        return Foreign(v[:200])
    raise ValueError(f"malformed transport data (tag {t!r})")


MAX_ELEMENTS = 2**26  # elements of one tensor (512 MB of float64): a result or a case is far smaller


def _check_tensor(v: torch.Tensor) -> None:
    """Refuse a tensor :func:`encode` cannot have written: a view that repeats its storage (stride 0, a
    1.6 KB message standing for 4 GB once copied), one larger than its storage, or one too large.

    Raises:
        ValueError: the tensor is not a plain, contiguous, bounded one.
    """
    if v.numel() > MAX_ELEMENTS:
        raise ValueError(f"a tensor of {v.numel()} elements in transport data (at most {MAX_ELEMENTS})")
    if not v.is_contiguous() or v.storage_offset() != 0 or v.layout != torch.strided:
        raise ValueError("a non-contiguous tensor in transport data (encode sends contiguous copies)")
    if v.untyped_storage().nbytes() < v.numel() * v.element_size():
        raise ValueError("a tensor larger than its storage in transport data")


_NP_SCALARS = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
               "float16", "float32", "float64"}


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write already-encoded data atomically (write, then rename)."""
    tmp = Path(f"{path}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


MAX_FILE_BYTES = 64 * 2**20  # a result file larger than this is refused unread


def read_regular(path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a file a child wrote, refusing anything but a small regular file.

    The folder belongs to student code, so a name may be a FIFO (a blocking read would hang the
    grader), a symlink (to a classmate's grades), a device or a huge file. The file is opened without
    following links and without blocking, checked to be regular, and read up to ``max_bytes``.

    Raises:
        OSError: missing, a link, not a regular file, or larger than ``max_bytes``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{os.fspath(path)} is not a regular file")
        if info.st_size > max_bytes:
            raise OSError(f"{os.fspath(path)} has {info.st_size} bytes, more than the {max_bytes} allowed")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise OSError(f"{os.fspath(path)} grew past the {max_bytes} bytes allowed")
        return data
    finally:
        os.close(fd)


def dumps(obj: Any) -> bytes:
    """Already-encoded data as bytes (the format of :func:`save`)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _stored_only(data: bytes) -> None:
    """Refuse a ``torch.save`` archive whose records are compressed (or claim more bytes than it has).

    ``torch.save`` stores its records uncompressed; a deflated record is a zip bomb (a 3 MB message
    that inflates to gigabytes inside ``torch.load``), so it is refused before anything is inflated.

    Raises:
        ValueError: not a zip archive, a compressed record, or sizes larger than the archive.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValueError(f"not a torch.save archive ({exc})") from None
    if any(info.compress_type != zipfile.ZIP_STORED for info in infos):
        raise ValueError("a compressed record in transport data (torch.save never compresses)")
    if sum(info.file_size for info in infos) > len(data):
        raise ValueError("transport data whose records claim more bytes than the archive holds")


def loads(data: bytes) -> Any:
    """Inverse of :func:`dumps`, without running any code from the bytes (``weights_only=True``).

    Raises:
        ValueError: compressed records (see :func:`_stored_only`).
    """
    _stored_only(data)
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


# --- the channel: framed messages from the child to the grader over a pipe the grader created -----
FRAME_HEADER = struct.Struct("!4sI")  # tag (4 bytes), payload length
MAX_FRAME_BYTES = 64 * 2**20          # one message (a result of one exercise) at most
MAX_CHANNEL_BYTES = 256 * 2**20       # everything one child may send


class ChannelWriter:
    """The child's end: ``send(tag, payload)`` writes one frame to a pipe file descriptor."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, tag: bytes, payload: bytes) -> None:
        data = FRAME_HEADER.pack(tag, len(payload)) + payload
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]


class ChannelReader:
    """The grader's end: reads what is there without blocking and splits it into frames.

    Everything is untrusted: a frame longer than :data:`MAX_FRAME_BYTES` or a total over
    :data:`MAX_CHANNEL_BYTES` sets :attr:`error`, and the grader stops the child.
    """

    def __init__(self, fd: int):
        self.fd = fd
        os.set_blocking(fd, False)
        self.buffer = bytearray()
        self.total = 0
        self.closed = False
        self.error: str | None = None

    def read_available(self) -> list[tuple[bytes, bytes]]:
        """The complete frames received since the last call.

        When the child breaks a limit, the frames before the breach are returned and :attr:`error`
        says what happened (nothing more is read).
        """
        while not self.closed and self.error is None:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                self.closed = True
                break
            self.total += len(chunk)
            self.buffer += chunk
            if self.total > MAX_CHANNEL_BYTES:
                self.error = f"the grading process sent more than {MAX_CHANNEL_BYTES >> 20} MB"
        frames = []
        while len(self.buffer) >= FRAME_HEADER.size:
            tag, size = FRAME_HEADER.unpack_from(self.buffer)
            if size > MAX_FRAME_BYTES:
                self.error = self.error or f"the grading process sent a message of {size} bytes (at most {MAX_FRAME_BYTES})"
                self.buffer.clear()
                break
            end = FRAME_HEADER.size + size
            if len(self.buffer) < end:
                break
            frames.append((bytes(tag), bytes(self.buffer[FRAME_HEADER.size:end])))
            del self.buffer[:end]
        return frames


def load(path: str | os.PathLike) -> Any:
    """Read data written by :func:`save` without running any code from the file.

    Only a regular file of at most :data:`MAX_FILE_BYTES` is read (see :func:`read_regular`).
    """
    return loads(read_regular(path))
