"""MkDocs hooks for stepgrad's site: the notebooks under notebooks/ become pages, executed at
build time, and the step-through pages they export (viz.export_html) are put beside them and
embedded, so they work on a static site.

STEPGRAD_DOCS_EXECUTE: "1" executes every notebook (./dev.sh docs), "0" none (the pages then
show the code without outputs), or a glob such as "02_*" executes only the matching ones.
"""

import fnmatch
import html
import os
import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
_stage = []  # the folder of this build's executed notebooks and what they wrote
_exported = {}  # notebook stem -> [file names of its step-through pages, beside its page]


def _wanted(stem):
    how = os.environ.get("STEPGRAD_DOCS_EXECUTE", "0")
    if how in ("0", ""):
        return False
    return how == "1" or fnmatch.fnmatch(stem, how)


def _execute(src, dest):
    """Run a copy of notebook `src` in an empty folder (with notebooks/data beside it) and write
    it with its outputs to `dest`; returns the .html files it wrote, by name -> path."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(src, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data").symlink_to(NOTEBOOKS / "data")
        env = {"OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
        os.environ.update(env)
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(work)}},
            record_timing=False,
        )
        client.execute()
        _drop_widget_views(nb)
        nbformat.write(nb, dest)
        pages = {}
        for page in sorted(work.rglob("*.html")):
            if "data" in page.relative_to(work).parts[:1]:
                continue
            name = "-".join(page.relative_to(work).parts)
            pages[name] = dest.parent / f"{src.stem}-{name}"
            shutil.copyfile(page, pages[name])
        return pages


def _drop_widget_views(nb):
    """Live widgets need a kernel (and a widget manager from the network): a static page keeps
    their text form; the exported step-through pages take their place."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if data.pop("application/vnd.jupyter.widget-view+json", None) is not None:
                data["text/plain"] = "(a live widget: it runs in Jupyter with a kernel)"


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files, config):
    _stage.append(Path(tempfile.mkdtemp(prefix="stepgrad-docs-")))
    stage = _stage[-1] / "notebooks"
    stage.mkdir()
    _exported.clear()
    for src in sorted(NOTEBOOKS.glob("*.ipynb")):
        dest = stage / src.name
        if _wanted(src.stem):
            pages = _execute(src, dest)
            _exported[src.stem] = sorted(pages)
            for path in pages.values():
                uri = f"notebooks/{src.stem}/{path.name.removeprefix(src.stem + '-')}"
                files.append(File.generated(config, uri, abs_src_path=str(path)))
        else:
            shutil.copyfile(src, dest)
        files.append(
            File(
                f"notebooks/{src.name}",
                src_dir=str(_stage[-1]),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def on_page_content(content, page, config, files):
    stem = Path(page.file.src_uri).stem
    if not page.file.src_uri.startswith("notebooks/") or stem not in _exported:
        return content
    names = _exported[stem]
    if not names:
        return content
    parts = [
        '<h2 id="step-through-pages">The step-through pages this notebook wrote</h2>',
        "<p>Each is the offline page <code>viz.export_html</code> made when the notebook ran "
        "for this site: click into it and use the buttons or the arrow keys.</p>",
    ]
    for name in names:
        src = html.escape(name)
        parts.append(
            f'<p><a href="{src}">{src}</a> (opens alone)</p>'
            f'<iframe class="stepgrad-export" src="{src}" title="{src}" '
            'style="width:100%;height:640px;border:1px solid #ccc"></iframe>'
        )
    return content + "\n".join(parts)


def on_config(config):
    """Add every notebook to the nav, in file order, so a new notebook needs no edit here."""
    pages = [f"notebooks/{p.name}" for p in sorted(NOTEBOOKS.glob("*.ipynb"))]
    config["nav"].append({"Notebooks": pages})
    return config


def on_post_build(config):
    while _stage:
        shutil.rmtree(_stage.pop(), ignore_errors=True)


def on_build_error(error):
    on_post_build(None)


SUBMODULES = "<!-- public submodules -->"


def on_page_markdown(markdown, page, config, files):
    """On an API page, the marker line becomes one `::: package.sub` section for each public
    submodule (in the package's __all__) not already on the page, so a new one is documented
    without an edit here."""
    if SUBMODULES not in markdown:
        return markdown
    import importlib
    import types

    name = Path(page.file.src_uri).stem
    package = importlib.import_module(name)
    sections = [
        f"::: {name}.{sub}"
        for sub in package.__all__
        if isinstance(getattr(package, sub), types.ModuleType)
        and f"::: {name}.{sub}\n" not in markdown
    ]
    return markdown.replace(SUBMODULES, "\n\n".join(sections))
