"""The scalar fast path: every rule's `floats` form (ops.py, below its vjp) agrees with the vjp,
and the backward loop the engine generates from them leaves the gradients `backward_steps`
(the general driver) leaves."""

import math
import random

import pytest

from autograd import Op, Value, backward_steps, engine, ops

FLOAT_RULES = sorted(name for name, r in ops.RULES.items() if r.floats is not None)

# inputs where each rule is defined and differentiable, plus its edge points
DOMAINS = {
    "log": [(0.3,), (2.5,), (1e-3,)],
    "sqrt": [(0.3,), (4.0,)],
    "pow": [(1.7, 3.0), (0.4, -1.5), (2.0, 0.5), (-1.5, 2.0)],
    "rpow": [(2.0, 1.3), (0.5, -0.7)],
    "pow_var": [(1.7, 2.2), (0.4, -1.5)],
    "relu": [(1.5,), (-0.5,), (0.0,)],
    "abs": [(1.5,), (-0.5,), (0.0,)],
    "maximum": [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5)],
}


def _points(name):
    if name in DOMAINS:
        return DOMAINS[name]
    rule = ops.RULES[name]
    rng = random.Random(name)
    return [tuple(rng.uniform(-2, 2) for _ in range(rule.arity)) for _ in range(4)]


def _eval_forms(rule, g, out, inputs):
    code = rule.vjp.__code__
    names = code.co_varnames[: code.co_argcount]
    env = dict(zip(names, (g, out, *inputs)))
    return tuple(None if form is None else eval(form, vars(ops), dict(env)) for form in rule.floats)


def test_the_common_scalar_rules_declare_a_float_form():
    common = "add sub mul div neg relu tanh exp pow sigmoid log sqrt abs rpow pow_var".split()
    assert [name for name in common if ops.RULES[name].floats is None] == []


def test_every_rule_with_a_scalar_forward_declares_a_float_form():
    # rules made without a `math` forward are Tensor-only; the rest run on Values
    scalar = [n for n, r in ops.RULES.items() if not r.scalar.__qualname__.startswith("_scalar_of")]
    assert scalar, "no scalar rules found"
    assert [n for n in scalar if ops.RULES[n].floats is None] == []


@pytest.mark.parametrize("name", FLOAT_RULES)
def test_float_form_agrees_with_the_vjp(name):
    rule = ops.RULES[name]
    assert len(rule.floats) == rule.arity
    for inputs in _points(name):
        out = rule.scalar(*inputs)
        for g in (1.0, -0.7, 2.5):
            want = rule.vjp(g, out, *inputs)
            got = _eval_forms(rule, g, out, inputs)
            for w, x in zip(want, got):
                if w is None or x is None:
                    assert w is None and x is None, (name, inputs, want, got)
                else:
                    assert x == pytest.approx(w, rel=1e-15, abs=0.0), (name, inputs, g, want, got)


def _every_float_rule(x, y, z):
    """A graph that uses every float rule, constants on both sides, and a shared node."""
    s = x * y + 2.0 * x - y / 3.0 + (1.0 - z) + 4.0 / (z * z + 1)
    s = s + (-x).relu() + y.relu() + x.tanh() + y.exp() + (z * z + 1).log()
    s = s + (z * z + 0.5).sqrt() + x.sigmoid() + abs(y) + x.abs()
    s = s + x**2 + (z * z + 1) ** 0.5 + 2.0**y + (x * x + 1) ** y
    s = s + ops.maximum(x, y) + ops.maximum(y, 0.25)
    return s * s


def test_generated_backward_matches_backward_steps_on_every_float_rule():
    used = set()
    for seed in range(5):
        rng = random.Random(seed)
        leaves = [Value(rng.uniform(-1.5, 1.5)) for _ in range(3)]
        fast = _every_float_rule(*leaves)
        fast.backward()
        got = [v.grad for v in leaves]
        for v in leaves:
            v.zero_grad()
        slow = _every_float_rule(*leaves)
        for step in backward_steps(slow):
            used.add(step.node._op)
        assert got == pytest.approx([v.grad for v in leaves], rel=1e-12)
    missing = {n for n in FLOAT_RULES if ops.RULES[n] not in used}
    assert missing == set(), f"the graph never builds {missing}"


def test_fast_backward_accumulates_into_leaves_and_skips_constant_leaves():
    a = Value(2.0)
    c = Value(3.0, requires_grad=False)
    (a * c + c).backward()
    (a * c).backward()
    assert (a.grad, c.grad) == (6.0, 0.0)


def test_a_float_form_that_divides_by_zero_is_redone_with_ieee_and_counted_once():
    a, b = Value(1.0), Value(0.0)
    y = a * 2.0 + a / b  # d/da = 2 + 1/0 = inf, d/db = -a/b**2 = -inf
    y.backward()
    assert a.grad == math.inf and b.grad == -math.inf
    x = Value(0.0)
    z = x * 3.0 + x.log()  # 3 + 1/0
    z.backward()
    assert x.grad == math.inf


def test_a_custom_op_takes_the_general_path_inside_a_fast_graph():
    cube = Op("cube", lambda x: x**3, lambda g, out, x: (3 * g * x * x,))
    x = Value(2.0)
    y = cube(x * 1.0) + x
    y.backward()
    assert x.grad == 13.0


def test_generated_source_has_one_branch_per_float_rule():
    rules = [r for r in ops.RULES.values() if r.floats is not None]
    source = engine._float_source(rules)
    assert source.count("if op is OP") == len(rules)  # one `if`, then `elif`s
    compile(source, "<test>", "exec")


def test_a_float_form_with_the_wrong_count_is_refused():
    bad = Op("bad", lambda a, b: a + b, lambda g, out, a, b: (g, g), arity=2)
    bad.floats = ("g",)
    with pytest.raises(TypeError, match="bad: floats gives 1 forms for 2 inputs"):
        engine._float_source([bad])


BINARY_FLOAT_RULES = sorted(
    name for name, r in ops.RULES.items() if r.floats is not None and r.arity == 2
)


@pytest.mark.parametrize("name", BINARY_FLOAT_RULES)
def test_every_binary_float_rule_agrees_with_backward_steps_on_each_side_of_a_constant(name):
    """The generated loop has three cases per binary rule (a constant on the right, on the left,
    two Values): each must leave the gradients the general driver leaves."""
    rule = ops.RULES[name]
    cases = 0
    for left, right in ((True, True), (True, False), (False, True)):
        for a0, b0 in ((1.3, 0.7), (0.6, 2.0), (1.5, 0.4)):
            x = Value(a0) if left else a0
            y = Value(b0) if right else b0
            try:
                out = rule(x, y)
            except TypeError:  # e.g. pow takes its exponent as a constant only
                continue
            leaves = [v for v in (x, y) if isinstance(v, Value)]
            formed = [f is not None for v, f in zip((x, y), rule.floats) if isinstance(v, Value)]
            (out * out).backward()
            fast = [v.grad for v in leaves]
            for v in leaves:
                v.zero_grad()
            for _ in backward_steps(rule(x, y) * rule(x, y)):
                pass
            assert fast == pytest.approx([v.grad for v in leaves], rel=1e-12), (name, x, y)
            # a gradient the rule declares is not 0 at these points (maximum: the larger's only)
            nonzero = [g != 0.0 for g, f in zip(fast, formed) if f]
            assert name == "maximum" or all(nonzero), (name, x, y, fast)
            cases += 1
    assert cases >= 3, f"{name}: only {cases} cases could be built"


# ----------------------------------------------------------------------------------------------
# the forward side: Value's operator methods are made from templates (value.py), with Python's
# own operator inline where the rule's scalar forward is one; each must give the rule's number

EDGES = (1.5, -0.5, 0.0, -0.0, 3.0, math.inf, -math.inf, math.nan, 1e308)
OPERATORS = {  # method -> (rule, how Python applies it to two plain numbers)
    "__add__": ("add", lambda x, y: x + y),
    "__sub__": ("sub", lambda x, y: x - y),
    "__mul__": ("mul", lambda x, y: x * y),
    "__truediv__": ("div", lambda x, y: x / y),
}


def _same(x, y):
    """Equal as IEEE numbers: NaN equals NaN, and 0.0 differs from -0.0."""
    return repr(x) == repr(y)


@pytest.mark.parametrize("method", sorted(OPERATORS))
def test_a_value_operator_gives_its_rules_number_on_each_side_of_a_constant(method):
    name, _ = OPERATORS[method]
    rule = ops.RULES[name]
    reflected = method.replace("__", "__r", 1)
    for x in EDGES:
        for y in EDGES:
            want = rule.scalar(x, y)
            got = [
                getattr(Value(x), method)(Value(y)).data,
                getattr(Value(x), method)(y).data,
                getattr(Value(y), reflected)(x).data,
            ]
            assert all(_same(g, want) for g in got), (method, x, y, want, got)


def test_operators_inlined_by_value_are_pythons_own_on_floats():
    # value.py applies these inline (`a._data * bd`) instead of calling the rule's forward
    from autograd import value

    assert set(value._INLINE) == {ops.add.scalar, ops.sub.scalar, ops.mul.scalar, ops.neg.scalar}
    for name, python in OPERATORS.values():
        if ops.RULES[name].scalar in value._INLINE:
            for x in EDGES:
                for y in EDGES:
                    assert _same(python(x, y), ops.RULES[name].scalar(x, y)), (name, x, y)
    for x in EDGES:
        assert _same((-Value(x)).data, -x)


@pytest.mark.parametrize("name", ["neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu"])
def test_a_value_method_of_one_input_gives_its_rules_number(name):
    method = {"neg": "__neg__", "abs": "__abs__"}.get(name, name)
    rule = ops.RULES[name]
    for x in EDGES:
        try:
            want = rule.scalar(x)
        except (ValueError, OverflowError) as e:  # e.g. log of a negative: the same error
            with pytest.raises(type(e)):
                getattr(Value(x), method)()
            continue
        assert _same(getattr(Value(x), method)().data, want), (name, x)


def test_a_value_method_keeps_its_rules_name_in_tracebacks():
    # the methods are generated, but a traceback names the rule, and the method's own source
    import traceback

    try:
        Value(1.0) * "x"
    except TypeError as e:
        frames = traceback.extract_tb(e.__traceback__)
    names = [f.name for f in frames]
    assert "Value.mul" in names or "mul" in names, names
    generated = [f for f in frames if "generated" in f.filename]
    assert generated and generated[0].line, frames
