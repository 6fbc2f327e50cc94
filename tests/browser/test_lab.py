"""The student's JupyterLab in a real browser: Run All on release lessons, widgets, the student's tools.

A student opens a release notebook in `make lab` and presses Run All with every stub untouched. This
test does the same: it starts JupyterLab from the project's venv on 127.0.0.1 (a free port, a token,
the student configuration of `make lab` in ``lab/student/``) on a temporary copy of ``notebooks/``,
drives it with Playwright in Debian's headless Chromium (``/usr/bin/chromium``; ``.ci/run`` installs
it), and asserts what the student must see:

- Run All (menu Run > Run All Cells) reaches the last cell: every code cell has an execution count;
- each check cell shows its verdict block ("FAIL <exercise>: ..."), and nothing else looks like an
  error (no traceback, no error output);
- figures are images (no text-only ``<Figure size ...>`` output; every image loaded);
- a widget slider moved by the keyboard (focus, ArrowRight) changes the widget's image;
- the student Lab offers the assignment list and Validate, not the formgrader, the course list or
  Create Assignment (and the instructor's Lab, as a control, does).

Screenshots go to ``build/browser/``. The browser tests run in one xdist group (one worker, one after
the other). Without Chromium or Playwright they skip, except in CI (env ``CI`` set), where they fail.
The test Lab differs from `make lab` only in what a test needs: empty user settings, notebook
windowing off (every cell in the DOM) and no news prompt.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from autograder.builder.release import lesson_ids
from autograder.paths import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("BEYOND2D_CHROMIUM", "/usr/bin/chromium"))
STUDENT_CONFIG = PROJECT_ROOT / "lab" / "student"  # what `make lab` puts on JUPYTER_CONFIG_PATH
SCREENSHOTS = PROJECT_ROOT / "build" / "browser"
LESSONS = lesson_ids()  # every lesson: this is the one execution of each release (tests/test_notebooks.py)
WIDGET_CALLS = ("clip_player(", "window_explorer(", "slice_viewer(")  # course.viz viewers with a slider
# Chromium as root on a machine without network or GPU: without the background-networking flags its
# connections are refused many at a time. Playwright adds --headless and a new empty profile itself.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
START_TIMEOUT_S = 180.0  # JupyterLab start (imports nbgrader; slow under load)
RUN_TIMEOUT_S = float(os.environ.get("BEYOND2D_BROWSER_RUN_TIMEOUT", "900"))  # one lesson's Run All

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _require_browser() -> None:
    """Skip without Chromium or Playwright on a developer's machine; fail in CI."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (Debian: apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + "; in CI this is a failure (.ci/run installs them)", pytrace=False)
        pytest.skip(message + " (outside CI this skips; set CI=1 to make it fail)")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies (Linux), so that a killed pytest
    leaves no JupyterLab (which shuts its kernels down on SIGTERM) behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# --- JupyterLab ------------------------------------------------------------------------------------

class Lab:
    """A JupyterLab server on 127.0.0.1 with a token, on a temporary copy of notebooks/."""

    def __init__(self, workdir: Path, config_path: Path | None) -> None:
        self.workdir = workdir
        self.root = workdir / "notebooks"
        shutil.copytree(PROJECT_ROOT / "notebooks", self.root)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.token = secrets.token_hex(16)
        self.log_path = workdir / "jupyterlab.log"
        # user dirs of its own (no settings or workspace of the machine's user leak in)
        dirs = {name: workdir / name for name in ("config", "data", "runtime", "settings", "workspaces")}
        for d in dirs.values():
            d.mkdir()
        settings = {
            # every cell in the DOM; start the notebook's kernel without the "Select Kernel" dialog
            # (which JupyterLab may show when the kernel specs arrive late, under load)
            "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                          "autoStartDefaultKernel": True},
            "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
        }
        for name, value in settings.items():
            path = dirs["settings"] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        # the kernel inherits this environment: no nbgrader execution marker, no BEYOND2D_CHECK override
        # (check() must decide "show" from the frontend's request), figures inline, OpenMP threads passive
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "NBGRADER_", "BEYOND2D_CHECK", "MPLBACKEND", "PYTEST_"))}
        env.update(OMP_WAIT_POLICY="PASSIVE", JUPYTER_CONFIG_DIR=str(dirs["config"]),
                   JUPYTER_DATA_DIR=str(dirs["data"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
                   JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
                   JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]))
        if config_path is not None:
            env["JUPYTER_CONFIG_PATH"] = str(config_path)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--ServerApp.allow_root=True", "--LabApp.news_url=None"]
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        self._wait_ready()

    def url(self, path: str = "lab") -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def http(self, path: str, method: str = "GET") -> int:
        """The HTTP status of a request to the server (with the token)."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code

    def api(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("status")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def shutdown_kernels(self) -> None:
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the server and its kernels
                self.proc.wait(timeout=30)
        self._log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def student_lab(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("student_lab"), STUDENT_CONFIG)
    yield lab
    lab.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    pg = context.new_page()
    yield pg
    context.close()


def _shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# --- the notebook in the page ----------------------------------------------------------------------

def _open_notebook(page: Any, lab: Lab, relpath: str) -> None:
    """Open a notebook in a new workspace (no tab of an earlier test restored); wait until every cell is
    in the page and the status bar shows its kernel idle."""
    cells = len(json.loads((lab.root / relpath).read_text())["cells"])
    page.goto(lab.url(f"lab/workspaces/{secrets.token_hex(4)}/tree/{relpath}"))
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell",
                           timeout=START_TIMEOUT_S * 1000)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        _no_dialog(page)
        if page.evaluate(READY_JS, cells):
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"{relpath}: after {START_TIMEOUT_S:.0f} s the notebook is not ready "
                         f"(status bar: {page.locator('#jp-main-statusbar').inner_text()!r})")


READY_JS = r"""(cells) => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const status = document.querySelector('#jp-main-statusbar')?.innerText || '';
    return !!panel && panel.querySelectorAll('.jp-Notebook .jp-Cell').length === cells
        && /\(ipykernel\) \| Idle/.test(status)
        && panel.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'idle';
}"""


def _no_dialog(page: Any) -> None:
    """Answer a "Select Kernel" dialog as a student would (Select: the notebook's Python 3 kernel);
    fail at once, with its text, on any other dialog (a dead kernel, a save conflict)."""
    dialog = page.locator(".jp-Dialog")
    if not dialog.count():
        return
    text = dialog.first.inner_text()
    if "Select Kernel" in text:
        print("JupyterLab asked to select a kernel: Select")
        dialog.first.locator("button", has_text=re.compile("^Select$")).click()
        return
    raise AssertionError(f"JupyterLab shows a dialog: {text!r}")


def _wait_for(page: Any, js: str, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate(js):
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _menu(page: Any, menu: str, item: str) -> None:
    """Click a main-menu item (menu bar label, then the item's label)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


PROMPTS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell .jp-InputArea-prompt'))
    .map(e => e.textContent.trim())"""
IDLE_JS = """() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator')
    ?.getAttribute('data-status') === 'idle'"""


def _run_all(page: Any) -> tuple[float, list[str]]:
    """Run > Run All Cells, then wait until the kernel is idle and no cell is queued or running."""
    start = time.monotonic()
    _menu(page, "Run", "Run All Cells")
    deadline = start + RUN_TIMEOUT_S
    prompts: list[str] = []
    while time.monotonic() < deadline:
        page.wait_for_timeout(2000)
        _no_dialog(page)
        prompts = page.evaluate(PROMPTS_JS)
        started = any(re.fullmatch(r"\[(\d+|\*)\]:", p) for p in prompts)
        if not started and time.monotonic() - start > 60:
            raise AssertionError(f"Run All did not start a cell within 60 s; prompts: {prompts[:5]}")
        ran = any(re.fullmatch(r"\[\d+\]:", p) for p in prompts)
        if ran and not any("*" in p for p in prompts) and page.evaluate(IDLE_JS):
            return time.monotonic() - start, prompts
    raise AssertionError(f"Run All did not finish within {RUN_TIMEOUT_S:.0f} s; prompts: {prompts}")


def _save(page: Any, path: Path) -> dict:
    """File > Save Notebook; wait until the tab is clean and the file on disk is the new, whole JSON."""
    before = path.stat().st_mtime_ns
    _no_dialog(page)
    _menu(page, "File", "Save Notebook")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        dirty = page.locator(".jp-mod-current.jp-mod-dirty, .lm-mod-current.jp-mod-dirty").count()
        if path.stat().st_mtime_ns != before and not dirty:
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError:  # the server is still writing it
                continue
    raise AssertionError(f"the notebook was not saved to {path} within 60 s")


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    elif output.get("output_type") == "error":
        text = f"{output.get('ename')}: {output.get('evalue')}"
    else:
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else text


def _describe(cells: list[dict]) -> str:
    """One line per code cell: index, execution count, and its outputs (kind, start of the text)."""
    lines = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        outs = []
        for o in cell.get("outputs", []):
            kind = o.get("output_type")
            if kind == "stream":
                kind = o.get("name")
            elif "data" in o:
                kind += "[" + ",".join(sorted(o["data"])) + "]"
            outs.append(f"{kind}: {_text(o)[:160]!r}")
        lines.append(f"  cell {i} [{cell.get('execution_count')}] " + (" | ".join(outs) or "(no output)"))
    return "\n".join(lines)


def _is_check_cell(cell: dict) -> bool:
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    return cell["cell_type"] == "code" and nbg.get("grade") and not nbg.get("solution") and "check(" in "".join(cell["source"])


# --- widgets --------------------------------------------------------------------------------------

WIDGETS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output'))
    .map((out, i) => [i, out.querySelectorAll('.widget-slider .noUi-handle').length,
                      out.querySelectorAll('.widget-image').length])
    .filter(([i, s, im]) => s > 0 && im > 0).map(([i]) => i)"""
IMAGES_JS = """async (i) => {
    const out = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')[i];
    const result = [];
    for (const img of out.querySelectorAll('img.widget-image')) {
        const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
        let h = 0; for (const b of bytes) h = (h * 31 + b) >>> 0;
        result.push(img.src.slice(0, 60) + ' ' + bytes.length + ' bytes #' + h);
    }
    return result;
}"""


def _move_slider(page: Any, output_index: int, name: str) -> tuple[list[str], list[str]]:
    """Focus the first slider handle of a widget output, press ArrowRight; return images before/after."""
    outputs = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output")
    widget = outputs.nth(output_index)
    widget.scroll_into_view_if_needed()
    before = page.evaluate(IMAGES_JS, output_index)
    widget.screenshot(path=str(SCREENSHOTS / f"{name}-before.png"))
    handle = widget.locator(".widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
    after = before
    deadline = time.monotonic() + 20  # the kernel renders the new image
    while after == before and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        after = page.evaluate(IMAGES_JS, output_index)
    widget.screenshot(path=str(SCREENSHOTS / f"{name}-after.png"))
    return before, after


# --- a student's Run All ---------------------------------------------------------------------------

def _outputs(cells: list[dict]) -> Iterator[tuple[int, dict]]:
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            for o in cell.get("outputs", []):
                yield i, o


def _student_run_all(page: Any, lab: Lab, relpath: str, name: str) -> tuple[list[str], str]:
    """Open a notebook, Run All, save; return what a student would see wrong, and a dump of the cells.

    No problem means: Run All reached the last cell; each check cell shows a FAIL verdict block
    (displayed, not raised); no other error-looking output; figures are images; each slider-and-image
    widget changes its image when its slider is moved with the keyboard.
    """
    nb_path = lab.root / relpath
    release = json.loads(nb_path.read_text())
    check_cells = [i for i, c in enumerate(release["cells"]) if _is_check_cell(c)]
    code_cells = [i for i, c in enumerate(release["cells"]) if c["cell_type"] == "code"]
    wants_widget = any(call in "".join(c["source"]) for c in release["cells"] if c["cell_type"] == "code"
                       for call in WIDGET_CALLS)
    panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    _open_notebook(page, lab, relpath)
    _shot(page, f"{name}-0-open")
    seconds, prompts = _run_all(page)
    print(f"{name}: Run All took {seconds:.1f} s in the browser")
    _shot(page, f"{name}-1-after-run-all")
    cells = _save(page, nb_path)["cells"]
    problems: list[str] = []

    # 1. Run All reached the end: every code cell ran, the last one too, in order
    counts = [cells[i].get("execution_count") for i in code_cells]
    if len(prompts) != len(code_cells):
        problems.append(f"{len(prompts)} code cells in the page, {len(code_cells)} in the file")
    if counts[-1] is None or not re.fullmatch(r"\[\d+\]:", prompts[-1]):
        problems.append(f"the last code cell did not run (last prompts {prompts[-3:]})")
    if None in counts:
        problems.append(f"cells {[i for i in code_cells if cells[i].get('execution_count') is None]} did not run")
    elif counts != sorted(counts):
        problems.append(f"cells ran out of order: {counts}")

    # 2. each check cell shows its verdict as a displayed block (check() did not raise); nothing else
    #    looks like an error: no error output, nothing on stderr (JupyterLab shows it in red)
    errors = [(i, _text(o)[:200]) for i, o in _outputs(cells) if o.get("output_type") == "error"]
    if errors:
        problems.append(f"cells raised, which stops Run All: {errors}")
    stderr = [(i, _text(o)[:200]) for i, o in _outputs(cells) if o.get("name") == "stderr"]
    if stderr:
        problems.append(f"text on stderr (shown like an error): {stderr}")
    verdicts = [(i, o) for i, o in _outputs(cells) if re.search(r"^(PASS|FAIL) \w+: ", _text(o), re.M)]
    missing = [i for i in check_cells if not any(j == i and _text(o).startswith("FAIL ") for j, o in verdicts)]
    if not check_cells or missing:
        problems.append(f"check cells {missing or check_cells} show no 'FAIL <exercise>: ...' verdict "
                        "(the stubs are untouched)")
    not_blocks = [(i, o.get("output_type"), _text(o)[:80]) for i, o in verdicts
                  if o.get("output_type") != "display_data" or "text/html" not in o.get("data", {})]
    if not_blocks:
        problems.append(f"verdicts not shown as a displayed block: {not_blocks}")
    blocks = page.locator(f"{panel} .jp-OutputArea-output pre", has_text=re.compile(r"^(PASS|FAIL) \w+: "))
    if blocks.count() != len(verdicts):
        problems.append(f"{blocks.count()} verdict blocks in the page, {len(verdicts)} in the file")
    if blocks.count():
        blocks.first.scroll_into_view_if_needed()
        blocks.first.screenshot(path=str(SCREENSHOTS / f"{name}-2-check-verdict.png"))
    red = page.locator(f"{panel} .jp-OutputArea-output[data-mime-type$='error'], "
                       f"{panel} .jp-OutputArea-output[data-mime-type$='stderr']").count()
    if red != len(errors) + len(stderr):
        problems.append(f"{red} error or stderr outputs in the page, {len(errors) + len(stderr)} in the file")

    # 3. figures are images
    text_figures = [(i, _text(o)[:80]) for i, o in _outputs(cells)
                    if "<Figure size" in _text(o) and "image/png" not in o.get("data", {})]
    if text_figures:
        problems.append(f"figures shown as text only: {text_figures}")
    png_outputs = sum("image/png" in o.get("data", {}) for _, o in _outputs(cells))
    images = page.evaluate(f"""() => Array.from(document.querySelectorAll(
        '{panel} .jp-RenderedImage img')).map(i => i.complete && i.naturalWidth > 0)""")
    if len(images) != png_outputs or not all(images):
        problems.append(f"{sum(images)} loaded images in the page for {png_outputs} image/png outputs")

    # 4. a widget slider moved by the keyboard changes the image
    widgets = page.evaluate(WIDGETS_JS)
    if wants_widget and not widgets:
        problems.append("the lesson calls a course.viz viewer, but no slider-and-image widget rendered")
    for k, index in enumerate(widgets[:2]):
        before, after = _move_slider(page, index, f"{name}-3-widget{k}")
        if not before or after == before:
            problems.append(f"widget {k}: ArrowRight on its slider did not change the image ({before} -> {after})")
    return problems, f"\ncells after Run All ({name}):\n{_describe(cells)}"


# --- the tests ------------------------------------------------------------------------------------

@pytest.mark.lessons
@pytest.mark.parametrize("lesson", LESSONS)
def test_run_all_of_a_release_lesson_in_the_browser(lesson: str, student_lab: Lab, page: Any) -> None:
    """A student's Run All on the release lesson, stubs untouched, reaches the end with only check verdicts failing."""
    try:
        problems, report = _student_run_all(page, student_lab, f"{lesson}/{lesson}.ipynb", lesson)
        assert not problems, "\n".join(problems) + report
    except Exception:
        _shot(page, f"{lesson}-failure")
        print(f"JupyterLab log (tail):\n{student_lab.log_tail()}")
        raise
    finally:
        student_lab.shutdown_kernels()


def test_the_run_all_probe_finds_what_a_student_would_see_wrong(student_lab: Lab, page: Any) -> None:
    """The control: a notebook with each known defect; the probe of the lesson test names every one."""
    import nbformat

    def cell(source: str, **nbgrader: Any) -> Any:
        c = nbformat.v4.new_code_cell(source)
        if nbgrader:
            c.metadata["nbgrader"] = {"schema_version": 3, "locked": True, "points": 1, **nbgrader}
        return c

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [
        cell("import sys\nimport ipywidgets as widgets\nimport matplotlib.pyplot as plt\nfrom autograder import check"),
        cell("def rescale_to_hu(stored, slope, intercept):\n    raise NotImplementedError()"),
        cell('"""Check that rescale_to_hu ..."""\ncheck(rescale_to_hu)', grade=True, solution=False,
             grade_id="test_rescale_to_hu"),
        cell("print(plt.figure(figsize=(2, 2)))  # a figure as text"),
        cell('print("a warning", file=sys.stderr)'),
        cell("widgets.VBox([widgets.IntSlider(description='frame'), widgets.Image(format='png', value=b'')])"
             "  # a slider linked to nothing"),
        cell('raise ValueError("a cell that raises stops Run All")'),
        cell("print('the last cell')"),
    ]
    (student_lab.root / "probe").mkdir(exist_ok=True)
    nbformat.write(nb, student_lab.root / "probe" / "probe.ipynb")
    try:
        problems, report = _student_run_all(page, student_lab, "probe/probe.ipynb", "probe")
    finally:
        student_lab.shutdown_kernels()
    found = "\n".join(problems)
    for expected in ("the last code cell did not run", "cells raised", "text on stderr",
                     "figures shown as text only", "did not change the image"):
        assert expected in found, f"the probe missed {expected!r}; it found:\n{found}{report}"
    assert "verdict" not in found, f"the check cell's FAIL block was not recognised:\n{found}{report}"


def _tools_seen(page: Any, lab: Lab) -> dict[str, Any]:
    """What nbgrader shows a user of this Lab: menu items, sidebar tabs, notebook toolbar, server routes."""
    _open_notebook(page, lab, "01_video_tensors/01_video_tensors.ipynb")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    menu = [t.strip() for t in page.locator(".lm-Menu-content .lm-Menu-item:visible .lm-Menu-itemLabel").all_inner_texts()]
    page.keyboard.press("Escape")
    sidebars = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-SideBar .lm-TabBar-tab'))
        .map(e => (e.getAttribute('title') || '') + ' ' + (e.getAttribute('data-id') || ''))""")
    toolbar = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar").inner_text()
    lab.shutdown_kernels()
    return {
        "menu": menu,
        "create_assignment_tab": any("create_assignemnt" in s or "Create Assignment" in s for s in sidebars),
        "validate_button": "Validate" in toolbar,
        "formgrader_route": lab.http("formgrader"),        # nbgrader.server_extensions.formgrader
        "course_list_route": lab.http("formgraders"),      # nbgrader.server_extensions.course_list
        "assignment_list_route": lab.http("nbgrader_version?version=0"),  # assignment_list / validate
    }


def test_student_lab_shows_only_the_students_nbgrader_tools(student_lab: Lab, page: Any) -> None:
    """`make lab`: assignment list and Validate, no formgrader, course list or Create Assignment."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^lab:.*\n(\t.*\n)*\t.*JUPYTER_CONFIG_PATH=\S*lab/student", makefile, re.M), \
        "make lab must put lab/student on JUPYTER_CONFIG_PATH (the configuration tested here)"
    seen = _tools_seen(page, student_lab)
    _shot(page, "student-lab-tools")
    assert seen["menu"] == ["Assignment List"], seen
    assert not seen["create_assignment_tab"], seen
    assert seen["validate_button"], seen
    assert seen["formgrader_route"] == 404 and seen["course_list_route"] == 404, seen
    assert seen["assignment_list_route"] != 404, seen


def test_instructor_lab_keeps_the_formgrader(browser: Any, page: Any, tmp_path: Path) -> None:
    """The control: without the student configuration the same probes see the instructor's tools."""
    lab = Lab(tmp_path, None)
    try:
        seen = _tools_seen(page, lab)
        _shot(page, "instructor-lab-tools")
    finally:
        lab.stop()
    assert {"Assignment List", "Formgrader", "Create assignment"} <= set(seen["menu"]), seen
    assert seen["create_assignment_tab"], seen
    assert seen["formgrader_route"] != 404 and seen["course_list_route"] != 404, seen
