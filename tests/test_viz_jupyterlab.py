"""The step-through widget in a real JupyterLab: a notebook cell makes `viz.step_through(c)`, a
headless Chromium (Debian's, driven by Playwright) runs it, clicks next, and reads the chain rule
the widget shows. This is the path a student takes; the other viz tests drive the viewer alone."""

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
CELL = """from autograd import Value
import viz
a, b = Value(2.0, label="a"), Value(-3.0, label="b")
c = a * b
c.label = "c"
viz.step_through(c)"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "widget.ipynb")
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
        yield f"http://127.0.0.1:{port}/lab/tree/widget.ipynb?token=stepgrad"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_step_through_widget_in_jupyterlab(lab):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            # run the cell once the kernel is up (a cell run while it starts can be dropped)
            page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=60_000)
            for _ in range(3):
                page.click(".jp-Cell .jp-InputArea-editor >> nth=0")
                page.keyboard.press("Control+Enter")
                try:
                    page.wait_for_selector(".stepgrad-bar", timeout=20_000)
                    break
                except sync_api.TimeoutError:
                    continue
            else:
                pytest.fail("the widget never showed; the page reads:\n" + page.inner_text("body"))
            assert page.inner_text(".stepgrad-status").startswith("step 0 / 3")
            page.click("button:has-text('next')")
            page.wait_for_function(
                "() => document.querySelector('.stepgrad-status').textContent.startsWith('step 1')"
            )
            panel = page.inner_text(".stepgrad-panel")
            # c = a * b at a = 2, b = -3: dc/da = b, dc/db = a
            assert panel.startswith("dc/dc = 1   (the seed")
            assert "dc/da += dc/dc * ∂c/∂a = 1.0 * -3.0 = -3.0" in panel
            assert "dc/db += dc/dc * ∂c/∂b = 1.0 * 2.0 = 2.0" in panel
        finally:
            browser.close()
