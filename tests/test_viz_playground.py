"""viz.playground: the training it drives (in Python) and the widget in a real JupyterLab
(headless Chromium): play trains while the kernel stays free for other cells, pause stops,
step trains one batch, the boundary picture changes, and the step-through of a batch opens."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

pytest.importorskip("anywidget")
import viz  # noqa: E402
from viz.playground_widget import RES, THUMB, Playground, make_data  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = os.environ.get("STEPGRAD_SHOTS")  # a folder: the browser test saves screenshots there


# --- the Python side --------------------------------------------------------------------------


def test_training_moves_the_boundary_and_learns_moons():
    pg = viz.playground(seed=0)
    assert pg.sizes == [2, 8, 8, 1]
    assert len(pg.boundary) == RES * RES and len(pg.neurons) == 16 * THUMB * THUMB
    before = pg.boundary_array().copy()
    first_loss = pg.history[0][1]
    assert pg.train(300) == 300 and pg.batches == 300
    assert np.abs(pg.boundary_array() - before).max() > 0.3
    assert pg.history[-1][0] == 300 and pg.history[-1][1] < first_loss / 2
    assert pg.accuracy() >= 0.8
    # the bytes the page paints are the boundary: probability * 255
    shown = np.frombuffer(pg.boundary, np.uint8).reshape(RES, RES)
    assert np.abs(shown / 255 - pg.boundary_array()).max() <= 0.5 / 255 + 1e-6


def test_same_seed_same_run_and_reset_draws_new_weights():
    a, b = viz.playground(seed=3), viz.playground(seed=3)
    a.train(50)
    b.train(50)
    assert a.boundary == b.boundary and a.history == b.history
    w0 = a.model.layers[0].weight.data.copy()
    a.reset()
    assert a.batches == 0 and len(a.history) == 1
    assert not np.allclose(a.model.layers[0].weight.data, w0)


def test_controls_rebuild_or_apply():
    pg = viz.playground(seed=0, depth=1, width=4)
    pg.train(5)
    pg.width = 6
    assert pg.sizes == [2, 6, 1] and pg.batches == 0
    pg.depth = 0
    assert pg.sizes == [2, 1] and pg.neurons == b""
    pg.train(3)
    pg.lr = 0.5
    assert pg._opt.lr == 0.5 and pg.batches == 3  # applies from the next batch, no restart
    pg.dataset = "xor"
    assert sorted({p[2] for p in pg.points}) == [0, 1] and pg.batches == 0
    pg.optimizer = "adam"
    assert type(pg._opt).__name__ == "Adam"


def test_batch_loss_is_the_batch_step_trains_next():
    pg = viz.playground(seed=1, batch_size=7)
    loss = pg.batch_loss()
    assert loss.label == "loss" and loss.shape == ()
    w = pg.model.layers[0].weight
    loss.backward()
    expected = -pg.lr * w.grad  # the SGD step the next batch makes
    before = w.data.copy()
    pg.model.zero_grad()
    pg.step()
    np.testing.assert_allclose(w.data - before, expected, rtol=1e-4, atol=1e-7)


def test_the_last_batch_of_an_epoch_is_peeked_and_trained_alike():
    pg = viz.playground(seed=0, n_samples=40, batch_size=15)  # 20 training points: 1 batch/epoch
    pg.train(1)
    peek = pg.batch_loss().data.item()  # a new epoch starts here
    pg.step()
    assert pg.epoch == 1
    pg2 = viz.playground(seed=0, n_samples=40, batch_size=15)
    pg2.train(1)
    assert pg2.batch_loss().data.item() == peek


def test_step_through_message_sets_a_viewer_payload():
    pg = viz.playground(seed=0, depth=1, width=3)
    sent = []
    pg.send = sent.append
    pg._on_msg(pg, {"do": "inspect"}, [])
    assert sent == [{"done": "inspect"}]
    assert pg.inspect["svg"].lstrip().startswith("<svg") and pg.inspect["data"]["steps"]
    assert "layers.0.weight" in pg.inspect["svg"]
    pg._on_msg(pg, {"do": "train", "n": 2}, [])
    assert sent[-1] == {"done": "train", "n": 2} and pg.batches == 2
    assert pg.inspect == {}  # the batch it showed has been trained
    pg._on_msg(pg, {"do": "train", "ms": 5}, [])
    assert sent[-1]["n"] >= 1
    pg._on_msg(pg, {"do": "dance"}, [])
    assert sent[-1]["error"].startswith("ValueError: playground: unknown request")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dataset": "blobs"}, "dataset must be one of ('moons', 'circles', 'spirals', 'xor')"),
        ({"depth": 9}, "depth must be an int from 0 to 6, got 9"),
        ({"width": 0}, "width must be an int from 1 to 16, got 0"),
        ({"activation": "gelu"}, "activation must be one of"),
        ({"lr": -1.0}, "lr must be a positive number, got -1.0"),
        ({"batch_size": 0}, "batch_size must be an int from 1 to 10000, got 0"),
        ({"test_fraction": 1.0}, "test_fraction must be in (0, 1), got 1.0"),
    ],
)
def test_bad_controls_say_what_is_allowed(kwargs, message):
    with pytest.raises((ValueError, Exception)) as e:
        viz.playground(**kwargs)
    assert message in str(e.value)


def test_bad_control_set_later_is_refused_and_state_kept():
    pg = viz.playground(seed=0)
    with pytest.raises(Exception, match="width must be an int from 1 to 16, got 40"):
        pg.width = 40
    assert pg.width == 8 and pg.sizes == [2, 8, 8, 1]
    with pytest.raises(TypeError, match="unknown control 'colour'"):
        Playground(colour="red")
    with pytest.raises(ValueError, match="train: n must be an int >= 1"):
        pg.train(0)


def test_data_sets_are_two_classes_in_the_unit_square():
    for name in ("moons", "circles", "spirals", "xor"):
        X, y = make_data(name, 100, seed=0)
        assert X.shape == (100, 2) and set(np.unique(y).tolist()) == {0.0, 1.0}
        assert np.abs(X).max() == pytest.approx(1.0)


# --- the widget in JupyterLab -----------------------------------------------------------------

CELL = """import viz
pg = viz.playground(seed=0)
pg"""
CELL2 = """print("kernel answered at batch", pg.batches)"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL), nbformat.v4.new_code_cell(CELL2)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "playground.ipynb")
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
        yield f"http://127.0.0.1:{port}/lab/tree/playground.ipynb?token=stepgrad"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


PIXELS = """() => {
  const c = document.querySelector('.pg-boundary');
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
}"""
BATCHES = "() => Number(document.querySelector('.pg-counter').dataset.batches)"
SHOWN = "() => Number(document.querySelector('.pg-boundary').dataset.batches)"


def _shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")
def test_playground_in_jupyterlab(lab):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=60_000)
            for _ in range(3):
                page.click(".jp-Cell .jp-InputArea-editor >> nth=0")
                page.keyboard.press("Control+Enter")
                try:
                    page.wait_for_selector(".pg-boundary[data-batches='0']", timeout=20_000)
                    break
                except sync_api.TimeoutError:
                    continue
            else:
                pytest.fail(
                    "the playground never showed; the page reads:\n" + page.inner_text("body")
                )
            page.wait_for_timeout(300)
            _shot(page, "1_start")
            start = page.evaluate(PIXELS)
            assert len(start) == RES * RES * 4
            # 16 hidden neurons + 2 inputs + 1 output, each a picture
            assert page.locator(".pg-neuron").count() == 19
            assert page.locator(".pg-links path").count() == 2 * 8 + 8 * 8 + 8

            # step: exactly one batch, and the picture changes
            page.click("button.pg-step")
            page.wait_for_function(f"() => ({SHOWN})() === 1")
            one = page.evaluate(PIXELS)
            assert one != start
            assert page.evaluate(BATCHES) == 1

            # play: the page keeps asking for slices; the kernel still runs another cell
            page.click("button.pg-play")
            page.wait_for_function(f"() => ({SHOWN})() > 50", timeout=30_000)
            page.click(".jp-Cell .jp-InputArea-editor >> nth=1")
            page.keyboard.press("Control+Enter")
            page.wait_for_selector("text=kernel answered at batch", timeout=20_000)
            answered = int(page.inner_text(".jp-OutputArea-output >> text=kernel answered")
                           .split()[-1])  # fmt: skip
            assert answered > 50
            page.wait_for_function(f"() => ({SHOWN})() > {answered}", timeout=20_000)
            _shot(page, "2_playing")

            # pause: the count stops
            page.click("button.pg-play")
            page.wait_for_timeout(600)  # the slice in flight lands
            paused = page.evaluate(BATCHES)
            page.wait_for_timeout(800)
            assert page.evaluate(BATCHES) == paused
            trained = page.evaluate(PIXELS)
            assert trained != one

            # step one batch from the paused state
            page.click("button.pg-step")
            page.wait_for_function(f"() => ({BATCHES})() === {paused + 1}")

            # the step-through of the next batch's loss opens inside the playground
            page.click("button.pg-inspect")
            page.wait_for_selector(".pg-inspect-area .stepgrad-bar", timeout=30_000)
            page.wait_for_timeout(500)
            _shot(page, "3a_opened")
            title = page.inner_text(".pg-inspect-title")
            assert title == f"the loss of the next batch (10 points), batch {paused + 2}"
            status = page.locator(".pg-inspect-area .stepgrad-status")
            assert status.inner_text().startswith("step 0 / ")
            page.click(".pg-inspect-area button:has-text('next')")
            page.wait_for_function(
                "() => document.querySelector('.pg-inspect-area .stepgrad-status')"
                ".textContent.startsWith('step 1')"
            )
            assert page.inner_text(".pg-inspect-area .stepgrad-panel").startswith("dloss/dloss = 1")
            page.wait_for_timeout(300)
            _shot(page, "3_step_through")
            # training again closes it (the batch it showed is trained)
            page.click("button.pg-step")
            page.wait_for_function(f"() => ({BATCHES})() === {paused + 2}")
            page.wait_for_function(
                "() => !document.querySelector('.pg-inspect-area .stepgrad-bar')"
            )

            # a control from the page rebuilds the network in the kernel
            page.select_option("select[aria-label='data']", "circles")
            page.wait_for_function(f"() => ({BATCHES})() === 0")
            page.wait_for_timeout(300)
            _shot(page, "4_circles")
        finally:
            browser.close()
