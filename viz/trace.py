"""Walk a graph from its root through the node protocol, without recursion.

A `Trace` numbers the value nodes in breadth-first order from the root (a stable counter: the
same graph gives the same numbers every time) and remembers each node's operands. It only
reads nodes; it never changes them.
"""

from autograd import Node


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
