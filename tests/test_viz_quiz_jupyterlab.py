"""The quiz and the tape of `viz.step_through` in a real JupyterLab, driven by Debian's headless
Chromium: a learner's wrong answer is refused, a right one accepted, a third shown; the score
on the page and the widget's `score`/`results` in the kernel agree; the tape highlights the
line of the node the graph shows as current."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (./dev.sh test installs it)"
)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CELLS = [
    """from autograd import Value
import viz
a, b = Value(2.0, label="a"), Value(-3.0, label="b")
c = a * b
c.label = "c"
w = viz.step_through(c, quiz="leaves", tape=True)
w""",
    """print("score", w.score, sorted((r["name"], r["right"], r["tries"]) for r in w.results))""",
]
GRADS = {"a": -3.0, "b": 2.0}  # c = a * b at a = 2, b = -3: dc/da = b, dc/db = a


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "quiz.ipynb")
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root"),
            f"--port={port}",
            "--IdentityProvider.token=stepgrad",
            f"--ServerApp.root_dir={tmp_path}",
            "--LabApp.news_url=",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("jupyter lab did not start within 60 s")
        yield f"http://127.0.0.1:{port}/lab/tree/quiz.ipynb?token=stepgrad"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _run_cell(page, n, wait_for, sync_api):
    """Run cell n (a cell run while the kernel starts can be dropped: try again)."""
    for _ in range(3):
        page.click(f".jp-Cell .jp-InputArea-editor >> nth={n}")
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_selector(wait_for, timeout=20_000)
            return
        except sync_api.TimeoutError:
            continue
    pytest.fail(f"cell {n} showed no {wait_for}; the page reads:\n" + page.inner_text("body"))


def _current(page):
    """The id of the node the graph shows as current, and the tape's highlighted rows."""
    return page.evaluate(
        """() => [
        document.querySelector(".stepgrad-widget svg g.node.stepgrad-current")?.id ?? null,
        Array.from(document.querySelectorAll(".stepgrad-widget .stepgrad-tape-current"))
          .map(r => [r.dataset.kind, r.dataset.node, r.dataset.step ?? null])]"""
    )


def _answer(page, text):
    page.fill(".stepgrad-quiz-input", text)
    page.press(".stepgrad-quiz-input", "Enter")
    return page.get_attribute(".stepgrad-quiz-feedback", "data-verdict")


def test_quiz_and_tape_in_jupyterlab(lab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=60_000)
            _run_cell(page, 0, ".stepgrad-bar", sync_api)
            assert page.inner_text(".stepgrad-status").startswith("step 0 / 3")
            assert page.is_visible(".stepgrad-tape")  # tape=True: open from the start
            assert page.inner_text(".stepgrad-quiz-score") == "quiz: score 0 / 0 (2 to go)"
            page.click(".stepgrad-widget button.stepgrad-next")  # the root: not asked
            node, rows = _current(page)
            assert node == "v0" and ["forward", "v0", None] in rows
            assert page.is_hidden(".stepgrad-quiz-form")
            seen = []
            for k in (2, 3):
                page.click(".stepgrad-widget button.stepgrad-next")
                page.wait_for_selector(".stepgrad-quiz-form:not([hidden])")
                name = page.inner_text(".stepgrad-quiz-prompt").split("dc/d")[1].split()[0]
                seen.append(name)
                assert page.inner_text(".stepgrad-status").startswith(f"step {k} / 3: {name}")
                assert page.is_disabled(".stepgrad-widget button.stepgrad-next")
                node, rows = _current(page)
                assert rows[0] == ["forward", node, None]  # the tape line of the graph's node
                into = page.eval_on_selector_all(
                    ".stepgrad-tape-into", "rs => rs.map(r => r.dataset.node)"
                )
                assert into == [node]  # the adjoint line that made its gradient
                truth = GRADS[name]
                if k == 2:
                    assert _answer(page, str(truth)) == "right"
                else:
                    assert _answer(page, str(truth + 1)) == "wrong"
                    assert page.inner_text(".stepgrad-quiz-score").startswith("quiz: score 1 / 1")
                    page.click(".stepgrad-widget button.stepgrad-reveal")
                feedback = page.inner_text(".stepgrad-quiz-feedback")
                assert f"dc/d{name} = {truth}" in feedback
                assert f"grad {truth}" in page.text_content(f".stepgrad-widget g#{node}")
            assert sorted(seen) == ["a", "b"]
            assert page.inner_text(".stepgrad-quiz-score") == "quiz: score 1 / 2 · all 2 answered"
            page.screenshot(path=str(tmp_path / "lab_quiz.png"))
            # the kernel got the answers: the widget's score and results
            _run_cell(page, 1, "text=score (1, 2)", sync_api)
            out = page.inner_text(".jp-Cell >> nth=1")
            first, second = seen
            assert f"('{first}', True, 1)" in out and f"('{second}', False, 1)" in out, out
        finally:
            browser.close()
