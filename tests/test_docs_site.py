"""The documentation site builds in strict mode (a broken link or a missing reference fails it),
documents every public name of autograd, nn and viz, and its pages work in headless Chromium.

To keep CI cheap the build here executes only notebook 02 (it exports a step-through page, so
the embedding is tested); `./dev.sh docs` executes all of them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings")
pytest.importorskip("mkdocs_jupyter")
yaml = pytest.importorskip("yaml")

import autograd  # noqa: E402
import nn  # noqa: E402
import viz  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
EXECUTED = "02_step_through_debugging"
CONCEPTS = [
    "backward-policy",
    "broadcasting",
    "higher-order",
    "custom-ops",
    "anomaly-detection",
    "scalar-twin",
]


def build(project, site, execute="0"):
    env = dict(os.environ, STEPGRAD_DOCS_EXECUTE=execute, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "site"
    done = build(ROOT, out, execute=f"{EXECUTED}*")
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    return out


def test_strict_mode_fails_on_a_broken_link(tmp_path):
    ours = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert ours["strict"] is True
    config = {"site_name": "t", "strict": True, "validation": ours["validation"]}
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# t\n\n[gone](missing.md)\n", encoding="utf-8")
    done = build(tmp_path, tmp_path / "site")
    assert done.returncode != 0 and "missing.md" in done.stderr


@pytest.mark.parametrize("module", [autograd, nn, viz], ids=lambda m: m.__name__)
def test_every_public_name_has_its_entry(site, module):
    page = (site / "api" / module.__name__ / "index.html").read_text(encoding="utf-8")
    missing = [n for n in module.__all__ if f'id="{module.__name__}.{n}"' not in page]
    assert not missing, f"api/{module.__name__}.md does not document {missing}"


def test_doctest_examples_are_shown_as_code(site):
    page = (site / "api" / "autograd" / "index.html").read_text(encoding="utf-8")
    assert '<span class="gp">&gt;&gt;&gt; </span>' in page  # highlighted as console code
    assert "&gt;&gt;&gt; from" not in page  # no doctest left as plain text


def test_pages_exist_for_concepts_and_every_notebook(site):
    for name in CONCEPTS:
        assert (site / "concepts" / name / "index.html").exists(), name
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert (site / "notebooks" / nb.stem / "index.html").exists(), nb.name
    for picture in ("iris_loss_graph.svg", "iris_backprop.png"):
        assert (site / "images" / picture).exists()


def test_the_executed_notebook_has_outputs_and_its_step_through_page(site):
    folder = site / "notebooks" / EXECUTED
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "<svg" in page  # the graphs it drew
    assert "gradcheck failed" in page  # a printed output
    exported = sorted(p.name for p in folder.glob("*.html") if p.name != "index.html")
    assert exported, "no step-through page was copied beside the notebook"
    for name in exported:
        assert f'<iframe class="stepgrad-export" src="{name}"' in page


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (./dev.sh test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(browser, path):
    """A page where nothing leaves the machine: requests other than file:// are aborted and
    recorded, and page errors are recorded."""
    pg = browser.new_page()
    pg.outside, pg.errors = [], []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(("file:", "data:", "about:")):
            return r.continue_()
        pg.outside.append(r.request.url)
        return r.abort()

    pg.route("**/*", route)
    pg.goto(path.as_uri())
    return pg


def test_home_page_shows_both_pictures(site, browser):
    pg = open_page(browser, site / "index.html")
    widths = pg.eval_on_selector_all("article img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 100 for w in widths)
    assert pg.outside == [] and pg.errors == []
    pg.close()


def test_api_page_and_concept_page_render(site, browser):
    pg = open_page(browser, site / "api" / "autograd" / "index.html")
    assert pg.is_visible("[id='autograd.gradcheck']")
    assert pg.outside == [] and pg.errors == []
    pg.goto((site / "concepts" / "custom-ops" / "index.html").as_uri())
    text = pg.inner_text("article")
    assert "<- differs" in text and "0.75" in text
    pg.close()


def test_the_embedded_step_through_page_steps(site, browser):
    pg = open_page(browser, site / "notebooks" / EXECUTED / "index.html")
    frame = pg.frame_locator("iframe.stepgrad-export").first
    app = frame.locator("#stepgrad-app")
    app.locator("svg").first.wait_for()
    app.click()
    app.press("ArrowRight")
    assert "step 1 /" in frame.locator("body").inner_text()
    assert pg.errors == []
    # only MathJax (for the notebook's formulas) is asked for outside; it is blocked here
    assert all("mathjax" in url.lower() for url in pg.outside), pg.outside
    pg.close()
