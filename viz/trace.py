"""Walk a graph from its root through the node protocol, without recursion.

A `Trace` numbers the value nodes in breadth-first order from the root (a stable counter: the
same graph gives the same numbers every time) and remembers each node's operands. It only
reads nodes; it never changes them.
"""

from autograd import Node
from autograd.ops import repeated_axes


class Trace:
    """Every value node under `root`, numbered from 0 (the root) in breadth-first order.

    Attributes:
        nodes: the value nodes, `nodes[i]` has number i.
        index: node -> its number.
        inputs: `inputs[i]` is `nodes[i].operands` (nodes and plain constants, in order).

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); t = Trace(a * a + 1)
    >>> len(t.nodes), t.counts()
    (3, {'values': 3, 'ops': 2, 'constants': 1, 'edges': 6})
    """

    def __init__(self, root):
        if not isinstance(root, Node):
            raise TypeError(f"expected a Value or Tensor as the root, got {type(root).__name__}")
        nodes, index, inputs = [root], {root: 0}, []
        i = 0
        while i < len(nodes):  # the list is the queue: iterative, any depth
            ins = nodes[i].operands
            i += 1
            inputs.append(ins)
            for p in ins:
                if isinstance(p, Node) and p not in index:
                    index[p] = len(nodes)
                    nodes.append(p)
        self.root, self.nodes, self.index, self.inputs = root, nodes, index, inputs
        self._consumers = None

    def counts(self):
        """How many values, ops, constants and edges a full drawing has."""
        ops = constants = edges = 0
        for ins in self.inputs:
            if ins:
                ops += 1
                edges += 1 + len(ins)
                constants += sum(1 for p in ins if not isinstance(p, Node))
        return {"values": len(self.nodes), "ops": ops, "constants": constants, "edges": edges}

    def consumers(self):
        """`consumers()[i]`: the numbers of the nodes that take node i as an input (in order)."""
        if self._consumers is None:
            cons = [[] for _ in self.nodes]
            index = self.index
            for i, ins in enumerate(self.inputs):
                for p in ins:
                    if isinstance(p, Node):
                        cons[index[p]].append(i)
            self._consumers = cons
        return self._consumers

    def depends_on(self, node):
        """Numbers of the nodes on a path from the root down to `node` (`node` included)."""
        start = self.index.get(node)
        if start is None:
            raise ValueError("focus: that node is not in the graph of this root")
        cons = self.consumers()
        keep, stack = {start}, [start]
        while stack:
            for c in cons[stack.pop()]:
                if c not in keep:
                    keep.add(c)
                    stack.append(c)
        return keep


def takes_part(node):
    """True when backward gives this node a gradient (not a leaf made without requires_grad)."""
    return not node.is_leaf or bool(node.requires_grad)


def role(trace, i):
    """'root', 'parameter', 'input' or 'intermediate': what the colour legend calls node i."""
    n = trace.nodes[i]
    if i == 0:
        return "root"
    if n.is_leaf:
        return "parameter" if n.requires_grad else "input"
    return "intermediate"


def name_map(names):
    """{id(node): dotted name} from `dict(model.named_parameters())`, pairs, or a model."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = names.named_parameters()
    items = names.items() if hasattr(names, "items") else names
    out = {}
    for k, v in items:
        if isinstance(k, Node):  # {node: name} works too
            k, v = v, k
        out[id(v)] = str(k)
    return out


def formulas(node):
    """Each operand's gradient formula from the rule table (`grads=` of its `@rule`).

    Returns a tuple with one string per operand (None where that operand gets no gradient),
    or None for a leaf or a custom op given without formulas. An op with any number of
    inputs (concatenate, stack) has one formula in `x_i` and `i`; it is repeated here.

    >>> from autograd import Tensor
    >>> a = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> b = Tensor([[3.0], [4.0]], requires_grad=True)
    >>> formulas(a @ b)
    ('g @ mT(b)', 'mT(a) @ g')
    """
    op = node._op
    grads = getattr(op, "grads", None) if op is not None else None
    if grads is None:
        return None
    n = len(node.operands)
    return tuple(grads) * n if op.arity == -1 else tuple(grads)


def formula_names(node):
    """{name: value} for the names a node's formulas use: its operands under the vjp's argument
    names (`x_0`, `x_1`, ... for an op with any number of inputs), and its attrs (axis, ...).

    >>> from autograd import Tensor
    >>> a = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> b = Tensor([[3.0], [4.0]], requires_grad=True)
    >>> sorted(formula_names(a @ b))
    ['a', 'b']
    """
    import inspect

    op = node._op
    if op is None:
        return {}
    ins = node.operands
    out = {}
    params = list(inspect.signature(op.vjp).parameters.values())[2:]
    k = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            for j in range(k, len(ins)):
                out[f"x_{j - k}"] = ins[j]
            k = len(ins)
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and k < len(ins):
            out[p.name] = ins[k]
            k += 1
    for key, v in node.attrs.items():
        out.setdefault(key, v)
    return out


def summed_axes(node, operand):
    """The axes over which `operand`'s gradient is summed inside `node`, or () when none.

    An elementwise op whose other operand already has the result's shape (`x @ W + b`) lets
    numpy repeat this one in the forward, with no broadcast_to node; its backward sums the
    gradient back over the repeated axes (leading axes, and axes of length 1).

    >>> from autograd import Tensor
    >>> b = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = Tensor([[0.0] * 3] * 4) + b
    >>> summed_axes(y, b), summed_axes(y, y.operands[0])
    ((0,), ())
    """
    op = node._op
    if op is None or not op.elementwise or not isinstance(operand, Node):
        return ()
    return repeated_axes(operand.shape, node.shape)


def summed_text(axes):
    """'Σ axis 0', 'Σ axes 0, 2': the label of an edge whose gradient is summed (or '')."""
    if not axes:
        return ""
    return f"Σ axis {axes[0]}" if len(axes) == 1 else "Σ axes " + ", ".join(map(str, axes))


# ----------------------------------------------------------------------------------------------
# names: one function for every view (draw_graph's SVG, the viewer's boxes and its panel)

AUTO_SEP = " · "  # an intermediate's automatic name: 'layers.0 · matmul'


def is_param_of(node, s):
    """False when nn says the scope `s` has no parameter labelled as this leaf (then it is an
    input that needs a gradient); True when it has one, or when the scope does not say."""
    params = getattr(s, "params", None)
    return params is None or node.label in params


def _param_scope(trace, i):
    """The one nn scope that uses leaf i as its parameter (its module), or None."""
    nodes = trace.nodes
    found = {nodes[c].scope for c in trace.consumers()[i]} - {None}
    if len(found) != 1:
        return None
    s = found.pop()
    return s if is_param_of(nodes[i], s) else None


def name_info(trace, names=None):
    """Every node's name, and whether it was made up here: `(names, auto)`, two lists.

    In order: `names=` (a model, `dict(model.named_parameters())` or {name: node}); the node's
    label, a parameter's label prefixed by the nn module that uses it (`layers.0.weight`);
    an unnamed root is `loss` (a scalar) or `out`; an unnamed intermediate is named by its
    module and op (`layers.0 · matmul`, `mul_3` when several share a name, numbered in the
    order they were computed); an unnamed leaf `param_1` / `input_1`. `auto[i]` is True for
    those made from the op or the role (a view shows them in a lighter style).

    >>> from autograd import Value, scope
    >>> w = Value(0.5, label="w"); x = Value(2.0, requires_grad=False)
    >>> with scope("layer"):
    ...     h = (w * x).tanh()
    >>> name_info(Trace(h * 3.0))
    (['loss', 'layer · tanh', 'layer · mul', 'layer.w', 'x'], [False, True, True, False, False])
    """
    pnames = name_map(names)
    nodes = trace.nodes
    out, auto, bases = [], [], {}
    for i, n in enumerate(nodes):
        name = pnames.get(id(n))
        made = False
        if name is None and n.label:
            name = n.label
            if n.is_leaf and n.requires_grad and "." not in name and i:
                s = _param_scope(trace, i)
                if s is not None:
                    name = f"{s}.{name}"
        if name is None and i == 0:
            name = "loss" if getattr(n.data, "size", 1) == 1 else "out"
        if name is None:
            made = True
            if trace.inputs[i]:
                op = n.op or "op"
                name = f"{n.scope}{AUTO_SEP}{op}" if n.scope else op
            else:
                data = constant_names(trace).get(id(n))
                name = data or ("param" if n.requires_grad else "input")
                made = data is None
            bases.setdefault(name, []).append(i)
        out.append(name)
        auto.append(made)
    for base, members in bases.items():
        if len(members) > 1:  # number them in the order they were computed (deepest first)
            for k, i in enumerate(reversed(members), start=1):
                out[i] = f"{base}_{k}"
    return out, auto


def node_names(trace, names=None):
    """The name of every node of the trace (a list, by number); see `name_info`."""
    return name_info(trace, names)[0]


def constant_names(trace):
    """{id(array or leaf): 'x' or 'y'} for the data a model was called on and compared with.

    The only array (of more than one number, or an unnamed leaf Tensor without gradient)
    entering the ops of nn modules is the input batch `x`; the only one entering the ops after
    them (the loss) is the labels `y`. When there are several, none is named (they may be
    masks or 1 - y).
    """
    cached = getattr(trace, "_data_names", None)
    if cached is not None:
        return cached
    inside, after = {}, {}
    nodes = trace.nodes
    out = {}
    if any(n.scope is not None for n in nodes):
        for i, ins in enumerate(trace.inputs):
            for p in ins:
                if isinstance(p, Node):
                    if p.label or p.requires_grad or not p.is_leaf:
                        continue
                elif getattr(p, "size", 1) <= 1:
                    continue
                (inside if nodes[i].scope is not None else after)[id(p)] = p
        if len(inside) == 1:
            out[next(iter(inside))] = "x"
        if len(after) == 1:
            out[next(iter(after))] = "y"
    trace._data_names = out
    return out
