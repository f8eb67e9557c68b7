"""`tape`: a graph's forward pass as lines of code and its backward pass as adjoint lines.

`v7 = v3 * v5` in forward order, then `g3 += v5 * g7` in backward order, each with its
numbers (shapes for tensors). Names are the viewer's node ids (`v0` is the root), so a line can
be highlighted beside the graph. Under `detect_anomaly()` each node records the file:line that
created it; a notebook cell shows as `cell [5], line 2`. Only reads the graph (every `.grad`
is put back after the backward pass it records).
"""

import html
import os
import re
import sys

import numpy as np

from autograd import Node, backward_steps, toposort

from .fmt import format_short
from .trace import Trace

# forward: ops written as operators
INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}

# backward: the adjoint of each input, `{a}`/`{b}` the inputs, `{out}` the output, `g` its
# gradient (replaced by the output's gradient name)
ADJOINT = {
    "add": ("g", "g"),
    "sub": ("g", "-g"),
    "mul": ("{b} * g", "{a} * g"),
    "div": ("g / {b}", "-g * {out} / {b}"),
    "pow": ("{b} * {a}**({b} - 1) * g", "{out} * log({a}) * g"),
    "maximum": ("({a} > {b}) * g", "({b} > {a}) * g"),
    "matmul": ("g @ {b}.T", "{a}.T @ g"),
    "neg": ("-g",),
    "abs": ("sign({a}) * g",),
    "exp": ("{out} * g",),
    "log": ("g / {a}",),
    "sqrt": ("0.5 / {out} * g",),
    "tanh": ("(1 - {out}**2) * g",),
    "sigmoid": ("{out} * (1 - {out}) * g",),
    "relu": ("({a} > 0) * g",),
    "clip": ("(lo <= {a} <= hi) * g",),
    "sum": ("broadcast_to(g, {a}.shape)",),
    "mean": ("broadcast_to(g, {a}.shape) / n",),
    "max": ("(argmax of {a}) * g",),
    "min": ("(argmin of {a}) * g",),
    "broadcast_to": ("sum_to(g, {a}.shape)",),
    "reshape": ("reshape(g, {a}.shape)",),
    "transpose": ("transpose(g)",),
    "getitem": ("scatter(g, index)",),
    "softmax": ("{out} * (g - sum(g * {out}))",),
    "log_softmax": ("g - exp({out}) * sum(g)",),
}


def where_text(where):
    """'cell [5], line 2' for a notebook cell, else 'file.py:12' (relative when it can be)."""
    if not where or ":" not in where:
        return where or ""
    path, _, line = where.rpartition(":")
    cell = _cell_number(path)
    if cell is not None:
        return f"cell [{cell}], line {line}"
    m = re.match(r"<ipython-input-(\d+)-", path)
    if m:
        return f"cell [{m.group(1)}], line {line}"
    if re.search(r"ipykernel_\d+", path):
        return f"cell [?], line {line}"
    try:
        rel = os.path.relpath(path)
        path = rel if not rel.startswith("..") else path
    except ValueError:
        pass
    return f"{path}:{line}"


def _cell_number(path):
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    names = getattr(getattr(shell, "compile", None), "_filename_map", None)
    return names.get(path) if names else None


class Line:
    """One tape line: `kind` ('forward' or 'backward'), `node` (the id it defines or adds to),
    `code`, `value` (its numbers), `where` (file:line or ''), `step` (backward step index)."""

    __slots__ = ("kind", "node", "code", "value", "where", "step", "src")

    def __init__(self, kind, node, code, value, where="", step=None, src=""):
        self.kind, self.node, self.code, self.value = kind, node, code, value
        self.where, self.step, self.src = where, step, src

    def text(self, width=0):
        s = f"{self.code:<{width}}  = {self.value}" if self.value else self.code
        return f"{s}   # {self.where}" if self.where else s

    def __repr__(self):
        return f"Line({self.kind}, {self.text()!r})"

    def to_dict(self):
        return {
            "kind": self.kind,
            "node": self.node,
            "code": self.code,
            "value": self.value,
            "where": self.where,
            "step": self.step,
        }


class Tape:
    """The forward lines and the backward (adjoint) lines of one graph.

    `forward`, `backward`: lists of `Line`; `str(tape)` the program as text; in Jupyter it
    shows as HTML (a line per row, each with id `tape-<kind>-<n>`, the creating line linked).
    """

    def __init__(self, forward, backward, names):
        self.forward, self.backward, self.names = forward, backward, names

    @property
    def lines(self):
        return self.forward + self.backward

    def __str__(self):
        w = max((len(line.code) for line in self.lines), default=0)
        out = ["# forward"] + [line.text(w) for line in self.forward]
        out += ["# backward"] + [line.text(w) for line in self.backward]
        return "\n".join(out)

    __repr__ = __str__

    def to_data(self):
        """JSON-ready lists for the viewer's tape panel."""
        return {
            "forward": [line.to_dict() for line in self.forward],
            "backward": [line.to_dict() for line in self.backward],
        }

    def _repr_html_(self):
        rows = []
        for kind, lines in (("forward", self.forward), ("backward", self.backward)):
            rows.append(f"<tr><th colspan='3' style='text-align:left'># {kind}</th></tr>")
            for k, line in enumerate(lines):
                where = html.escape(line.where)
                if line.where and line.src and os.path.isfile(line.src):
                    href = html.escape("file://" + os.path.abspath(line.src))
                    where = f"<a href='{href}'>{where}</a>"
                rows.append(
                    f"<tr id='tape-{kind}-{k}' class='stepgrad-tape-{kind}' "
                    f"data-node='{line.node}'><td><code>{html.escape(line.code)}</code></td>"
                    f"<td><code>{html.escape(line.value)}</code></td>"
                    f"<td style='color:#868e96'>{where}</td></tr>"
                )
        return "<table class='stepgrad-tape'>" + "".join(rows) + "</table>"


def _forward_order(trace):
    """Trace numbers in an order where every node comes after its inputs (iterative DFS)."""
    order, done, index = [], set(), trace.index
    stack = [(0, False)]
    while stack:
        i, expanded = stack.pop()
        if expanded:
            order.append(i)
            continue
        if i in done:
            continue
        done.add(i)
        stack.append((i, True))
        for p in reversed(trace.inputs[i]):
            if isinstance(p, Node) and index[p] not in done:
                stack.append((index[p], False))
    return order


def _const(c):
    if isinstance(c, np.ndarray) and c.size > 1:
        return f"const{c.shape}"
    return format_short(c.item() if isinstance(c, np.ndarray) else c)


def _value(x):
    if isinstance(x, np.ndarray) and x.ndim > 0:
        short = format_short(x)
        shape = f"{x.shape}"
        return short if short.startswith(shape) else f"{shape} {short}"
    return format_short(x)


def _call_args(node, args):
    attrs = {k: v for k, v in node.attrs.items() if k != "needs"}
    extra = []
    for k, v in attrs.items():
        if isinstance(v, np.ndarray):  # clip's array bounds by shape; index arrays stay out
            if k in ("lo", "hi"):
                extra.append(f"{k}=array{v.shape}")
        elif v is not None and v is not False:
            extra.append(f"{k}={v!r}")
    return ", ".join(list(args) + extra)


def tape(root, names=None, grad=None):
    """The forward pass of `root`'s graph as lines of code, then its backward as adjoint lines.

    Forward lines define `v<i>` (the viewer's node ids, `v0` the root), leaves first with their
    values; backward lines add into `g<i>` (the gradient of `v<i>`), one per (node, input) in
    the order backward runs, each with the contribution it adds. Tensors show shapes.

    Args:
        root: a scalar Value or Tensor (or a Tensor with `grad=`).
        names: `dict(model.named_parameters())`: parameters show their dotted name.
        grad: the seed gradient for a non-scalar root.

    Returns:
        A `Tape` (`str()` is the text; HTML in Jupyter; `.forward`, `.backward`).

    >>> from autograd import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> print(tape(a * b))
    # forward
    v1 = a        = 2.0
    v2 = b        = -3.0
    v0 = v1 * v2  = -6.0
    # backward
    g0 = 1        = 1.0
    g1 += v2 * g0  = -3.0
    g2 += v1 * g0  = 2.0
    """
    from .trace import constant_names, name_map, summed_axes

    trace = Trace(root)
    pnames = name_map(names)
    idx = trace.index

    def label(i):
        n = trace.nodes[i]
        return pnames.get(id(n)) or n.label or ""

    data_names = constant_names(trace)  # the batch x and the labels y, as the graph names them

    def ref(p):
        if isinstance(p, Node):
            return f"v{idx[p]}"
        return data_names.get(id(p)) or _const(p)

    forward = []
    for i in _forward_order(trace):
        n = trace.nodes[i]
        ins = trace.inputs[i]
        src = n.where or ""
        where = where_text(src)
        lab = label(i)
        if not ins:
            kind = "parameter" if n.requires_grad else "input"
            code = f"v{i} = {lab or kind}"
        elif n.op in INFIX and len(ins) == 2 and not n.attrs.get("axes"):
            code = f"v{i} = {ref(ins[0])} {INFIX[n.op]} {ref(ins[1])}"
        elif n.op == "neg":
            code = f"v{i} = -{ref(ins[0])}"
        else:
            code = f"v{i} = {n.op}({_call_args(n, [ref(p) for p in ins])})"
        if ins and lab:
            code += f"  ({lab})"
        forward.append(Line("forward", f"v{i}", code, _value(n.data), where, src=src))

    order = toposort(root)
    saved = [(n, n.grad) for n in order]
    try:
        for n in order:
            if n.is_leaf:
                n.zero_grad()
        steps = list(backward_steps(root, grad))
    finally:
        for n, g in saved:
            n.grad = g

    backward = []
    for k, s in enumerate(steps):
        i = idx[s.node]
        if i == 0:
            seed = "1" if grad is None else "seed"
            backward.append(Line("backward", "v0", f"g0 = {seed}", _value(s.grad), step=k))
        ins = trace.inputs[i]
        fmt = {"out": f"v{i}"}
        for letter, p in zip("ab", ins):
            fmt[letter] = ref(p)
        templates = ADJOINT.get(s.node.op)
        for p, _local, contrib in s.contributions:
            pos = next(j for j, q in enumerate(ins) if q is p)
            if templates is not None and pos < len(templates) and len(ins) <= 2:
                expr = templates[pos].format(**fmt)
                expr = re.sub(r"\bg\b", f"g{i}", expr)
            else:
                expr = f"vjp_{s.node.op}(g{i})[{pos}]"
            if summed_axes(s.node, p):  # numpy repeated this operand (a bias): summed back
                expr = f"sum_to({expr}, {ref(p)}.shape)"
            code = f"g{idx[p]} += {expr}"
            backward.append(Line("backward", f"v{idx[p]}", code, _value(contrib), step=k))
    return Tape(forward, backward, {f"v{i}": label(i) for i in range(len(trace.nodes))})
