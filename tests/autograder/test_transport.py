"""Plain-data transport: round trips, and nothing but plain data survives."""
import numpy as np
import pytest
import torch

from autograder.grader import transport
from autograder.grader.transport import Foreign
from autograder.student.verdict import Outcome


@pytest.mark.parametrize("value", [
    torch.arange(5), torch.rand(2, 3, 4).transpose(0, 2), np.arange(7, dtype=np.int16), np.zeros((2, 2), dtype=bool),
    3, 2.5, "x", None, True, (1, [2.0, "a"]), {"k": torch.ones(2), 3: (4,)}, np.float32(1.5), np.int64(7),
])
def test_round_trip_keeps_type_and_value(tmp_path, value):
    transport.save(transport.encode(value), tmp_path / "v.pt")
    back = transport.decode(transport.load(tmp_path / "v.pt"))
    assert type(back) is type(value)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        assert back.dtype == value.dtype and np.array_equal(np.asarray(back), np.asarray(value))
    elif isinstance(value, dict):
        assert set(back) == set(value)
    else:
        assert back == value


class Sub(torch.Tensor):
    pass


class Custom:
    pass


@pytest.mark.parametrize("value, name", [(torch.ones(2).as_subclass(Sub), "Sub"), (Custom(), "Custom"),
                                         (np.array([object()]), "object"), ({(1, 2): 3}, "dict")])
def test_other_objects_arrive_as_foreign(value, name):
    back = transport.decode(transport.encode(value))
    assert type(back) is Foreign and name in back.type_name


def test_a_file_with_code_is_refused(tmp_path):
    torch.save({"t": "py", "v": Custom()}, tmp_path / "evil.pt")
    with pytest.raises(Exception):
        transport.load(tmp_path / "evil.pt")


@pytest.mark.parametrize("data", [{"t": "tensor", "v": 3}, {"t": "bogus"}, [1, 2], {"t": "dict", "k": [1], "v": []}])
def test_malformed_data_is_refused(data):
    with pytest.raises(ValueError):
        transport.decode(data)


def test_read_regular_refuses_fifos_links_and_large_files(tmp_path):
    """Check that a FIFO (which would block a plain read), a symlink and an oversize file are refused at once."""
    import os
    import time

    from autograder.grader.transport import read_regular

    fifo = tmp_path / "progress"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    with pytest.raises(OSError, match="not a regular file"):
        read_regular(fifo)
    assert time.monotonic() - t0 < 5
    secret = tmp_path / "grades.json"
    secret.write_text("a classmate's grades")
    link = tmp_path / "sandbox_notes.json"
    link.symlink_to(secret)
    with pytest.raises(OSError):
        read_regular(link)
    big = tmp_path / "result_0.pt"
    big.write_bytes(b"x" * 101)
    with pytest.raises(OSError, match="more than"):
        read_regular(big, 100)
    assert read_regular(big, 101) == b"x" * 101


def test_notes_and_cell_errors_are_validated():
    """Check that non-list, over-long or mistyped notes and cell errors are cut down or dropped, never crash."""
    import json

    from autograder.grader.grade import _load_cell_errors, _load_notes

    for raw, expected in [({"a": 1}, []), ("text", []), ([1, None, "ok"], ["ok"]), (["x" * 1000] * 50, ["x" * 300] * 20)]:
        assert _load_notes(json.dumps(raw).encode()) == expected
    assert _load_notes(b"") == [] and _load_notes(b"\xff\xfe") == []
    errors = transport.dumps(transport.encode([{"grade_id": "a", "error": "e" * 900}, {"grade_id": 3, "error": "x"},
                                               "junk"]))
    assert _load_cell_errors(errors) == [{"grade_id": "a", "error": "an exception", "detail": "e" * 500}]
    told = transport.dumps(transport.encode([{"grade_id": "b", "error": "KeyError: 'x' (line 3 of <cell b>)"},
                                             {"grade_id": "c", "error": "Leak_4242: 1.5 (line 1 of <cell c>)"}]))
    assert [e["error"] for e in _load_cell_errors(told)] == ["KeyError at line 3", "an exception at line 1"]
    assert _load_cell_errors(b"") == [] and _load_cell_errors(transport.dumps({"not": "a list"})) == []


def test_the_channel_splits_frames_and_refuses_floods():
    """Check that frames arrive whole however the bytes are cut, and that an oversized frame is refused."""
    import os

    r, w = os.pipe()
    try:
        writer, reader = transport.ChannelWriter(w), transport.ChannelReader(r)
        writer.send(b"PROG", b"cell setup")
        data = transport.FRAME_HEADER.pack(b"RSLT", 6) + b"abcdef"
        os.write(w, data[:5])
        assert reader.read_available() == [(b"PROG", b"cell setup")]
        os.write(w, data[5:])
        assert reader.read_available() == [(b"RSLT", b"abcdef")]
        writer.send(b"PROG", b"exercise 0")
        os.write(w, transport.FRAME_HEADER.pack(b"RSLT", transport.MAX_FRAME_BYTES + 1))
        assert reader.read_available() == [(b"PROG", b"exercise 0")]  # what came before the breach
        assert "message of" in reader.error
    finally:
        os.close(r)
        os.close(w)


def test_shared_references_cannot_expand_into_a_huge_tree(tmp_path):
    """Check that a small result file whose lists share references (10⁸ leaves once expanded) is refused."""
    leaf = transport.encode(1)
    node = leaf
    for _ in range(8):
        node = {"t": "list", "v": [node] * 10}  # the same object ten times: pickled once
    path = tmp_path / "bomb.pt"
    transport.save(node, path)
    assert path.stat().st_size < 10_000
    with pytest.raises(ValueError, match="nodes"):
        transport.decode(transport.load(path))
    assert transport.decode(transport.encode([[1] * 1000] * 10)) == [[1] * 1000] * 10  # honest sizes pass


def test_a_huge_notebook_is_not_parsed(tmp_path):
    """Check that a submission over the size cap is reported unreadable without being read into memory."""
    from autograder.grader.notebook import MAX_NOTEBOOK_BYTES, read_source, read_submission
    from autograder.paths import PROJECT_ROOT

    lesson = "01_video_tensors"
    source = read_source(PROJECT_ROOT / "solutions" / lesson / f"{lesson}.ipynb", lesson)
    big = tmp_path / f"{lesson}.ipynb"
    with open(big, "wb") as f:
        f.write(b'{"cells": [], "pad": "')
        f.truncate(MAX_NOTEBOOK_BYTES + 10)
    sub = read_submission(big, source)
    assert not sub.readable and "bytes" in sub.problems[0]


def test_a_compressed_record_is_refused_before_it_is_inflated():
    """Check that a deflated torch.save archive (a zip bomb: 1 MB that inflates to 1 GB) is refused unread."""
    import io
    import zipfile

    honest = transport.dumps(transport.encode(torch.zeros(1000)))
    assert torch.equal(transport.decode(transport.loads(honest)), torch.zeros(1000))
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(honest)) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    with pytest.raises(ValueError, match="compressed"):
        transport.loads(bomb.getvalue())
    with pytest.raises(ValueError, match="torch.save"):
        transport.loads(b"not a zip at all")


def test_a_tensor_that_repeats_its_storage_is_refused():
    """Check that a stride-0 view (8 bytes standing for 4 GB once copied) cannot travel, nor an oversized one."""
    bomb = torch.zeros(1, dtype=torch.float64).expand(2**29)
    data = transport.dumps({"t": "ndarray", "v": bomb})
    assert len(data) < 10_000
    with pytest.raises(ValueError, match="elements|contiguous"):
        transport.decode(transport.loads(data))
    view = torch.arange(10.0)[::2]
    with pytest.raises(ValueError, match="contiguous"):
        transport.decode(transport.loads(transport.dumps({"t": "tensor", "v": view})))
    assert transport.decode(transport.encode(view)).tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]  # encode copies


def test_blind_comparison_says_nothing_of_the_students_value():
    """Check that the official grader's reasons name what was expected, never what the student returned."""
    import numpy as np

    from autograder.student.compare import compare

    secret = 132100614
    cases = [(82, secret), (1.5, float(secret)), ("x", str(secret)), ({"a": 1}, {str(secret): 1}),
             ([1, 2], [secret] * 3), (torch.zeros(2, 3), torch.zeros(2, 97)),
             (torch.zeros(4), torch.tensor([0.0, 0.0, float(secret), 0.0])), (np.zeros(3), np.zeros(3, dtype=np.int64)),
             (np.zeros((2, 2)), np.zeros((2, 13)))]
    for expected, got in cases:
        open_reason = compare(expected, got)
        blind_reason = compare(expected, got, blind=True)
        assert open_reason and blind_reason
        for text in (str(secret), "132,100,614", "97", "13", "int64"):
            assert text not in blind_reason, (expected, blind_reason)


def test_forged_cell_errors_show_only_known_cells_and_real_lines():
    """Check that cell errors a student forges carry no text to the page: unknown cell ids are dropped,
    one error per cell, and a line number is shown only if the cell has that line."""
    from autograder.grader.grade import _load_cell_errors

    cells = {"setup": "import torch\n", "conv3d": "def conv3d(x):\n    return x\n"}
    forged = [{"grade_id": "(((24, 19, 22), (3, 4, 4)), {})", "error": "ValueError: x (line 1 of <cell a>)"},
              {"grade_id": "conv3d", "error": "KeyError: k (line 2 of <cell conv3d>)"},
              {"grade_id": "conv3d", "error": "KeyError: k (line 1 of <cell conv3d>)"},
              {"grade_id": "setup", "error": "TypeError: t (line 123456 of <cell setup>)"}]
    got = _load_cell_errors(transport.dumps(transport.encode(forged)), cells)
    assert [(e["grade_id"], e["error"]) for e in got] == [("conv3d", "KeyError at line 2"), ("setup", "TypeError")]


@pytest.mark.parametrize("outcome", [
    Outcome("return", {"clip": torch.arange(6.0).reshape(2, 3), "n": 3}, forbidden=("aten::upsample_nearest3d",)),
    Outcome("raise", exc_types=("ValueError", "Exception", "BaseException", "object"), message="bad stride"),
    Outcome("missing", message="no function named f was defined"),
    Outcome("crash", message="ran out of memory"),
], ids=lambda o: o.kind)
def test_an_outcome_crosses_the_process_boundary_unchanged(outcome):
    """Check Outcome.to_plain / from_plain through the grader's wire format (encode, dumps, loads, decode)."""
    back = Outcome.from_plain(transport.loads(transport.dumps(outcome.to_plain(transport.encode))), transport.decode)
    assert (back.kind, back.exc_types, back.message, back.forbidden) == \
        (outcome.kind, outcome.exc_types, outcome.message, outcome.forbidden)
    if outcome.kind == "return":
        assert back.value.keys() == outcome.value.keys() and back.value["n"] == 3
        assert torch.equal(back.value["clip"], outcome.value["clip"])
    else:
        assert back.value is None


@pytest.mark.parametrize("plain", [
    ["return", 1], {"kind": "returned", "value": 1}, {"kind": "return"}, {"kind": "raise", "exc_types": "ValueError"},
    {"kind": "raise", "exc_types": [1]}, {"kind": "missing", "message": b"x"}, {"kind": "return", "value": 1, "forbidden": [None]},
], ids=str)
def test_a_malformed_outcome_is_refused(plain):
    with pytest.raises(ValueError):
        Outcome.from_plain(plain)
