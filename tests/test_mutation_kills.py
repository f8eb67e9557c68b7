"""Tests that kill mutants of autograd/ops.py and autograd/engine.py (see tests/mutation/).

Each test pins a behaviour that a surviving mutant changed without the rest of the suite
noticing; tests/mutation/REPORT.md lists the mutants that are equivalent instead.
"""

import math

from autograd import ops


def test_scalar_forwards_give_ieee_results_instead_of_exceptions():
    assert ops._log(math.e) == 1.0
    assert ops._log(0.0) == -math.inf
    assert math.isnan(ops._log(-1.0))
    assert ops._exp(1000.0) == math.inf
    assert ops._sqrt(4.0) == 2.0 and ops._sqrt(0.0) == 0.0
    assert math.isnan(ops._sqrt(-1.0))
    assert ops._div(1.0, 0.0) == math.inf and ops._div(-1.0, 0.0) == -math.inf
    assert ops._div(1.0, -0.0) == -math.inf
    assert math.isnan(ops._div(0.0, 0.0)) and math.isnan(ops._div(math.nan, 0.0))
