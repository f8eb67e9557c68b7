"""The quiz of the step-through viewer (`quiz=`): which nodes the learner is asked, the answers
and the tolerance, as JSON for static/viewer.js, which checks what the learner types in the
browser (no kernel needed, so it works in an exported file too; the answers are in the page).

What is asked at a node's step is its complete gradient dR/d(node), before the viewer shows it:
a number for a scalar; for a Tensor of at most `WHOLE` elements every element (typed row by
row, any separators), each checked on its own; for a larger one a single element, the one the
teacher chose (`quiz=[("W", (1, 0))]`) or else the one of largest magnitude. An answer `x` for
a true value `t` is right when `|x - t| <= atol + rtol * |t|` (numpy's `isclose`).
"""

import math

import numpy as np

from autograd import Node

from .fmt import format_number

WHOLE = 9  # a Tensor gradient with at most this many elements is asked whole (a 3x3 at most)


def _number(x):
    """A float for JSON; 'nan', 'inf', '-inf' as text (JSON has no such numbers)."""
    x = float(x)
    if math.isfinite(x):
        return x + 0.0
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _shape_text(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _nested(a):
    """[[1.0, 2.0], [3.0, 4.0]]: every element in the viewer's number format."""
    if a.ndim == 0:
        return format_number(a.item())
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def _index_text(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


def _resolve(entry, trace, names, by_name, stepped, what):
    """One entry of a quiz list -> (node number, element index or None)."""
    element = None
    if isinstance(entry, tuple):
        if len(entry) != 2:
            raise ValueError(
                f"{what}: a quiz entry that is a tuple must be (node or name, element index), "
                f"got {entry!r}"
            )
        entry, element = entry
        element = (element,) if isinstance(element, (int, np.integer)) else tuple(element)
    if isinstance(entry, Node):
        if entry not in trace.index:
            raise ValueError(
                f"{what}: quiz lists a {type(entry).__name__} (label {entry.label!r}) that is not "
                "in this graph; list nodes of the graph, or their names"
            )
        i = trace.index[entry]
    elif isinstance(entry, str):
        if entry not in by_name:
            known = ", ".join(sorted({names[i] for i in stepped}))
            raise ValueError(
                f"{what}: quiz names {entry!r}, which no node of this graph is called; the nodes "
                f"with a gradient are called: {known}"
            )
        i = by_name[entry]
    else:
        raise TypeError(
            f"{what}: a quiz entry must be a node, a name or (node or name, index), got "
            f"{type(entry).__name__}"
        )
    if i not in stepped:
        raise ValueError(
            f"{what}: quiz asks for the gradient of {names[i]!r}, but backward gives it none "
            "(it does not require grad, or nothing it feeds does); ask a node with a gradient"
        )
    return i, element


def quiz_payload(trace, steps, names, quiz, rtol=0.01, atol=0.001, what="step_through"):
    """The `quiz` entry of the viewer's data, or None for quiz=False.

    Args:
        trace: the graph's `Trace`; steps: its engine steps (`run_steps`); names: the viewer's
            display names (a list by node number).
        quiz: True or "all" (every node with a gradient but the root, whose gradient is the seed
            1), "leaves" (the leaves with a gradient: parameters and inputs that require grad), or
            a list of nodes, names and (node or name, element index) pairs.
        rtol, atol: the tolerance, as numpy's `isclose`.
    """
    if quiz is False or quiz is None:
        return None
    if not (rtol >= 0 and atol >= 0) or not math.isfinite(rtol + atol):
        raise ValueError(f"{what}: the quiz tolerance must be >= 0, got rtol={rtol}, atol={atol}")
    index = trace.index
    grads = {index[s.node]: s.grad for s in steps}
    stepped = set(grads)
    if quiz is True or quiz == "all":
        chosen = [(index[s.node], None) for s in steps if index[s.node] != 0]
    elif quiz == "leaves":
        chosen = [(index[s.node], None) for s in steps if s.node.is_leaf]
    elif isinstance(quiz, (list, tuple, set)):
        by_name = {}
        for i in stepped:
            by_name.setdefault(names[i], i)
        chosen = [_resolve(e, trace, names, by_name, stepped, what) for e in quiz]
    else:
        raise ValueError(
            f"{what}: quiz must be False, True, 'all', 'leaves' or a list of nodes or names, "
            f"got {quiz!r}"
        )
    if not chosen:
        raise ValueError(
            f"{what}: quiz={quiz!r} asks nothing: this graph has no such node with a gradient"
        )
    R = names[0]
    ask = {}
    for i, element in chosen:
        g = grads[i]
        prompt = f"d{R}/d{names[i]}"
        item = {"name": names[i], "prompt": prompt}
        if isinstance(g, np.ndarray) and g.ndim > 0:
            if element is None and g.size > WHOLE:
                element = np.unravel_index(int(np.argmax(np.abs(np.nan_to_num(g)))), g.shape)
            if element is not None:
                element = tuple(int(k) for k in element)
                if len(element) != g.ndim or not all(-n <= k < n for k, n in zip(element, g.shape)):
                    raise ValueError(
                        f"{what}: quiz asks {names[i]}{_index_text(element)}, but "
                        f"{names[i]} has shape {_shape_text(g.shape)}; give one index per axis, "
                        "inside the shape"
                    )
                element = tuple(k % n for k, n in zip(element, g.shape))
                item["prompt"] = f"{prompt}{_index_text(element)}"
                item["element"] = list(element)
                item["values"] = [_number(g[element])]
                item["answer"] = format_number(g[element])
            else:
                item["shape"] = list(g.shape)
                item["values"] = [_number(x) for x in g.reshape(-1)]
                item["answer"] = _nested(g)
        else:
            if element is not None:
                raise ValueError(
                    f"{what}: quiz asks an element of {names[i]}, whose gradient is one number; "
                    "list the node alone"
                )
            item["values"] = [_number(np.asarray(g).reshape(-1)[0])]
            item["answer"] = format_number(item["values"][0] if math.isfinite(float(g)) else g)
        ask[f"v{i}"] = item
    return {"ask": ask, "rtol": float(rtol), "atol": float(atol)}
