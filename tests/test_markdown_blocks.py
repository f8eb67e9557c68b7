"""Every python block in README.md and in the docs pages runs on its own, as pasted into a fresh
interpreter, and prints what the page shows.

A block is a fenced block whose language is `python` (or `py`). Each runs alone, in a fresh
namespace, in an empty folder. When the next thing after it is a `text` (or `output`) block,
that is what it must print: compared token by token, with numbers equal to the digits shown.
A pure reference block (a sketch of the API) has the line `<!-- reference: not run -->` just
before it, and is not run.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
REFERENCE = "<!-- reference: not run -->"
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$")
TOKEN = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\S")


def fenced_blocks(text):
    """[(first line, language, code, the line before the fence, closing line)], in order."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.groups()
        before = next((x.strip() for x in reversed(lines[:i]) if x.strip()), "")
        body, i = [], i + 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        out.append((i - len(body), lang.lower(), "\n".join(body) + "\n", before, i))
        i += 1
    return out


def runnable_blocks(path):
    """[(page:line, code, expected output or None)] for the python blocks of one page."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = fenced_blocks("\n".join(lines))
    found = []
    for n, (line, lang, code, before, end) in enumerate(blocks):
        if lang not in ("python", "py") or before == REFERENCE:
            continue
        expected = None
        if n + 1 < len(blocks) and blocks[n + 1][1] in ("text", "output"):
            between = lines[end + 1 : blocks[n + 1][0] - 1]
            if not any(x.strip() for x in between):
                expected = blocks[n + 1][2]
        found.append((f"{path.relative_to(ROOT)}:{line}", code, expected))
    return found


def same_output(printed, shown):
    """Token by token; a number matches when it rounds to the digits the page shows."""
    a, b = TOKEN.findall(printed), TOKEN.findall(shown)
    if len(a) != len(b):
        return False
    for p, s in zip(a, b):
        if p == s:
            continue
        try:
            fp, fs = float(p), float(s)
        except ValueError:
            return False
        digits = len(s.split("e")[0].split(".")[1]) if "." in s else 0
        if abs(fp - fs) > 0.5001 * 10.0**-digits:
            return False
    return True


BLOCKS = [b for page in PAGES for b in runnable_blocks(page)]


def test_the_block_finder_and_comparison_can_fail():
    page = "\n".join(
        [
            "```python",
            "print(1)",
            "```",
            "",
            "```text",
            "1",
            "```",
            REFERENCE,
            "```python",
            "undefined_name",
            "```",
            "```py",
            "x = 2",
            "```",
        ]
    )
    blocks = fenced_blocks(page)
    assert [b[1] for b in blocks] == ["python", "text", "python", "py"]
    assert blocks[0][2] == "print(1)\n" and blocks[2][3] == REFERENCE
    assert same_output("-0.96402758 [[ 7.  11.]]", "-0.964 [[ 7. 11.]]")
    assert not same_output("-0.9650", "-0.964")
    assert not same_output("a b", "a c") and not same_output("1 2", "1")
    assert len(BLOCKS) >= 5  # the README's own blocks are found


@pytest.mark.parametrize("where, code, expected", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block_runs_alone_and_prints_what_the_page_shows(
    where, code, expected, tmp_path, monkeypatch
):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            exec(compile(code, where, "exec"), {"__name__": "__main__"})
        finally:
            plt.close("all")
    if expected is not None:
        assert same_output(printed.getvalue(), expected), (
            f"{where} prints:\n{printed.getvalue()}\nbut the page shows:\n{expected}"
        )
