"""nn.Module: parameters found by walking attributes, dotted names, train/eval, weights on disk.

A module's forward runs inside `autograd.scope(dotted_name)`, so every node it creates carries
its name (`node.scope`, e.g. 'layers.0'); viz collapses a layer into one box by it.
"""

import os
import weakref

import numpy as np

from autograd import Tensor, no_grad, scope

from . import weights as _weights

_DEPTH = 0  # 1 while a root module's forward runs (0: the next call is a root call)
_VERSION = 0  # bumped when a module's structure may have changed; roots re-name their tree


class Module:
    """Base class of layers and models, as in PyTorch.

    Parameters are the Tensors with `requires_grad=True` found in the module's attributes, in
    sub-modules, and in lists, tuples and dicts of them (attributes starting with '_' are
    private and skipped). Subclasses write `forward`; calling the module runs it.

    >>> from autograd import Tensor
    >>> class Affine(Module):
    ...     def __init__(self):
    ...         self.scale = Tensor([2.0], requires_grad=True)
    ...         self.shift = Tensor([1.0], requires_grad=True)
    ...     def forward(self, x):
    ...         return x * self.scale + self.shift
    >>> class Net(Module):
    ...     def __init__(self):
    ...         self.blocks = [Affine(), Affine()]
    ...     def forward(self, x):
    ...         for b in self.blocks:
    ...             x = b(x)
    ...         return x
    >>> net = Net()
    >>> [name for name, p in net.named_parameters()]
    ['blocks.0.scale', 'blocks.0.shift', 'blocks.1.scale', 'blocks.1.shift']
    >>> y = net(Tensor([1.0])); y.data, y.scope
    (array([7.], dtype=float32), 'blocks.1')
    """

    training = True
    _path = None  # dotted name inside the root module last called (set by the root)
    _scope = None  # the scope context of that name, made once
    _walked = -1  # the _VERSION this module's tree was last named at, as a root

    def __setattr__(self, name, value):
        global _VERSION
        if isinstance(value, Module | list | tuple | dict):
            _VERSION += 1
        object.__setattr__(self, name, value)

    # --- calling -------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        global _DEPTH
        if _DEPTH:  # inside a parent's forward: run under this module's dotted name
            cm = self._scope
            if cm is None:
                return self.forward(*args, **kwargs)
            with cm:
                return self.forward(*args, **kwargs)
        if args and (args[0].__class__ is list or hasattr(args[0], "_keras_symbolic")):
            from .functional import _is_symbolic, symbolic_call

            if _is_symbolic(args[0]):  # layer(nn.Input(...)): record the call, build the layer
                return symbolic_call(self, args[0])
        if self._walked != _VERSION:  # a root call: name the tree when it may have changed
            self._name_tree()
        _DEPTH = 1
        try:
            return self.forward(*args, **kwargs)
        finally:
            _DEPTH = 0

    def _name_tree(self):
        global _VERSION
        _VERSION += 1
        for name, m in self.named_modules():
            if m is not self:
                object.__setattr__(m, "_path", name)
                object.__setattr__(m, "_scope", scope(ScopeName(name, m)))
        object.__setattr__(self, "_walked", _VERSION)

    # --- discovery -----------------------------------------------------------------------
    def _children(self):
        """(name, value) of the public attributes, in the order they were set."""
        return [(k, v) for k, v in vars(self).items() if not k.startswith("_")]

    def named_modules(self, prefix=""):
        """(dotted name, module) for this module ('' for itself) and every sub-module."""
        seen = set()
        out = []
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append((name, m))
            found = []
            for key, value in m._children():
                _collect(value, f"{name}.{key}" if name else key, Module, found)
            stack.extend(reversed(found))
        return out

    def named_parameters(self):
        """(dotted name, Tensor) of every parameter, each once, e.g. ('layers.0.weight', W)."""
        seen = set()
        out = []
        for mname, m in self.named_modules():
            for key, value in m._children():
                found = []
                _collect(
                    value, f"{mname}.{key}" if mname else key, Tensor, found, skip_modules=True
                )
                for name, t in found:
                    if t.requires_grad and id(t) not in seen:
                        seen.add(id(t))
                        out.append((name, t))
        return out

    def parameters(self):
        """The parameters (Tensors with requires_grad=True), in the order of named_parameters."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        """Forget the gradients of every parameter (leaf gradients accumulate otherwise)."""
        for p in self.parameters():
            p.grad = None

    def count_params(self):
        """Number of numbers in the parameters."""
        return sum(p.size for p in self.parameters())

    # --- modes ---------------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (Dropout active) for this module and its sub-modules; returns self."""
        for _, m in self.named_modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode (Dropout off); returns self."""
        return self.train(False)

    # --- weights -------------------------------------------------------------------------
    def get_weights(self):
        """Copies of the parameter arrays, in the order of named_parameters."""
        return [p.data.copy() for p in self.parameters()]

    def set_weights(self, weights):
        """Set the parameters from arrays (as get_weights gives): all are checked (count,
        shape, real numbers) before any is written, so a bad array leaves the model unchanged."""
        params = self.named_parameters()
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"set_weights: the model has {len(params)} parameters, got {len(weights)} arrays"
            )
        _weights.assign(params, _weights.check(params, weights, "set_weights"))

    def save_weights(self, path):
        """Write the parameters to an .npz (or .safetensors) file keyed by dotted name.

        Atomic (temp + rename): a failure while writing leaves any existing file at `path` as
        it was. .safetensors needs the safetensors package (stepgrad[safetensors]).
        """
        params = self.named_parameters()
        if not params:
            raise ValueError(
                f"save_weights: {type(self).__name__} has no weights yet; build it first "
                "(give input_shape to the first layer, or call the model on data)"
            )
        _weights.write(path, {name: p.data for name, p in params}, "save_weights")

    def load_weights(self, path):
        """Read parameters saved by save_weights (.npz or .safetensors); all or nothing.

        Names, shapes and dtypes (real numbers) must fit; otherwise an error names the
        parameter (or what is wrong with the file) and the model is left unchanged.
        """
        params = self.named_parameters()
        if not params:
            raise ValueError(
                f"load_weights: {type(self).__name__} has no weights yet; build it first "
                "(give input_shape to the first layer, or call the model on data)"
            )
        path = os.fspath(path)
        _weights.load_into(params, _weights.read(path, "load_weights"), path, "load_weights")

    # --- printing ------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (subclasses fill it in)."""
        return ""

    def _repr_children(self):
        out = []
        for key, value in self._children():
            found = []
            _collect(value, key, Module, found)
            out.extend(found)
        return out

    def __repr__(self):
        children = self._repr_children()
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, m in children:
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


class ScopeName(str):
    """A module's dotted name, as the `scope` of the nodes its forward makes ('layers.0'),
    carrying what a drawing says of the module: `what` ('Dense(64, relu)') and `params`, the
    labels of its parameters (so a drawing tells them from an input that needs a gradient).

    >>> import nn
    >>> dense = nn.Dense(64, activation="relu", input_shape=(3,))
    >>> s = ScopeName("layers.0", dense)
    >>> s == "layers.0", s.what, sorted(s.params)
    (True, 'Dense(64, relu)', ['bias', 'weight'])
    """

    def __new__(cls, name, module):
        s = super().__new__(cls, name)
        s._module = weakref.ref(module)  # read when drawn: a layer builds its weights later
        return s

    @property
    def what(self):
        m = self._module()
        return brief(m) if m is not None else ""

    @property
    def params(self):
        m = self._module()
        if m is None:
            return frozenset()
        return frozenset(p.label for _, p in m.named_parameters() if p.label)


def brief(m):
    """A module in a few characters: 'Dense(64, relu)', 'Conv2D(8, 3x3, relu)', 'Flatten'."""
    parts = []
    for attr in ("units", "filters", "out_features"):
        v = getattr(m, attr, None)
        if isinstance(v, int):
            parts.append(str(v))
            break
    k = getattr(m, "kernel_size", None) or getattr(m, "pool_size", None)
    if k is not None:
        parts.append("x".join(str(n) for n in (k if isinstance(k, tuple) else (k, k))))
    act = getattr(m, "activation", None)
    if isinstance(act, str) and act not in ("linear", "none"):
        parts.append(act)
    name = type(m).__name__
    return f"{name}({', '.join(parts)})" if parts else name


def _collect(value, name, kind, out, skip_modules=False):
    """Append (dotted name, obj) for each `kind` inside value (lists, tuples, dicts walked)."""
    stack = [(name, value)]
    while stack:
        name, v = stack.pop()
        if isinstance(v, kind):
            out.append((name, v))
        elif isinstance(v, Module):
            if not skip_modules:
                out.append((name, v))
        elif isinstance(v, list | tuple):
            stack.extend(reversed([(f"{name}.{i}", x) for i, x in enumerate(v)]))
        elif isinstance(v, dict):
            stack.extend(reversed([(f"{name}.{k}", x) for k, x in v.items()]))


@no_grad()
def _zeros_forward(module, shape):
    """The output shape (without batch) of module on a batch of one input of `shape`."""
    return module(np.zeros((1, *shape), dtype=np.float32)).shape[1:]
