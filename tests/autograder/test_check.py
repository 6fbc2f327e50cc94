"""check() in a real kernel: a frontend's Run All goes on past a failed check; nbgrader's execution fails it.

JupyterLab sends execute requests with ``allow_stdin=True`` and ``stop_on_error=True``: any exception
drops the queued cells. nbclient (hence nbgrader) sends ``allow_stdin=False``. These tests send both
kinds of request to a real IPython kernel, as those clients do.
"""
import os
import queue

import pytest

FAILING = """
from autograder import check
def clip_numel(num_frames, height, width, channels=3, batch=1):
    raise NotImplementedError()
check(clip_numel)
"""


def _run(kc, code: str, *, allow_stdin: bool) -> tuple[str, list[dict]]:
    """Execute ``code``; return the reply status and the iopub outputs of that request."""
    msg_id = kc.execute(code, allow_stdin=allow_stdin, stop_on_error=True)
    reply = kc.get_shell_msg(timeout=120)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=120)
    outputs = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=30)
        except queue.Empty:
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
            outputs.append({"type": msg["msg_type"], **msg["content"]})
    return reply["content"]["status"], outputs


@pytest.fixture(scope="module")
def kernel():
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if k not in ("BEYOND2D_CHECK", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING")}
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def test_a_failed_check_at_a_frontend_shows_one_block_and_does_not_raise(kernel):
    """Check that a frontend's request (allow_stdin=True) gets status ok and one FAIL block with an HTML form."""
    status, outputs = _run(kernel, FAILING, allow_stdin=True)
    assert status == "ok", outputs
    assert not [o for o in outputs if o["type"] == "error"]
    texts = [o["data"]["text/plain"] for o in outputs if o["type"] == "display_data"]
    streams = "".join(o.get("text", "") for o in outputs if o["type"] == "stream")
    assert len(texts) == 1 and texts[0].startswith("FAIL clip_numel") and "FAIL" not in streams
    html = next(o["data"]["text/html"] for o in outputs if o["type"] == "display_data")
    assert "FAIL clip_numel" in html and "not implemented yet" in html


def test_a_failed_check_under_headless_execution_raises(kernel):
    """Check that nbclient's request (allow_stdin=False) fails the cell with CheckFailed."""
    status, outputs = _run(kernel, FAILING, allow_stdin=False)
    assert status == "error"
    errors = [o for o in outputs if o["type"] == "error"]
    assert [e["ename"] for e in errors] == ["CheckFailed"] and "not implemented yet" in errors[0]["evalue"]


def test_nbgrader_execution_marker_raises_even_with_stdin(kernel):
    """Check that nbgrader's NBGRADER_EXECUTION (set around validate/autograde) makes a failure raise."""
    status, _ = _run(kernel, "import os; os.environ['NBGRADER_EXECUTION'] = 'validate'\n" + FAILING, allow_stdin=True)
    assert status == "error"
    status, _ = _run(kernel, "import os; del os.environ['NBGRADER_EXECUTION']\nos.environ['BEYOND2D_CHECK'] = 'show'\n"
                     + FAILING, allow_stdin=False)
    assert status == "ok"
    _run(kernel, "import os; del os.environ['BEYOND2D_CHECK']", allow_stdin=True)


def test_a_passing_check_shows_pass_in_both_modes(kernel):
    """Check that a right function passes quietly in both modes."""
    code = "from autograder import check\nfrom course.video.sampling import clip_numel\ncheck(clip_numel)"
    for allow_stdin in (True, False):
        status, outputs = _run(kernel, code, allow_stdin=allow_stdin)
        assert status == "ok"
        assert any(o["type"] == "display_data" and o["data"]["text/plain"].startswith("PASS clip_numel")
                   for o in outputs)
