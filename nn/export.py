"""The road out: a stepgrad model as PyTorch modules or an ONNX file, and weights back from torch.

- `to_torch(model)`: a `torch.nn.Sequential` with the same layers and weights. It takes the
  same channels-last (NHWC) images as stepgrad: it turns them channels-first once before the
  first convolution and back before Flatten, so the Dense weights after it stay as they are.
- `from_torch(module, input_shape=None)`: the matching stepgrad Sequential with the module's
  weights, for modules made by to_torch and for plain channels-first torch models alike.
- `load_state_dict(model, state_dict)`: torch weights into a stepgrad model whose layers match
  (every array checked first, then all written, or none).
- `to_onnx(model, path)` (also `model.export_onnx(path)`): an ONNX graph written with the onnx
  package and checked by onnx.checker.

torch and onnx are optional (`pip install 'stepgrad[torch]'`, `'stepgrad[onnx]'`); nothing here
imports them until a function needs them.
"""

import os
import tempfile
from collections import OrderedDict

import numpy as np

from . import weights as _weights
from .layers import (
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Linear,
    MaxPooling2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .sequential import Sequential

_ACT = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax}


def _need(package, extra, what):
    try:
        return __import__(package)
    except ImportError:
        raise ImportError(
            f"{what} needs the {package} package: pip install 'stepgrad[{extra}]'"
        ) from None


def _same_pads(size, kernel, stride):
    """Keras's 'same' padding along one axis: (before, after), the extra one after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv_pads(layer):
    """((top, bottom), (left, right)) of a built Conv2D."""
    if layer.padding == "valid":
        return (0, 0), (0, 0)
    h, w, _ = layer.input_shape
    (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
    return _same_pads(h, kh, sh), _same_pads(w, kw, sw)


def _sequential_only(model, what):
    if not isinstance(model, Sequential):
        raise TypeError(
            f"{what}: only nn.Sequential models are supported, got {type(model).__name__}; "
            "a functional nn.Model can be exported with model.export_onnx(path)"
        )
    if not model.built:
        raise ValueError(
            f"{what}: the model is not built yet; give input_shape to the first layer or call "
            "it on data first"
        )


def _activation_name(layer, what):
    act = getattr(layer, "activation", "linear")
    if act != "linear" and act not in _ACT:
        raise TypeError(
            f"{what}: {layer.describe()} has a custom activation {act!r}; only "
            f"{sorted(_ACT)} (or none) can be exported"
        )
    return act


# ----------------------------------------------------------------------------------------------
# PyTorch


_CLASSES = {}


def _torch_classes():
    """ChannelsFirst / ChannelsLast: the NHWC <-> NCHW permutes (made once torch is imported)."""
    if not _CLASSES:
        torch = _need("torch", "torch", "nn.export")

        class ChannelsFirst(torch.nn.Module):
            """(N, H, W, C) -> (N, C, H, W), as stepgrad's images enter torch's Conv2d."""

            def forward(self, x):
                return x.permute(0, 3, 1, 2)

        class ChannelsLast(torch.nn.Module):
            """(N, C, H, W) -> (N, H, W, C), so Flatten orders features as stepgrad does."""

            def forward(self, x):
                return x.permute(0, 2, 3, 1)

        _CLASSES.update(first=ChannelsFirst, last=ChannelsLast)
    return _CLASSES["first"], _CLASSES["last"]


def _torch_activation(torch, act):
    return {
        "relu": torch.nn.ReLU,
        "sigmoid": torch.nn.Sigmoid,
        "tanh": torch.nn.Tanh,
        "softmax": lambda: torch.nn.Softmax(dim=-1),
    }[act]()


def _t(a, torch):
    return torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(a)).clone())


def to_torch(model):
    """A torch.nn.Sequential with this Sequential's layers and weights (float32, CPU).

    Module names are the stepgrad layer names (`dense`, `conv2d_1`, ...); an activation gets
    its own module after its layer (`dense_relu`). It takes the same inputs as the stepgrad
    model: channels-last images, integer ids for an Embedding.
    """
    _sequential_only(model, "to_torch")
    torch = _need("torch", "torch", "to_torch")
    first_cls, last_cls = _torch_classes()
    mods = OrderedDict()
    channels_first = False
    for layer in model.layers:
        name = getattr(layer, "name", None) or f"layer{len(mods)}"
        act = "linear"
        if isinstance(layer, Dense | Linear):
            w = layer.weight.data
            lin = torch.nn.Linear(w.shape[0], w.shape[1], bias=layer.bias is not None)
            with torch.no_grad():
                lin.weight = _t(w.T, torch)
                if layer.bias is not None:
                    lin.bias = _t(layer.bias.data, torch)
            if channels_first:
                raise ValueError(f"to_torch: {layer.describe()} follows images without Flatten")
            mods[name] = lin
            act = _activation_name(layer, "to_torch") if isinstance(layer, Dense) else "linear"
        elif isinstance(layer, Conv2D):
            if not channels_first:
                mods[f"{name}_to_nchw"] = first_cls()
                channels_first = True
            (top, bottom), (left, right) = _conv_pads(layer)
            if top != bottom or left != right:
                mods[f"{name}_pad"] = torch.nn.ZeroPad2d((left, right, top, bottom))
                pad = 0
            else:
                pad = (top, left)
            w = layer.weight.data  # (kh, kw, c, f) -> torch's (f, c, kh, kw)
            conv = torch.nn.Conv2d(
                w.shape[2],
                w.shape[3],
                layer.kernel_size,
                stride=layer.strides,
                padding=pad,
                bias=layer.bias is not None,
            )
            conv.weight = _t(w.transpose(3, 2, 0, 1), torch)
            if layer.bias is not None:
                conv.bias = _t(layer.bias.data, torch)
            mods[name] = conv
            act = _activation_name(layer, "to_torch")
        elif isinstance(layer, MaxPooling2D):
            if not channels_first:
                mods[f"{name}_to_nchw"] = first_cls()
                channels_first = True
            mods[name] = torch.nn.MaxPool2d(layer.pool_size, stride=layer.strides)
        elif isinstance(layer, Flatten):
            if channels_first:
                mods[f"{name}_to_nhwc"] = last_cls()
                channels_first = False
            mods[name] = torch.nn.Flatten()
        elif isinstance(layer, Dropout):
            mods[name] = torch.nn.Dropout(layer.rate)
        elif isinstance(layer, Embedding):
            emb = torch.nn.Embedding(layer.input_dim, layer.output_dim)
            emb.weight = _t(layer.weight.data, torch)
            mods[name] = emb
        elif isinstance(layer, Softmax):
            mods[name] = torch.nn.Softmax(dim=layer.axis)
        elif isinstance(layer, ReLU | Sigmoid | Tanh):
            mods[name] = _torch_activation(torch, type(layer).__name__.lower())
        else:
            raise TypeError(
                f"to_torch: no torch counterpart for {type(layer).__name__} "
                f"{getattr(layer, 'name', '')!r}; known: Dense, Linear, Conv2D, MaxPooling2D, "
                "Flatten, Dropout, Embedding, ReLU, Sigmoid, Tanh, Softmax"
            )
        if act != "linear":
            if act == "softmax" and channels_first:
                mods[f"{name}_{act}"] = torch.nn.Softmax(dim=1)
            else:
                mods[f"{name}_{act}"] = _torch_activation(torch, act)
    if channels_first:
        mods["to_nhwc"] = last_cls()
    out = torch.nn.Sequential(mods)
    out.train(model.training)
    return out


def _numpy(v):
    if hasattr(v, "detach"):
        return v.detach().cpu().numpy()
    return np.asarray(v)


def _torch_pairs(model, sd):
    """(stepgrad parameter name, torch key, to_stepgrad(array)): the k-th layer with weights
    in the model takes the k-th module prefix of the state dict (its keys keep module order)."""
    named = {id(p): n for n, p in model.named_parameters()}
    prefixes = []
    for key in sd:
        prefix = key.rsplit(".", 1)[0] if "." in key else ""
        if prefix not in prefixes:
            prefixes.append(prefix)
    holders = [layer for layer in model.layers if getattr(layer, "weight", None) is not None]
    if len(holders) != len(prefixes):
        raise ValueError(
            f"load_state_dict: the model has {len(holders)} layers with weights "
            f"({[getattr(h, 'name', '?') for h in holders]}) but the state dict has "
            f"{len(prefixes)} modules with weights ({prefixes}); the model was left unchanged"
        )
    out = []
    for layer, prefix in zip(holders, prefixes):
        dot = f"{prefix}." if prefix else ""
        for attr in ("weight", "bias"):
            p = getattr(layer, attr, None)
            if p is None or id(p) not in named:
                continue
            if attr == "weight" and isinstance(layer, Dense | Linear):
                conv = np.transpose
            elif attr == "weight" and isinstance(layer, Conv2D):
                conv = lambda a: np.transpose(a, (2, 3, 1, 0))
            else:
                conv = lambda a: a
            out.append((named[id(p)], f"{dot}{attr}", conv))
    return out


def load_state_dict(model, state_dict):
    """Copy torch weights into a stepgrad Sequential whose layers match, in order.

    The k-th torch module with weights fills the k-th stepgrad layer with weights (Linear ->
    Dense with the weight transposed, Conv2d -> Conv2D turned channels-last). Every key and
    shape is checked before any weight is written; a mismatch raises and leaves the model
    unchanged. Values may be torch tensors or numpy arrays.
    """
    _sequential_only(model, "load_state_dict")
    sd = dict(state_dict)
    pairs = _torch_pairs(model, sd)
    keys = [k for _, k, _ in pairs]
    missing = [k for k in keys if k not in sd]
    if missing:
        raise ValueError(
            f"load_state_dict: no {missing[0]!r} in the state dict (it holds {sorted(sd)}); the "
            "model was left unchanged"
        )
    extra = sorted(set(sd) - set(keys))
    if extra:
        raise ValueError(
            f"load_state_dict: {extra[0]!r} is not a weight of this model (its weights: {keys});"
            " the model was left unchanged"
        )
    params = dict(model.named_parameters())
    arrays = {}
    for pname, key, conv in pairs:
        arrays[pname] = conv(_weights.as_array(_numpy(sd[key]), key, "load_state_dict", ""))
    _weights.load_into(list(params.items()), arrays, "the state dict", "load_state_dict")
    return model


def _bias(m):
    return None if m.bias is None else _numpy(m.bias)


def _flatten_torch(module, torch):
    out = []
    stack = [module]
    while stack:
        m = stack.pop(0)
        if isinstance(m, torch.nn.Sequential):
            stack[:0] = list(m.children())
        else:
            out.append(m)
    return out


def from_torch(module, input_shape=None):
    """A stepgrad Sequential with the layers and weights of a torch module.

    The module is a torch.nn.Sequential (nested ones are flattened) of Linear, Conv2d,
    MaxPool2d, Flatten, Dropout, Embedding, ReLU, Sigmoid, Tanh, Softmax, and the permutes
    to_torch adds. A plain channels-first torch model is turned into stepgrad's channels-last
    form (the Linear after Flatten has its input columns reordered), so give `input_shape` as
    (height, width, channels); a model that starts with Linear needs none.
    """
    torch = _need("torch", "torch", "from_torch")
    first_cls, last_cls = _torch_classes()
    mods = _flatten_torch(module, torch)
    acts = {torch.nn.ReLU: "relu", torch.nn.Sigmoid: "sigmoid", torch.nn.Tanh: "tanh"}
    layers, loads = [], []  # loads: (stepgrad layer, {attr: array})
    native_nchw = False  # a plain torch model: images arrive channels-first
    saw_permute = False
    pending_pad = None
    i = 0
    while i < len(mods):
        m = mods[i]
        nxt = mods[i + 1] if i + 1 < len(mods) else None
        act = None
        if nxt is not None and type(nxt) in acts:
            act = acts[type(nxt)]
        elif isinstance(nxt, torch.nn.Softmax) and nxt.dim in (-1, None, 1):
            act = "softmax"
        if isinstance(m, first_cls | last_cls):
            saw_permute = True
            i += 1
            continue
        if isinstance(m, torch.nn.ZeroPad2d):
            pending_pad = m.padding
            i += 1
            continue
        if isinstance(m, torch.nn.Linear):
            w = _numpy(m.weight).T  # after a (c, h, w) Flatten, _fix_flatten_order reorders rows
            layer = Dense(m.out_features, activation=act, use_bias=m.bias is not None)
            loads.append(
                (layer, {"weight": w, "bias": _numpy(m.bias) if m.bias is not None else None})
            )
        elif isinstance(m, torch.nn.Conv2d):
            if not saw_permute:
                native_nchw = True
            if m.groups != 1 or tuple(m.dilation) != (1, 1):
                raise TypeError("from_torch: Conv2d with groups or dilation has no stepgrad twin")
            if m.padding == "same" or pending_pad is not None:
                padding = "same"
            elif tuple(m.padding) == (0, 0):
                padding = "valid"
            elif all(2 * p == k - 1 for p, k in zip(m.padding, m.kernel_size)) and tuple(
                m.stride
            ) == (1, 1):
                padding = "same"
            else:
                raise TypeError(
                    f"from_torch: Conv2d padding {m.padding} with stride {m.stride} has no "
                    "stepgrad twin ('valid' or Keras's 'same')"
                )
            pending_pad = None
            if act == "softmax":
                act = None
            layer = Conv2D(
                m.out_channels,
                tuple(m.kernel_size),
                strides=tuple(m.stride),
                padding=padding,
                activation=act,
                use_bias=m.bias is not None,
            )
            w = _numpy(m.weight).transpose(2, 3, 1, 0)
            loads.append(
                (layer, {"weight": w, "bias": _numpy(m.bias) if m.bias is not None else None})
            )
        elif isinstance(m, torch.nn.MaxPool2d):
            if not saw_permute:
                native_nchw = True
            stride = m.stride if m.stride is not None else m.kernel_size
            if m.padding not in (0, (0, 0)) or m.dilation not in (1, (1, 1)) or m.ceil_mode:
                raise TypeError("from_torch: MaxPool2d with padding/dilation/ceil_mode")
            layer = MaxPooling2D(m.kernel_size, strides=stride)
            act = None
        elif isinstance(m, torch.nn.Flatten):
            layer = Flatten()
            act = None
        elif isinstance(m, torch.nn.Dropout):
            layer = Dropout(m.p)
            act = None
        elif isinstance(m, torch.nn.Embedding):
            layer = Embedding(m.num_embeddings, m.embedding_dim)
            loads.append((layer, {"weight": _numpy(m.weight)}))
            act = None
        elif type(m) in acts:
            layer = _ACT[acts[type(m)]]()
            act = None
        elif isinstance(m, torch.nn.Softmax):
            layer = Softmax(axis=-1 if m.dim is None else m.dim)
            act = None
        else:
            raise TypeError(
                f"from_torch: no stepgrad layer for torch's {type(m).__name__}; known: Linear, "
                "Conv2d, MaxPool2d, Flatten, Dropout, Embedding, ReLU, Sigmoid, Tanh, Softmax"
            )
        layers.append(layer)
        i += 2 if act else 1
    if input_shape is None:
        first = mods[0] if mods else None
        if isinstance(first, torch.nn.Linear):
            input_shape = (first.in_features,)
        elif any(isinstance(layer, Conv2D | MaxPooling2D) for layer in layers):
            raise ValueError(
                "from_torch: give input_shape=(height, width, channels) for a model with images"
            )
    model = Sequential(layers)
    if input_shape is not None:
        model.build(input_shape)
    if native_nchw:
        _fix_flatten_order(model, loads)
    for layer, arrays in loads:
        kept = [k for k, v in arrays.items() if v is not None]
        params = [(f"{layer.name}.{k}", getattr(layer, k)) for k in kept]
        if any(p is None for _, p in params):
            raise ValueError(
                f"from_torch: {layer.describe()} is not built; give input_shape to from_torch"
            )
        got = [arrays[k] for k in kept]
        _weights.assign(params, _weights.check(params, got, "from_torch"))
    model.train(module.training)
    return model


def _fix_flatten_order(model, loads):
    """A channels-first Flatten then Linear: reorder the Linear's rows from (c, h, w) to
    (h, w, c), so stepgrad's channels-last Flatten feeds the same numbers to each unit."""
    shapes = [model._input_shape, *model._shapes]
    by_layer = {id(layer): arrays for layer, arrays in loads}
    for k, layer in enumerate(model.layers):
        if isinstance(layer, Flatten) and k + 1 < len(model.layers):
            h, w, c = shapes[k]
            nxt = model.layers[k + 1]
            arrays = by_layer.get(id(nxt))
            if arrays is None:
                continue
            wt = arrays["weight"]  # (c*h*w, units), rows in (c, h, w) order
            rows = wt.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(h * w * c, -1)
            arrays["weight"] = rows


# ----------------------------------------------------------------------------------------------
# ONNX


def _onnx_steps(model):
    """[(layer, [input names], output name)] and the graph's input names and specs."""
    from .functional import Model

    if isinstance(model, Sequential):
        if not model.built:
            raise ValueError("export_onnx: the model is not built yet; call it on data first")
        first = model.layers[0] if model.layers else None
        int_in = isinstance(first, Embedding)
        inputs = [("input", (None, *model._input_shape), np.int64 if int_in else np.float32)]
        steps, prev = [], "input"
        for k, layer in enumerate(model.layers):
            out = f"t{k}"
            steps.append((layer, [prev], out, _layer_in_shape(model, k)))
            prev = out
        return inputs, steps, prev
    if isinstance(model, Model):
        names = {}
        inputs = []
        for t in model._in:
            names[id(t)] = t.name
            inputs.append((t.name, t.shape, np.float32 if t.dtype.kind == "f" else np.int64))
        steps = []
        for k, t in enumerate(model._order):
            if not t.inputs:
                continue
            out = f"t{k}"
            names[id(t)] = out
            in_shape = t.inputs[0].shape[1:]
            steps.append((t.layer, [names[id(p)] for p in t.inputs], out, in_shape))
        return inputs, steps, names[id(model._out)]
    raise TypeError(f"export_onnx: expects an nn.Sequential or nn.Model, got {type(model)}")


def _layer_in_shape(model, k):
    return model._input_shape if k == 0 else model._shapes[k - 1]


def to_onnx(model, path, opset=17):
    """Write `model` to `path` as ONNX (opset 17 by default), checked by onnx.checker.

    Layers: Dense, Linear, Conv2D, MaxPooling2D, Flatten, Dropout (inference: identity),
    Embedding, ReLU/Sigmoid/Tanh/Softmax, Add, Concatenate. Images stay channels-last at the
    graph's input and output, as in stepgrad; the batch axis is dynamic ('N'). Returns the
    onnx ModelProto.
    """
    onnx = _need("onnx", "onnx", "export_onnx")
    from onnx import TensorProto, helper, numpy_helper

    from .functional import Add, Concatenate, InputLayer

    inputs, steps, last = _onnx_steps(model)
    nodes, inits = [], []
    counter = [0]

    def fresh(base):
        counter[0] += 1
        return f"{base}_{counter[0]}"

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def act_node(act, x, axis=-1):
        op = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax"}[act]
        y = fresh(op.lower())
        kw = {"axis": axis} if op == "Softmax" else {}
        nodes.append(helper.make_node(op, [x], [y], **kw))
        return y

    def to_nchw(x):
        y = fresh("nchw")
        nodes.append(helper.make_node("Transpose", [x], [y], perm=[0, 3, 1, 2]))
        return y

    def to_nhwc(x, out):
        nodes.append(helper.make_node("Transpose", [x], [out], perm=[0, 2, 3, 1]))

    alias = {}
    for layer, ins, out, _in_shape in steps:
        ins = [alias.get(n, n) for n in ins]
        x = ins[0]
        lname = getattr(layer, "name", out)
        if isinstance(layer, Dense | Linear):
            y = fresh("matmul")
            w = init(f"{lname}.weight", layer.weight.data)
            nodes.append(helper.make_node("MatMul", [x, w], [y]))
            if layer.bias is not None:
                b = init(f"{lname}.bias", layer.bias.data)
                z = fresh("add")
                nodes.append(helper.make_node("Add", [y, b], [z]))
                y = z
            act = _activation_name(layer, "export_onnx") if isinstance(layer, Dense) else "linear"
            if act != "linear":
                y = act_node(act, y)
            nodes.append(helper.make_node("Identity", [y], [out]))
        elif isinstance(layer, Conv2D):
            (top, bottom), (left, right) = _conv_pads(layer)
            w = init(f"{lname}.weight", layer.weight.data.transpose(3, 2, 0, 1))
            conv_in = [to_nchw(x), w]
            if layer.bias is not None:
                conv_in.append(init(f"{lname}.bias", layer.bias.data))
            y = fresh("conv")
            nodes.append(
                helper.make_node(
                    "Conv",
                    conv_in,
                    [y],
                    kernel_shape=list(layer.kernel_size),
                    strides=list(layer.strides),
                    pads=[top, left, bottom, right],
                )
            )
            act = _activation_name(layer, "export_onnx")
            if act != "linear":
                y = act_node(act, y, axis=1)
            to_nhwc(y, out)
        elif isinstance(layer, MaxPooling2D):
            y = fresh("maxpool")
            nodes.append(
                helper.make_node(
                    "MaxPool",
                    [to_nchw(x)],
                    [y],
                    kernel_shape=list(layer.pool_size),
                    strides=list(layer.strides),
                )
            )
            to_nhwc(y, out)
        elif isinstance(layer, Flatten):
            nodes.append(helper.make_node("Flatten", [x], [out], axis=1))
        elif isinstance(layer, Dropout | InputLayer):
            nodes.append(helper.make_node("Identity", [x], [out]))
        elif isinstance(layer, Embedding):
            ids = fresh("ids")
            nodes.append(helper.make_node("Cast", [x], [ids], to=TensorProto.INT64))
            w = init(f"{lname}.weight", layer.weight.data)
            nodes.append(helper.make_node("Gather", [w, ids], [out], axis=0))
        elif isinstance(layer, Softmax):
            nodes.append(helper.make_node("Softmax", [x], [out], axis=layer.axis))
        elif isinstance(layer, ReLU | Sigmoid | Tanh):
            op = {"ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}[type(layer).__name__]
            nodes.append(helper.make_node(op, [x], [out]))
        elif isinstance(layer, Add):
            y = ins[0]
            for other in ins[1:]:
                z = fresh("add")
                nodes.append(helper.make_node("Add", [y, other], [z]))
                y = z
            nodes.append(helper.make_node("Identity", [y], [out]))
        elif isinstance(layer, Concatenate):
            nodes.append(helper.make_node("Concat", ins, [out], axis=layer.axis))
        else:
            raise TypeError(
                f"export_onnx: no ONNX form for {type(layer).__name__} {lname!r}; known: Dense, "
                "Linear, Conv2D, MaxPooling2D, Flatten, Dropout, Embedding, ReLU, Sigmoid, Tanh, "
                "Softmax, Add, Concatenate"
            )
    nodes.append(helper.make_node("Identity", [last], ["output"]))
    elem = {np.float32: TensorProto.FLOAT, np.int64: TensorProto.INT64}
    graph_inputs = [
        helper.make_tensor_value_info(name, elem[dtype], ["N", *shape[1:]])
        for name, shape, dtype in inputs
    ]
    out_shape = ["N", *model.output_shape_nb()]
    graph = helper.make_graph(
        nodes,
        getattr(model, "name", "stepgrad"),
        graph_inputs,
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
        initializer=inits,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", int(opset))],
        producer_name="stepgrad",
    )
    proto.ir_version = 8  # what onnxruntime of the last years reads; opset 17 needs IR >= 8
    onnx.checker.check_model(proto, full_check=True)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".onnx")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(proto.SerializeToString())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return proto
