"""Layout that scales: the size guard estimates the layout's cost from the trace and refuses at
once, a leaf used far apart gets a box per use (in the SVG and in the viewer, where the copies
are one node), and small graphs are drawn as before."""

import random
import re
from pathlib import Path

import pytest

import viz
from autograd import Value, backward_steps
from nn.scalar import MLP
from viz import steps
from viz.fmt import format_grad
from viz.graph import COPY_SPAN, LAYOUT_BUDGET, LayoutPlan, build_drawing
from viz.layout import _isotonic, place
from viz.trace import Trace

CHROMIUM = Path("/usr/bin/chromium")


def micrograd_demo(sizes=(12, 12), seed=0):
    """micrograd's MLP(2, [*sizes, 1]) on one point, hinge loss plus the L2 term sum(p*p)."""
    random.seed(seed)
    model = MLP(2, [*sizes, 1])
    scores = [model([Value(0.5), Value(-1.5)])]
    losses = [(1 + -yi * si).relu() for yi, si in zip([-1.0], scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())  # as micrograd's demo
    loss.backward()
    return loss, model


def far_apart():
    """w is used near the input (w * x) and again near the root (w * w): 5 levels apart."""
    x, w = Value(1.5, label="x"), Value(0.8, label="w")
    h = w * x
    h.label = "h"
    for k in range(6):
        h = h.tanh()
        h.label = f"t{k}"
    L = h + 0.1 * (w * w)
    L.label = "L"
    return L, w


@pytest.fixture
def copies_in_small_graphs(monkeypatch):
    """Per-use boxes in these small graphs too (by default only graphs of COPY_FROM get them)."""
    monkeypatch.setattr(viz.graph, "COPY_FROM", 0)


def test_a_small_graph_keeps_each_leaf_once():
    L, w = far_apart()
    assert LayoutPlan(Trace(L)).copies == {}
    assert viz.draw_graph(L).source.count(f"v{Trace(L).index[w]}_1") == 0


def test_the_plan_counts_levels_copies_and_long_edges_by_hand(copies_in_small_graphs):
    L, w = far_apart()
    t = Trace(L)
    p = LayoutPlan(t)
    iw = t.index[w]
    # L 0; its operands (the tanh chain's end, 0.1*(w*w)) 1; w*w 2; t4 2 ... t0 6, h=w*x 7
    uses = list(dict.fromkeys(t.consumers()[iw]))  # w * w uses w twice: one copy for both
    assert sorted(p.levels[i] for i in uses) == [2, 7] and 7 - 2 > COPY_SPAN
    assert p.copies == {iw: uses}
    assert p.levels[iw] == 8
    # with the copies every edge spans one level: no virtual node; the boxes count the copy
    assert p.virtual == 0
    counts = t.counts()
    assert p.boxes == counts["values"] + counts["ops"] + counts["constants"] + 1
    # a leaf whose uses are close keeps one box and its edges' spans count
    a = Value(2.0, label="a")
    e = (a * a).tanh() + a
    q = LayoutPlan(Trace(e))
    assert q.copies == {}
    # e=0, tanh 1, a*a 2, a 3: the edge a -> (+) spans 3 levels = 5 virtual ranks of a plain
    # drawing (2 per level, minus the ends), 2 of the viewer's folded drawing
    assert q.virtual == 2 * 3 - 2 and q.folded_cost == 4 + 2


def test_a_leaf_used_far_apart_is_drawn_once_per_use(copies_in_small_graphs):
    L, w = far_apart()
    g = viz.draw_graph(L)
    i = Trace(L).index[w]
    src = g.source
    ids = re.findall(rf"\b(v{i}(?:_\d+)?) \[", src)
    assert ids == [f"v{i}", f"v{i}_1"]
    # each copy feeds one op, and the same rows (name, data, grad) are on both
    uses = {m.group(1): m.group(2) for m in re.finditer(rf"\b(v{i}(?:_\d+)?) -> (o\d+)", src)}
    assert len(uses) == 2 and len(set(uses.values())) == 2
    labels = re.findall(rf"\bv{i}(?:_\d+)? \[.*?label=(<<.*?>>)", src, re.S)
    assert len(labels) == 2 and labels[0] == labels[1] and "grad " in labels[0]


def test_small_graphs_are_drawn_as_before():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = (a * b + a**2).tanh()
    e.backward()
    src = viz.draw_graph(e).source
    assert not re.search(r"\bv\d+_\d+\b", src)  # no copies
    assert "nslimit" not in src  # dot's full search, as before


def test_the_demo_graph_is_laid_out_and_the_guard_lets_it_through():
    loss, _ = micrograd_demo()
    t = Trace(loss)
    assert len(t.nodes) == 1008
    p = LayoutPlan(t)
    assert p.cost < LAYOUT_BUDGET / 5  # ~3,800 (~38,000 without the copies: minutes of dot)
    src = viz.draw_graph(loss).source  # no GraphTooLargeError at the default max_nodes
    assert len(re.findall(r"\bv\d+_\d+ \[", src)) > 150  # the parameters' L2 uses


def test_the_guard_refuses_at_once_and_says_what_to_do(monkeypatch):
    # "at once": before a single box is made or a step recorded (benchmarks/layout.py prints
    # how long it takes; a timed assertion here would fail on a busy machine)
    loss, _ = micrograd_demo((40, 40))  # 8,932 Values; the long edges of its wide sums

    def no_drawing(*args, **kwargs):
        raise AssertionError("drawing started before the guard refused")

    monkeypatch.setattr(viz.graph.Box, "__init__", no_drawing)
    with pytest.raises(viz.GraphTooLargeError) as e:
        viz.draw_graph(loss)
    msg = str(e.value)
    assert re.search(r"draw_graph: the graph has \d+ nodes to draw", msg)
    assert re.search(r"about \d+ s", msg) and f"limit of {LAYOUT_BUDGET}" in msg
    assert "collapse='module'" in msg and "focus=node" in msg and "max_nodes=None" in msg
    # the viewer has its own, larger limit; past it, it refuses before recording any step
    big, _ = micrograd_demo((64, 64))  # 21,964 Values
    pytest.importorskip("viz.widget")
    monkeypatch.setattr(viz.steps, "run_steps", no_drawing)
    for call in (viz.step_through, lambda r: viz.export_html(r, "never-written.html")):
        with pytest.raises(viz.GraphTooLargeError, match="collapse='module'"):
            call(big)
    assert not Path("never-written.html").exists()
    monkeypatch.undo()
    # a number still means "at most this many boxes", and None no limit
    with pytest.raises(viz.GraphTooLargeError, match="more than max_nodes=100"):
        viz.draw_graph(micrograd_demo((3, 3))[0], max_nodes=100)


# ----------------------------------------------------------------------------------------------
# viz/layout.py: the viewer's own layout for large graphs


def test_isotonic_keeps_order_and_gaps_nearest_to_the_wish():
    # wishes 0, 0, 10 with gaps of 4: the first two pool around 0 (-2, 2), the third stays
    assert _isotonic([0.0, 0.0, 10.0], [4.0, 4.0]) == [-2.0, 2.0, 10.0]
    # already apart: unchanged; reversed wishes: pooled to their mean, spread by the gaps
    assert _isotonic([0.0, 5.0], [3.0]) == [0.0, 5.0]
    assert _isotonic([6.0, 0.0], [2.0]) == [2.0, 4.0]


def test_own_layout_ranks_left_to_right_without_overlaps():
    loss, _ = micrograd_demo((4, 4))
    d = steps.fold_ops(build_drawing(Trace(loss)))
    sizes = [(10.0 + len(b.rows), 20.0) for b in d.boxes]
    centres, paths, length, breadth = place(d, sizes)
    pos = {b.id: k for k, b in enumerate(d.boxes)}
    for (src, dst, _), pts in zip(d.edges, paths):
        s, t = pos[src], pos[dst]
        assert centres[s][0] < centres[t][0]  # every edge runs towards the root, on the right
        xs = [x for x, _ in pts]
        assert xs == sorted(xs) and pts[0][1] == centres[s][1] and pts[-1][1] == centres[t][1]
    columns = {}
    for k, (x, y) in enumerate(centres):
        columns.setdefault(x, []).append((y, k))
    for col in columns.values():
        col.sort()
        for (y1, a), (y2, b) in zip(col, col[1:]):
            assert y2 - y1 >= (sizes[a][1] + sizes[b][1]) / 2  # boxes of a rank never overlap
    assert max(x for x, _ in centres) <= length and max(y for _, y in centres) <= breadth
    root = centres[pos["v0"]][0]
    assert root == max(x for x, _ in centres)


def test_the_viewer_uses_its_own_layout_past_what_dot_does_quickly(monkeypatch):
    L, w = far_apart()
    svg_dot, _ = steps.viewer_payload(L)
    assert "sg-arrow" not in svg_dot and "<!--" not in svg_dot  # Graphviz's SVG
    monkeypatch.setattr(steps, "VIEWER_DOT_MAX", 0)
    svg_own, data = steps.viewer_payload(L)
    assert "sg-arrow" in svg_own  # viz/layout.py's
    ids = set(re.findall(r'<g id="([^"]+)" class="node">', svg_own))
    assert ids == set(re.findall(r'<g id="([^"]+)" class="node">', svg_dot))  # the same boxes
    assert {s["node"] for s in data["steps"]} <= ids


# ----------------------------------------------------------------------------------------------
# in the browser: the copies are one node of the step-through


COPY_TEXTS = """svg => Array.from(svg.querySelectorAll("g.node[id^=v]")).map(g => {
    const t = g.querySelectorAll("text");
    return [g.id, t[t.length - 1].textContent, g.classList.contains("stepgrad-current")];
})"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")
@pytest.mark.parametrize("layout", ["dot", "own"])
def test_the_viewer_steps_the_copies_as_one_node(
    tmp_path, monkeypatch, copies_in_small_graphs, layout
):
    sync_api = pytest.importorskip("playwright.sync_api")
    if layout == "own":  # as for a graph too large for dot: viz/layout.py lays it out
        monkeypatch.setattr(steps, "VIEWER_DOT_MAX", 0)
    L, w = far_apart()
    i = Trace(L).index[w]
    path = viz.export_html(L, tmp_path / "copies.html")
    w.zero_grad()
    engine_steps = list(backward_steps(L))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            running = {}
            for k, s in enumerate(engine_steps, 1):
                page.click("button.stepgrad-next")
                state = page.eval_on_selector("#stepgrad-app svg", COPY_TEXTS)
                copies = [(text, cur) for gid, text, cur in state if gid.split("_")[0] == f"v{i}"]
                assert len(copies) == 2
                running[s.node] = s.grad
                for parent, _, contribution in s.contributions:
                    running[parent] = running.get(parent, 0.0) + contribution
                if w in running:  # both copies show the gradient summed so far, the same text
                    want = "grad " + format_grad(running[w])
                    assert copies == [(want, s.node is w)] * 2, f"step {k}"
                else:
                    assert {t for t, _ in copies} == {"grad not yet"}
            w.zero_grad()
            L.backward()
            assert running[w] == pytest.approx(w.grad)
            assert errors == []
        finally:
            browser.close()
