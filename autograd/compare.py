"""`compare`: hand-written gradients against the engine's, as makemore's `cmp` prints them.

One row per gradient: `exact` (every element equal), `approximate` (within rtol/atol, as
`numpy.allclose`) and `maxdiff` (the largest absolute difference). Nothing here changes a graph.
"""

import numpy as np

from .engine import Node


class Row:
    """One compared gradient: name, exact, approximate, maxdiff (and the two arrays)."""

    __slots__ = ("name", "exact", "approximate", "maxdiff", "manual", "auto")

    def __init__(self, name, manual, auto, rtol, atol):
        self.name, self.manual, self.auto = name, manual, auto
        self.exact = bool(np.array_equal(manual, auto))
        with np.errstate(all="ignore"):
            self.approximate = bool(np.allclose(manual, auto, rtol=rtol, atol=atol))
            diff = np.abs(manual - auto)
        self.maxdiff = float(diff.max()) if diff.size else 0.0

    def __iter__(self):
        return iter((self.name, self.exact, self.approximate, self.maxdiff))

    def __repr__(self):
        return (
            f"Row({self.name!r}, exact={self.exact}, approximate={self.approximate}, "
            f"maxdiff={self.maxdiff:.3g})"
        )


class Comparison:
    """The rows of `compare`; its repr is the table (also as HTML in Jupyter).

    `ok` is True when every row is approximately equal; `rows` is the list of `Row`s and
    `comparison["name"]` one of them.
    """

    def __init__(self, rows):
        self.rows = rows

    @property
    def ok(self):
        return all(r.approximate for r in self.rows)

    def __getitem__(self, name):
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"compare: no gradient named {name!r}; names: {[r.name for r in self.rows]}")

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def lines(self):
        w = max(len(r.name) for r in self.rows)
        return [
            f"{r.name:<{w}} | exact: {str(r.exact):<5} | approximate: {str(r.approximate):<5} "
            f"| maxdiff: {r.maxdiff:.3g}"
            for r in self.rows
        ]

    def __repr__(self):
        return "\n".join(self.lines())

    __str__ = __repr__

    def _repr_html_(self):
        import html

        cells = "".join(
            f"<tr><td><code>{html.escape(r.name)}</code></td>"
            f"<td style='color:{'green' if r.exact else 'gray'}'>{r.exact}</td>"
            f"<td style='color:{'green' if r.approximate else 'red'}'>{r.approximate}</td>"
            f"<td>{r.maxdiff:.3g}</td></tr>"
            for r in self.rows
        )
        return (
            "<table class='stepgrad-compare'><tr><th>gradient</th><th>exact</th>"
            f"<th>approximate</th><th>maxdiff</th></tr>{cells}</table>"
        )


def _engine_grad(x, name):
    """The engine's gradient from a node (its .grad) or an array/number given as is."""
    if isinstance(x, Node):
        if x.grad is None:
            raise ValueError(
                f"compare: {name!r} has no gradient yet (its .grad is None); call "
                "loss.backward() before comparing"
            )
        x = x.grad
    return np.asarray(x.data if isinstance(x, Node) else x, dtype=np.float64)


def _manual(x, name):
    if isinstance(x, Node):
        x = x.data
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"compare: the hand-written gradient {name!r} must be a number or an array, "
            f"got {type(x).__name__}"
        ) from None


def _node_name(node, i):
    return node.label or f"node {i}"


def _triples(manual, auto):
    """[(name, manual gradient, engine gradient or node)] from any of the accepted forms."""
    if auto is None:
        if isinstance(manual, dict):  # {node: hand-written gradient}
            items = list(manual.items())
            if not all(isinstance(k, Node) for k, _ in items):
                raise TypeError(
                    "compare: with one argument, give {node: your gradient} or a list of "
                    "(name, your gradient, node) triples; to use names, pass the engine's "
                    "gradients as the second argument: compare(manual, auto)"
                )
            return [(_node_name(k, i), v, k) for i, (k, v) in enumerate(items)]
        out = []
        for i, item in enumerate(manual):
            if isinstance(item, tuple | list) and len(item) == 3:
                out.append(tuple(item))
            elif isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[1], Node):
                out.append((_node_name(item[1], i), item[0], item[1]))
            else:
                raise TypeError(
                    "compare: each pair must be (your gradient, node) or (name, your gradient, "
                    f"node); item {i} is {type(item).__name__}"
                )
        return out
    if isinstance(manual, dict):
        if isinstance(auto, dict):
            missing = [k for k in manual if k not in auto]
            if missing:
                raise KeyError(
                    f"compare: {missing} are in your gradients but not in the engine's "
                    f"(it has {list(auto)})"
                )
            return [(str(k), v, auto[k]) for k, v in manual.items()]
        auto = list(auto)
        if len(auto) != len(manual):
            raise ValueError(
                f"compare: {len(manual)} hand-written gradients but {len(auto)} engine "
                "gradients; give one of each, in the same order"
            )
        return [(str(k), v, a) for (k, v), a in zip(manual.items(), auto)]
    manual, auto = list(manual), list(auto)
    if len(auto) != len(manual):
        raise ValueError(
            f"compare: {len(manual)} hand-written gradients but {len(auto)} engine gradients"
        )
    return [
        (_node_name(a, i) if isinstance(a, Node) else f"#{i}", m, a)
        for i, (m, a) in enumerate(zip(manual, auto))
    ]


def compare(manual, auto=None, rtol=1e-5, atol=1e-8):
    """Check your hand-written gradients against the engine's: makemore's `cmp` as a table.

    Accepted forms:
        compare({"dW": dW, "db": db}, {"dW": W, "db": b})   # names -> arrays, names -> nodes
        compare({W: dW, b: db})                             # node -> your gradient
        compare([(dW, W), (db, b)])                         # pairs (your gradient, node)
        compare([("dW", dW, W)])                            # triples (name, yours, node)
    A node in `auto` stands for its `.grad` (call `backward()` first); an array is used as is.

    Args:
        rtol, atol: the tolerance of `approximate` (as `numpy.allclose`).

    Returns:
        A `Comparison`: its repr is the table; `.ok`, `.rows`, `comparison[name]`.

    Raises:
        ValueError naming the gradient and both shapes when the shapes differ.

    >>> from autograd import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b; c.backward()
    >>> compare({a: -3.0, b: 2.0000001})
    a | exact: True  | approximate: True  | maxdiff: 0
    b | exact: False | approximate: True  | maxdiff: 1e-07
    """
    rows = []
    for name, m, a in _triples(manual, auto):
        name = str(name)
        mine, theirs = _manual(m, name), _engine_grad(a, name)
        if mine.shape != theirs.shape:
            raise ValueError(
                f"compare: {name!r}: your gradient has shape {mine.shape} but the engine's has "
                f"shape {theirs.shape}; a gradient has the shape of its variable (sum over the "
                "broadcast axes, or reshape)"
            )
        rows.append(Row(name, mine, theirs, rtol, atol))
    if not rows:
        raise ValueError("compare: nothing to compare (no gradients given)")
    return Comparison(rows)
