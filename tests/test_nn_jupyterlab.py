"""fit's Keras 3 output in a real JupyterLab: a notebook cell trains the seed's network with
verbose=1, a headless Chromium (Debian's, driven by Playwright, as tests/test_viz_jupyterlab.py
does) runs it, and the output area must read as Keras 3's does: a header and one finished
progress line per epoch (the carriage returns of the redraws folded away), then evaluate's."""

import os
import re
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
CELL = """import numpy as np
import nn
nn.manual_seed(0)
x = np.random.default_rng(0).normal(size=(100, 3))
y = (x.sum(axis=1) > 0) * 1.0
model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(3,)),
                       nn.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=3)
model.evaluate(x, y)
print("done")"""
LINE = r"4/4 ━{20} \d+s \d+[mu]?s/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "fit.ipynb")
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
        yield f"http://127.0.0.1:{port}/lab/tree/fit.ipynb?token=stepgrad"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_fit_prints_keras_lines_in_jupyterlab(lab):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=60_000)
            for _ in range(3):
                page.click(".jp-Cell .jp-InputArea-editor >> nth=0")
                page.keyboard.press("Control+Enter")
                try:
                    page.wait_for_selector(".jp-OutputArea-output >> text=done", timeout=30_000)
                    break
                except sync_api.TimeoutError:
                    continue
            else:
                pytest.fail("the cell never finished; the page reads:\n" + page.inner_text("body"))
            text = page.inner_text(".jp-Cell .jp-OutputArea")
        finally:
            browser.close()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    assert [ln for ln in lines if ln.startswith("Epoch")] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    bars = [ln for ln in lines if re.fullmatch(LINE, ln)]
    assert len(bars) == 4, lines  # one per epoch and evaluate's, each redrawn in place
    assert not any("\r" in ln for ln in lines) and lines[-1] == "done"
    assert not [ln for ln in lines if ln.startswith(("0/4", "1/4", "2/4", "3/4"))]
