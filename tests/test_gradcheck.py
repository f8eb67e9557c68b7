"""gradcheck's failure messages read as numbers a student can check by hand: what was checked
(unit weights per output element, or sum(w * f(x)) with the weights shown), and per element the
gradient backward gave against central differences."""

import re

import numpy as np
import pytest

from autograd import GradcheckError, Op, Tensor, Value, gradcheck

# d(x^3)/dx = 3x^2, but this vjp says 2x^2: at 0.5 it gives 0.5 where 0.75 is right
bad_cube = Op("cube", lambda x: x**3, lambda g, out, x: (2 * x * x * g,))
# a vjp that forgets to multiply by its upstream gradient g: right only when g is 1
no_g_square = Op("square", lambda x: x**2, lambda g, out, x: (2 * x,))


def failure(f, *inputs, **kw):
    with pytest.raises(GradcheckError) as err:
        gradcheck(f, *inputs, **kw)
    return str(err.value)


def flat(message):
    """The message with its line wrapping undone, to look for a phrase."""
    return " ".join(message.split())


def rows(message):
    """The table: {index text: (backward, central differences, marked as differing)}."""
    found = {}
    for line in message.splitlines():
        m = re.match(r"\s+(\[[\d, ]*\]|\(the number\))\s+(\S+)\s+(\S+)(\s+<- differs)?$", line)
        if m:
            found[m[1]] = (float(m[2]), float(m[3]), bool(m[4]))
    return found


def test_the_cube_example_reads_as_half_against_three_quarters():
    msg = failure(bad_cube, Tensor([0.5, -1.5]))
    assert msg.startswith("gradcheck failed at op 'cube': checked alone, its vjp gives 0.5 ")
    assert "where central differences give 0.75" in flat(msg)
    assert (
        "Overall: d(output[0])/d(input 0)[0] expected 0.75 (central differences), got 0.5"
        in flat(msg)
    )
    assert "each is checked alone: backward starts from 1 on that element" in flat(msg)
    table = rows(msg)
    assert table["[0]"] == (0.5, 0.75, True)
    assert table["[1]"] == (0.0, 0.0, False)  # d output[0] / d x[1]: cube is elementwise


def test_a_scalar_output_is_checked_with_weight_one():
    msg = failure(lambda x: bad_cube(x).sum(), Tensor([0.5, -1.5]))
    assert "the output is one number" in flat(msg) and "sum(w" not in flat(msg)
    table = rows(msg)
    assert table["[0]"] == (0.5, 0.75, True)
    assert table["[1]"] == (pytest.approx(4.5), pytest.approx(6.75), True)  # 2 * 1.5^2, 3 * 1.5^2


def test_a_value_input_has_one_row_without_brackets():
    msg = failure(bad_cube, Value(0.5))
    assert rows(msg) == {"(the number)": (0.5, 0.75, True)}
    assert "[]" not in msg


def test_a_large_output_says_it_checks_sum_w_f_with_the_weights_it_used():
    x = np.linspace(-1.0, 1.0, 20)
    msg = failure(bad_cube, Tensor(x), unit_max=4, seed=3)
    assert "more than unit_max=4" in flat(msg)
    assert "sum(w * f(x)), with random weights w of the output's shape (20,) (seed=3)" in flat(msg)
    shown = re.search(r"w = \[([^\]]*)\]", msg)[1].split()
    rng = np.random.default_rng(3)
    w = rng.uniform(0.5, 1.5, size=(20,)) * rng.choice([-1.0, 1.0], (20,))
    assert float(shown[0]) == pytest.approx(w[0], abs=1e-3)  # the weights really used
    table = rows(msg)
    # each row is d sum(w * x^3) / d x[j] = 3 w[j] x[j]^2 by central differences, 2 w x^2 by vjp
    got, expected, bad = table["[0]"]
    assert expected == pytest.approx(3 * w[0] * x[0] ** 2, rel=1e-5)
    assert got == pytest.approx(2 * w[0] * x[0] ** 2, rel=1e-5) and bad
    assert "(8 more not shown)" in flat(msg)  # 12 rows of 20


def test_a_vjp_that_ignores_g_is_caught_by_the_weighted_check_and_named():
    msg = failure(no_g_square, Value(0.5))
    assert "with weight 1 on the output the gradients agree, but not with other weights" in flat(
        msg
    )
    assert "does not multiply by its upstream gradient g" in flat(msg)
    assert "op 'square'" in flat(msg) and "with upstream gradients of 1 it agrees" in flat(msg)
    w = float(re.search(r"w = (\S+)", msg)[1])
    got, expected, bad = rows(msg)["(the number)"]
    assert (got, bad) == (1.0, True) and expected == pytest.approx(w, abs=1e-3)


def test_off_diagonal_numbers_of_a_wrong_jacobian_are_shown():
    # the vjp of a reversal that forgets to reverse: right on the middle element only
    flip = Op("flip", lambda x: x[::-1], lambda g, out, x: (g,))
    msg = failure(flip, Tensor([1.0, 2.0, 3.0]))
    assert "Overall: d(output[0])/d(input 0)[0] expected 0 (central differences), got 1" in flat(
        msg
    )
    assert rows(msg) == {
        "[0]": (1.0, 0.0, True),
        "[1]": (0.0, 0.0, False),
        "[2]": (0.0, 1.0, True),
    }


def test_names_a_labelled_input_and_passes_right_rules():
    msg = failure(lambda a, b: (bad_cube(a) * b).sum(), Tensor([1.0]), Tensor([2.0], label="b"))
    assert "d(input 0)" in flat(msg)
    assert gradcheck(lambda a, b: (a**3 * b).sum(), Tensor([1.0]), Tensor([2.0], label="b"))
    assert gradcheck(lambda x: x[::-1] * 2.0, Tensor(np.arange(30.0)))  # past unit_max
