"""viz.tape: forward lines in an order that computes, backward adjoint lines whose numbers are
the engine's, shapes for tensors, and the creating line (a notebook cell by its number)."""

import inspect

import numpy as np
import pytest

import viz
from autograd import Tensor, Value, detect_anomaly
from viz.tape import where_text


def _graph():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    L = (c + a**2).tanh()
    L.label = "L"
    return L, a, b


def test_forward_lines_come_after_their_inputs_and_read_as_code():
    L, a, b = _graph()
    t = viz.tape(L)
    defined = []
    for line in t.forward:
        used = [tok for tok in line.code.split("=", 1)[1].split() if tok.startswith("v")]
        for u in used:
            assert u.strip("(),") in defined, f"{line.code} uses {u} before it is defined"
        defined.append(line.node)
    codes = [line.code for line in t.forward]
    assert any(c.endswith("(c)") and " * " in c for c in codes)
    assert codes[-1].startswith("v0 = tanh(")
    assert t.forward[-1].value == "-0.964"


def test_backward_lines_sum_to_the_engine_gradients():
    L, a, b = _graph()
    t = viz.tape(L)
    assert t.backward[0].code == "g0 = 1"
    L.backward()
    ida = next(k for k, v in t.names.items() if v == "a")
    idb = next(k for k, v in t.names.items() if v == "b")
    a_lines = [line for line in t.backward if line.node == ida]
    assert len(a_lines) == 2  # a is used twice: two adjoint lines add into its gradient
    assert sum(float(x.value) for x in a_lines) == pytest.approx(a.grad, rel=1e-3)
    (b_line,) = [line for line in t.backward if line.node == idb]
    ic = next(k for k, v in t.names.items() if v == "c")
    assert b_line.code == f"g{idb[1:]} += {ida} * g{ic[1:]}"
    assert float(b_line.value) == pytest.approx(b.grad, rel=1e-3)
    steps = [line.step for line in t.backward]
    assert steps == sorted(steps)


def test_tape_leaves_the_graph_gradients_alone():
    L, a, b = _graph()
    L.backward()
    before = a.grad
    viz.tape(L)
    assert a.grad == before


def test_tensor_tape_shows_shapes_and_matmul_adjoints():
    x = Tensor(np.ones((4, 3)), label="x")
    W = Tensor(np.full((3, 2), 0.1), requires_grad=True, label="W")
    t = viz.tape((x @ W).tanh().sum())
    text = str(t)
    assert "(4, 2)" in text and "(3, 2)" in text
    assert any(" @ " in line.code for line in t.forward)
    assert any(".T @ g" in line.code for line in t.backward)
    assert "<table class='stepgrad-tape'>" in t._repr_html_()


def test_a_bias_adjoint_says_it_is_summed_back_to_the_bias_shape():
    x = Tensor(np.ones((4, 3)), label="x")
    W = Tensor(np.full((3, 2), 0.1), requires_grad=True, label="W")
    b = Tensor([0.5, -0.5], requires_grad=True, label="b")
    loss = (x @ W + b).sum()
    t = viz.tape(loss)
    vb = next(line.node for line in t.forward if line.code.endswith("= b"))
    (line,) = [x for x in t.backward if x.node == vb]
    assert line.code == f"g{vb[1:]} += sum_to(g1, {vb}.shape)", line.code  # g1: the add's
    loss.backward()
    assert line.value == viz.tape.__globals__["_value"](b.grad) and "(2,)" in line.value
    others = [x.code for x in t.backward if x.node != vb]
    assert not any("sum_to" in c for c in others)  # x @ W has the add's shape: no sum


def test_where_under_detect_anomaly_names_this_file_and_line():
    a = Value(2.0, label="a")
    with detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        y = a * a
    t = viz.tape(y)
    (mul,) = [x for x in t.forward if "*" in x.code]
    assert mul.where.endswith(f"test_viz_tape.py:{line}")
    assert f"test_viz_tape.py:{line}" in str(t)


def test_a_notebook_cell_shows_as_its_number():
    shell_mod = pytest.importorskip("IPython.core.interactiveshell")
    shell = shell_mod.InteractiveShell.instance()
    shell.run_cell("x = 1", store_history=True)
    r = shell.run_cell(
        "from autograd import Value, detect_anomaly\nimport viz\n"
        "with detect_anomaly():\n    y = Value(2.0) * 3.0\n_t = viz.tape(y)",
        store_history=True,
    )
    assert r.success, r.error_in_exec
    t = shell.user_ns["_t"]
    n = shell.execution_count - 1
    (mul,) = [x for x in t.forward if "*" in x.code]
    assert mul.where == f"cell [{n}], line 4"
    assert "ipykernel" not in str(t) and "<ipython" not in str(t)


def test_where_text_of_plain_paths():
    assert where_text("/nowhere/ipykernel_123/456.py:3") == "cell [?], line 3"
    assert where_text("<ipython-input-7-abc>:2") == "cell [7], line 2"
    assert where_text(None) == ""


def test_a_model_s_batch_and_labels_are_named_x_and_y_as_in_the_graph():
    import nn

    nn.manual_seed(0)
    model = nn.Sequential([nn.Dense(3, activation="tanh", input_shape=(3,)), nn.Dense(2)])
    loss = nn.losses.mse(np.zeros((4, 2)), model(np.arange(12.0).reshape(4, 3) / 10))
    codes = [line.code for line in viz.tape(loss, names=model).forward]
    assert any(c.endswith(" = x @ v11") for c in codes), codes
    assert any(c.endswith(" - y") for c in codes), codes
    assert not any("const(" in c for c in codes)
    assert "x" in viz.draw_graph(loss, names=model).source  # the graph's name for the batch
