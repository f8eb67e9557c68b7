"""Predict, then reveal (`quiz=`) and the tape beside the graph: what the quiz asks and hides
(checked on the viewer's data), and what an exported page shows in a real headless Chromium,
offline: answers refused and accepted within the tolerance, the score, gradients hidden until
answered, and the tape's highlighted lines matching the graph's current node."""

import re
from pathlib import Path

import numpy as np
import pytest

import viz
from autograd import Tensor, Value, backward_steps
from viz.fmt import format_grad
from viz.steps import viewer_payload

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (./dev.sh test installs it)"
)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def scalar_graph():
    """L = tanh(a*b + a**2): a is used twice, so its gradient is a sum of two lines."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    sq = a**2
    sq.label = "sq"
    s = c + sq
    s.label = "s"
    L = s.tanh()
    L.label = "L"
    return L, a, b


def tensor_graph():
    W = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, label="W")
    X = Tensor(np.linspace(-1.0, 1.5, 10).reshape(5, 2), requires_grad=True, label="X")
    h = (X @ W).tanh()
    h.label = "h"
    loss = (h * h).mean()
    loss.label = "loss"
    return loss, W, X


def _steps(root):
    """The engine's steps, the graph's gradients left as they were."""
    steps = list(backward_steps(root))
    for s in steps:
        if s.node.is_leaf:
            s.node.zero_grad()
    return steps


# ----------------------------------------------------------------------------------------------
# what the viewer's data asks and hides


def test_quiz_all_asks_every_node_but_the_root_with_the_engines_gradients():
    L, a, b = scalar_graph()
    _, data = viewer_payload(L, quiz="all")
    ask = data["quiz"]["ask"]
    steps = _steps(L)
    by_name = {item["name"]: item for item in ask.values()}
    assert set(by_name) == {s.node.label for s in steps} - {"L"}
    for s in steps[1:]:
        assert by_name[s.node.label]["values"] == [pytest.approx(s.grad)]
        assert by_name[s.node.label]["prompt"] == f"dL/d{s.node.label}"
    assert data["quiz"]["rtol"] == 0.01 and data["quiz"]["atol"] == 0.001
    _, leaves = viewer_payload(L, quiz="leaves", rtol=0.1, atol=0)
    assert sorted(i["name"] for i in leaves["quiz"]["ask"].values()) == ["a", "b"]
    assert leaves["quiz"]["rtol"] == 0.1 and leaves["quiz"]["atol"] == 0
    _, listed = viewer_payload(L, quiz=[a, "c"])
    assert sorted(i["name"] for i in listed["quiz"]["ask"].values()) == ["a", "c"]
    _, plain = viewer_payload(L)
    assert "quiz" not in plain and "masked" not in plain["steps"][0]


def test_masked_lines_hide_every_number_of_an_asked_gradient():
    L, a, b = scalar_graph()
    _, data = viewer_payload(L, quiz="all")
    for step in data["steps"]:
        assert len(step["owners"]) == len(step["lines"]) == len(step["masked"])
        for line, owner, masked in zip(step["lines"], step["owners"], step["masked"]):
            if owner is None:
                assert masked == line
            else:
                assert masked.endswith("= ?") or "= ?   (your turn" in masked, masked
                assert not re.search(r"\d\.\d", masked), masked  # no number left
    # c's step passes to a and b: both lines are owned by the parent they add to
    c_step = next(s for s in data["steps"] if s["name"] == "c")
    ids = {i["name"]: k for k, i in data["quiz"]["ask"].items()}
    assert c_step["owners"] == [ids["c"], ids["a"], ids["b"]]
    assert c_step["masked"][1] == "dL/da += dL/dc * ∂c/∂a = ?"


def test_tensor_questions_whole_or_one_element():
    loss, W, X = tensor_graph()
    _, data = viewer_payload(loss, quiz=["W", "X", ("h", (4, 1))])
    loss.backward()
    ask = {i["name"]: i for i in data["quiz"]["ask"].values()}
    assert ask["W"]["shape"] == [2, 2] and "element" not in ask["W"]  # 4 elements: all typed
    np.testing.assert_allclose(ask["W"]["values"], W.grad.reshape(-1), rtol=1e-6)
    big = [int(k) for k in np.unravel_index(np.argmax(np.abs(X.grad)), X.grad.shape)]  # 10 > 9
    assert ask["X"]["element"] == list(big) and ask["X"]["prompt"] == f"dloss/dX{list(big)}"
    assert ask["X"]["values"] == [pytest.approx(float(X.grad[tuple(big)]))]
    assert ask["h"]["element"] == [4, 1] and ask["h"]["prompt"] == "dloss/dh[4, 1]"
    _, neg = viewer_payload(loss, quiz=[("X", (-1, 0))])
    assert next(iter(neg["quiz"]["ask"].values()))["element"] == [4, 0]


def test_quiz_mistakes_are_named():
    L, a, b = scalar_graph()
    with pytest.raises(ValueError, match=r"quiz names 'z'.*called: L, a, b, c, s, sq"):
        viewer_payload(L, quiz=["z"])
    with pytest.raises(ValueError, match=r"not in this graph"):
        viewer_payload(L, quiz=[Value(1.0, label="other")])
    k = Value(5.0, label="k", requires_grad=False)
    with pytest.raises(ValueError, match=r"'k'.*gives it none"):
        viewer_payload(L * k, quiz=[k])
    with pytest.raises(ValueError, match=r"quiz must be False, True, 'all', 'leaves'"):
        viewer_payload(L, quiz="some")
    with pytest.raises(ValueError, match=r"tolerance must be >= 0"):
        viewer_payload(L, quiz=True, rtol=-1)
    with pytest.raises(ValueError, match=r"element of a, whose gradient is one number"):
        viewer_payload(L, quiz=[("a", 0)])
    loss, W, X = tensor_graph()
    with pytest.raises(ValueError, match=r"asks W\[2, 0\], but W has shape \(2, 2\)"):
        viewer_payload(loss, quiz=[("W", (2, 0))])
    with pytest.raises(ValueError, match=r"export_html: quiz= asks node by node"):
        viz.export_html(L, "unused.html", quiz=True, collapse="module")


def test_the_tape_comes_with_the_viewer_in_the_viewers_node_ids():
    L, a, b = scalar_graph()
    svg, data = viewer_payload(L)
    t = viz.tape(L)
    assert data["tape"] == t.to_data() and data["tapeOpen"] is False
    named = {s["node"]: s["name"] for s in data["steps"]}
    for line in t.forward:  # a labelled node's forward line is the node of that name
        if line.node in named and "(" in line.code:
            assert line.code.endswith(f"({named[line.node]})")
    for line in t.backward[1:]:  # each adjoint line reads the gradient of its step's node
        gi = "g" + data["steps"][line.step]["node"][1:]
        assert re.search(rf"\b{gi}\b", line.code.split("+=", 1)[1]), (line.code, gi)
    for node_id in {line.node for line in t.forward}:
        assert f'id="{node_id}"' in svg


# ----------------------------------------------------------------------------------------------
# the exported page in a real browser, offline


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    pg = browser.new_page(viewport={"width": 1300, "height": 850})
    pg.seen = {"requests": [], "errors": []}
    pg.on("request", lambda r: pg.seen["requests"].append(r.url))
    pg.on("pageerror", lambda e: pg.seen["errors"].append(str(e)))
    pg.on("console", lambda m: m.type == "error" and pg.seen["errors"].append(m.text))
    yield pg
    pg.close()


# every node box: id -> (its title, its gradient row, is it the current node)
BOXES = """root => Object.fromEntries(
  Array.from(root.querySelectorAll("svg g.node[id^=v]")).map(g => {
    const t = g.querySelectorAll("text");
    return [g.id, [t[0].textContent.split(" = ")[0], t[t.length - 1].textContent,
                   g.classList.contains("stepgrad-current")]];
}))"""

# the tape's highlighted rows, and whether each lies inside its scrolled list's box
TAPE = """(root, cls) => Array.from(root.querySelectorAll(".stepgrad-tape-line." + cls))
  .map(r => { const l = r.closest(".stepgrad-tape-list").getBoundingClientRect();
              const b = r.getBoundingClientRect();
              return {kind: r.dataset.kind, node: r.dataset.node, step: r.dataset.step ?? null,
                      text: r.textContent, inside: b.top >= l.top - 1 && b.bottom <= l.bottom + 1
                        && b.height > 0}; })"""


def boxes(pg, root="body"):
    return pg.eval_on_selector(root, BOXES)


def current_box(pg, root="body"):
    cur = [gid for gid, (_, _, c) in boxes(pg, root).items() if c]
    return cur[0] if cur else None


def tape_rows(pg, root="body", cls="stepgrad-tape-current"):
    return pg.eval_on_selector(root, TAPE, cls)


def check_tape_matches_graph(pg, k, root="body"):
    """At step k the tape highlights the current node's forward line and step k-1's adjoint
    lines (a leaf passes nothing on: then the lines that summed its gradient), each scrolled
    into view."""
    rows = tape_rows(pg, root)
    node = current_box(pg, root)
    forward = [r for r in rows if r["kind"] == "forward"]
    backward = [r for r in rows if r["kind"] == "backward"]
    assert [r["node"] for r in forward] == [node], (k, rows)
    if backward:
        assert {r["step"] for r in backward} == {str(k - 1)}, (k, rows)
    else:
        backward = tape_rows(pg, root, "stepgrad-tape-into")
        assert backward and {r["node"] for r in backward} == {node}, (k, backward)
    assert all(r["inside"] for r in forward[:1] + backward[:1]), (k, rows, backward)


def answer(pg, text):
    pg.fill(".stepgrad-quiz-input", text)
    pg.keyboard.press("Enter")
    return pg.get_attribute(".stepgrad-quiz-feedback", "data-verdict")


def score(pg):
    return pg.inner_text(".stepgrad-quiz-score")


@needs_chromium
def test_exported_quiz_refuses_accepts_and_scores_offline(page, tmp_path):
    L, a, b = scalar_graph()
    steps = _steps(L)
    path = viz.export_html(L, tmp_path / "quiz.html", quiz="all", tape=True)
    page.goto(path.as_uri())
    n = len(steps)
    assert score(page) == "quiz: score 0 / 0 (5 to go)"
    assert page.is_hidden(".stepgrad-quiz-form")
    assert page.is_hidden("button.stepgrad-quiz-restart")  # nothing to start over yet
    page.click("button.stepgrad-next")  # the root: not asked
    assert page.is_hidden(".stepgrad-quiz-form")
    check_tape_matches_graph(page, 1)
    expected_score = (0, 0)
    for k, s in enumerate(steps[1:], start=2):
        name, truth = s.node.label, float(s.grad)
        page.click("button.stepgrad-next")
        assert page.inner_text(".stepgrad-status").startswith(f"step {k} / {n}: {name}")
        assert page.is_visible(".stepgrad-quiz-form")
        assert page.inner_text(".stepgrad-quiz-prompt").strip() == f"your turn: dL/d{name} ="
        assert page.is_disabled("button.stepgrad-next")  # held at the question
        state = boxes(page)
        me = current_box(page)
        assert state[me][0] == name and state[me][1] == "grad ?"
        panel = page.inner_text(".stepgrad-panel").splitlines()
        assert panel[0].startswith(f"dL/d{name} = ?")
        assert not any(re.search(r"= -?\d", line) for line in panel), panel
        check_tape_matches_graph(page, k)
        # the tape hides what is not known yet: the lines into this node, and those of this
        # step and later ones; the steps before show their numbers where they are answered
        values = page.eval_on_selector_all(
            ".stepgrad-tape-line[data-kind=backward]",
            "rs => rs.map(r => [r.dataset.node, +r.dataset.step, "
            "r.querySelector('.stepgrad-tape-value').textContent])",
        )
        into = [v for node, _, v in values if node == me]
        assert into and set(into) == {" = ?"}, values
        assert all(v == " = ?" for _, st, v in values if st >= k - 1), values
        assert values[0][2] == " = 1.0"  # the seed is never a question
        first_right = name != "b"  # b: a wrong answer first; s: shown, not answered
        if name == "b":
            assert answer(page, format_grad(truth * 1.05 + 0.01)) == "wrong"  # 5% off: refused
            assert "Try again" in page.inner_text(".stepgrad-quiz-feedback")
            assert answer(page, "minus one") == "unread"  # not a number: not a try
            assert '"minus"' in page.inner_text(".stepgrad-quiz-feedback")
            assert score(page).startswith(f"quiz: score {expected_score[0]} / {expected_score[1]}")
        if name == "s":
            page.click("button.stepgrad-reveal")
            assert page.get_attribute(".stepgrad-quiz-feedback", "data-verdict") == "revealed"
            first_right = False
        else:
            typed = f"{truth * 1.005:.6g}"  # half a percent off: inside rtol=1%
            assert answer(page, typed) == "right", page.inner_text(".stepgrad-quiz-feedback")
        expected_score = (expected_score[0] + first_right, expected_score[1] + 1)
        # revealed: the box, the panel and the tape show the engine's numbers
        assert boxes(page)[me][1] == "grad " + format_grad(s.grad)
        assert (
            page.inner_text(".stepgrad-panel")
            .splitlines()[0]
            .startswith(f"dL/d{name} = {format_grad(s.grad)}")
        )
        why = page.inner_text(".stepgrad-quiz-why")
        assert why.startswith("how it adds up:") and f"dL/d{name} += " in why
        if name == "a":  # used twice: two lines add up to its gradient
            assert why.count("dL/da += ") == 2
        assert page.is_enabled("button.stepgrad-next") or k == n
        assert score(page).startswith(f"quiz: score {expected_score[0]} / {expected_score[1]}")
    assert expected_score == (3, 5)
    assert score(page) == "quiz: score 3 / 5 · all 5 answered"
    # going back shows what was answered, and asks nothing again
    page.click("button.stepgrad-prev")
    assert page.is_hidden(".stepgrad-quiz-form")
    assert page.get_attribute(".stepgrad-quiz-feedback", "data-verdict") in ("right", "revealed")
    page.click("button.stepgrad-quiz-restart")
    assert score(page) == "quiz: score 0 / 0 (5 to go)"
    assert page.is_hidden("button.stepgrad-quiz-restart")
    assert page.inner_text(".stepgrad-status").startswith("step 0 /")
    page.screenshot(path=str(tmp_path / "quiz.png"))
    assert page.seen["requests"] == [path.as_uri()], page.seen["requests"]
    assert page.seen["errors"] == []


@needs_chromium
def test_slider_play_and_keys_stop_at_an_open_question(page, tmp_path):
    L, a, b = scalar_graph()
    steps = _steps(L)
    path = viz.export_html(L, tmp_path / "quiz.html", quiz="leaves")
    page.goto(path.as_uri())
    first = next(k for k, s in enumerate(steps, 1) if s.node.is_leaf)
    page.eval_on_selector(
        ".stepgrad-slider",
        "(el, k) => { el.value = k; el.dispatchEvent(new Event('input')); }",
        len(steps),
    )
    assert page.inner_text(".stepgrad-status").startswith(f"step {first} /")
    page.click("button.stepgrad-reset")
    page.click("button.stepgrad-play")
    page.wait_for_function(
        "() => document.querySelector('button.stepgrad-play').textContent === '▶ play'",
        timeout=10_000,
    )
    assert page.inner_text(".stepgrad-status").startswith(f"step {first} /")
    # typing into the answer box types; the arrow keys do not step past the question
    page.click(".stepgrad-quiz-input")
    page.keyboard.type("1 ")
    page.keyboard.press("ArrowRight")
    assert page.input_value(".stepgrad-quiz-input") == "1 "
    assert page.inner_text(".stepgrad-status").startswith(f"step {first} /")
    truth = float(steps[first - 1].grad)
    assert answer(page, f"{truth:.4g}") == "right"
    page.keyboard.press("ArrowRight")  # answered: the keys step again
    assert page.inner_text(".stepgrad-status").startswith(f"step {first + 1} /")
    assert page.seen["errors"] == []


@needs_chromium
def test_tensor_answers_are_checked_element_by_element(page, tmp_path):
    loss, W, X = tensor_graph()
    path = viz.export_html(loss, tmp_path / "t.html", quiz=["W", "X"])
    loss.backward()
    gw, gx = W.grad.copy(), X.grad.copy()
    page.goto(path.as_uri())
    while page.is_hidden(".stepgrad-quiz-form"):
        page.click("button.stepgrad-next")
    prompt = page.inner_text(".stepgrad-quiz-prompt")
    if "dX" in prompt:  # X first: one element, the largest
        i, j = np.unravel_index(np.argmax(np.abs(gx)), gx.shape)
        assert prompt.strip() == f"your turn: dloss/dX[{i}, {j}] ="
        assert answer(page, f"{gx[i, j]:.4g}") == "right"
        while page.is_hidden(".stepgrad-quiz-form"):
            page.click("button.stepgrad-next")
    assert page.inner_text(".stepgrad-quiz-prompt").strip() == "your turn: dloss/dW ="
    assert "shape [2, 2]" in page.inner_text(".stepgrad-quiz-hint")
    assert answer(page, "1 2 3") == "unread"
    assert "4 numbers" in page.inner_text(".stepgrad-quiz-feedback")
    off = gw.copy()
    off[1, 0] += 0.5
    assert answer(page, str(off.round(5).tolist())) == "wrong"
    assert "1 of 4 elements are off ([1, 0])" in page.inner_text(".stepgrad-quiz-feedback")
    rows = "; ".join(" ".join(f"{v:.5g}" for v in row) for row in gw)  # 1 2; 3 4 also reads
    assert answer(page, rows) == "right"
    me = current_box(page)
    assert boxes(page)[me][1] == "grad " + format_grad(gw)
    assert page.seen["errors"] == []


def chain(n):
    """A long chain, so the tape's lists must scroll to show the current lines."""
    x = Value(0.5, label="x")
    w = Value(0.9, label="w")
    y = x
    for _ in range(n):
        y = (y * w).tanh()
    y.label = "y"
    return y


@needs_chromium
def test_the_tape_follows_the_graph_and_toggles(page, tmp_path):
    y = chain(25)
    path = viz.export_html(y, tmp_path / "tape.html")
    page.goto(path.as_uri())
    assert page.is_hidden(".stepgrad-tape")  # closed unless tape=True
    page.focus("#stepgrad-app")
    page.keyboard.press("t")
    assert page.is_visible(".stepgrad-tape")
    assert page.get_attribute("button.stepgrad-tape-toggle", "aria-pressed") == "true"
    t = viz.tape(y)
    n = int(page.inner_text(".stepgrad-status").split("/")[1])
    for k in range(1, n + 1, 7):
        page.eval_on_selector(
            ".stepgrad-slider",
            "(el, k) => { el.value = k; el.dispatchEvent(new Event('input')); }",
            k,
        )
        check_tape_matches_graph(page, k)
        shown = [r["text"] for r in tape_rows(page) if r["kind"] == "backward"]
        want = [f"{line.code} = {line.value}" for line in t.backward if line.step == k - 1]
        assert shown == want
    # hovering a line outlines its node's box
    page.hover(".stepgrad-tape-line[data-kind=forward][data-node='v2']")
    assert page.eval_on_selector_all(
        "g.node.stepgrad-tape-hover", "gs => gs.map(g => g.id.replace(/_\\d+$/, ''))"
    ) == ["v2"]
    # a click on an adjoint line goes to its step
    page.click(".stepgrad-tape-line[data-kind=backward][data-step='3']")
    assert page.inner_text(".stepgrad-status").startswith(f"step 4 / {n}")
    page.screenshot(path=str(tmp_path / "tape.png"))
    page.click("button.stepgrad-tape-toggle")
    assert page.is_hidden(".stepgrad-tape")
    assert page.seen["errors"] == []


@needs_chromium
def test_widget_quiz_holds_the_models_step_and_sends_the_results(page):
    """The widget's JS (anywidget `render`) with a stand-in for the model: Python cannot move
    the viewer past an open question (the step comes back corrected), and each answer goes
    to the model's `results`, which `StepThrough.score` reads."""
    import json

    L, a, b = scalar_graph()
    w = viz.step_through(L, quiz="leaves")
    steps = _steps(L)
    first = next(k for k, s in enumerate(steps, 1) if s.node.is_leaf)
    state = {"svg": w.svg, "data": w.data, "step": 0, "results": []}
    page.set_content('<div id="w"></div>')
    page.add_script_tag(
        type="module",
        content=w._esm.replace("export default { render };", "")
        + """
const state = STATE;
const handlers = {};
window.model = {
  get: (k) => state[k],
  set: (k, v) => { const old = state[k]; state[k] = v;
                   if (old !== v && handlers["change:" + k]) handlers["change:" + k](); },
  save_changes: () => {},
  on: (e, f) => { handlers[e] = f; },
  off: (e) => { delete handlers[e]; },
};
render({ model: window.model, el: document.getElementById("w") });
window.ready = true;
""".replace("STATE", json.dumps(state)),
    )
    page.wait_for_function("() => window.ready === true")
    page.evaluate(f"() => window.model.set('step', {len(steps)})")  # Python jumps to the end
    assert page.inner_text(".stepgrad-status").startswith(f"step {first} /")
    assert page.evaluate("() => window.model.get('step')") == first
    truth = float(steps[first - 1].grad)
    assert answer(page, f"{truth + 1:.4g}") == "wrong"
    assert answer(page, f"{truth:.4g}") == "right"
    results = page.evaluate("() => window.model.get('results')")
    assert [(r["name"], r["right"], r["tries"], r["done"]) for r in results] == [
        (steps[first - 1].node.label, True, 2, True)
    ]
    w.results = results  # what the kernel receives
    assert w.score == (0, 1)  # right, but not at the first try
    assert page.seen["errors"] == []


@needs_chromium
def test_the_tape_names_the_line_that_made_each_node(page, tmp_path):
    """Under detect_anomaly() every node records the file:line that created it; the tape
    panel shows it beside the node's forward line."""
    import inspect

    from autograd import detect_anomaly

    with detect_anomaly():
        a = Value(1.5, label="a")
        made = inspect.currentframe().f_lineno + 1
        q = (a * a).exp()
    q.label = "q"
    path = viz.export_html(q, tmp_path / "where.html", tape=True)
    page.goto(path.as_uri())
    where = page.inner_text(".stepgrad-tape-line[data-kind=forward][data-node='v0']")
    assert where.endswith(f"test_viz_quiz.py:{made}"), where
    assert page.seen["errors"] == []
