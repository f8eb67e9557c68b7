"""`export_html`: the step-through viewer as one self-contained, offline HTML file.

Everything is inline (the SVG, static/viewer.js, static/viewer.css, the steps as JSON); a
Content-Security-Policy allows only those inline scripts and styles (by hash) and no network
at all, and every label is escaped, so a label like `<script>` shows as text and runs nothing.
"""

import base64
import hashlib
import html
import json
from pathlib import Path

from .steps import viewer_payload

STATIC = Path(__file__).parent / "static"

BOOT = """
const app = document.getElementById("stepgrad-app");
const data = JSON.parse(document.getElementById("stepgrad-data").textContent);
mount(app, data, app.querySelector("svg"), null).show(0);
app.focus();  // the arrow keys and space step at once, without a click first
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title>
<style>{css}</style>
</head>
<body class="stepgrad-page">
<h1 class="stepgrad-title">{title}</h1>
<div id="stepgrad-app" class="stepgrad">{svg}</div>
<script type="application/json" id="stepgrad-data">{data}</script>
<script type="module">{js}</script>
</body>
</html>
"""


def _hash(text):
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _json_for_script(data):
    """JSON that cannot end its <script> element early (no <, > or & left as such)."""
    s = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def export_html(
    root,
    path,
    names=None,
    rankdir=None,
    max_nodes="auto",
    grad=None,
    title=None,
    collapse=None,
    quiz=False,
    rtol=0.01,
    atol=0.001,
    tape=False,
):
    """Write the step-through viewer of `root`'s backward pass to one offline HTML file.

    The file needs nothing else: open it from disk (file://) in any browser, no network.

    Args:
        root, names, rankdir, max_nodes, grad, collapse, quiz, rtol, atol, tape: as for
            `step_through`. With a quiz the page checks the answers itself (they are in its
            JSON, as the steps are): it works from disk, without a kernel.
        path: where to write the file.
        title: the page title (default: "backprop through <root's name>").

    Returns:
        The path written, as a pathlib.Path.
    """
    svg, data = viewer_payload(
        root,
        names,
        rankdir,
        max_nodes,
        grad,
        what="export_html",
        collapse=collapse,
        quiz=quiz,
        rtol=rtol,
        atol=atol,
        tape=tape,
    )
    js = (STATIC / "viewer.js").read_text(encoding="utf-8") + BOOT
    css = (STATIC / "viewer.css").read_text(encoding="utf-8")
    if "</script" in js.lower() or "</style" in css.lower():
        raise RuntimeError("viz/static: the viewer code must not contain </script or </style")
    csp = (
        f"default-src 'none'; script-src {_hash(js)}; style-src {_hash(css)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    title = title or f"stepgrad: backprop through {data['rootName']}"
    page = PAGE.format(
        csp=csp,
        title=html.escape(title),
        css=css,
        svg=svg,
        data=_json_for_script(data),
        js=js,
    )
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
