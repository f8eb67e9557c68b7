"""Shared fixtures of the tests (also copied into the mutation stage by tests/mutation/run.py,
so mutation runs are held to them too)."""

import gc

import pytest

from autograd import engine


@pytest.fixture(autouse=True)
def _engine_left_as_found():
    """Every test leaves the engine's switches as it found them. A hooked node left alive, or a
    mode left on, sends every later backward in the process down the general driver: the fast
    paths then go untested for the rest of the run (and their mutants survive ./dev.sh mutate)."""
    yield
    if engine.HOOKED:
        gc.collect()  # a hook that refers to its own node makes a cycle
    state = {
        "nodes with hooks alive": len(engine.HOOKED),
        "no_grad": not engine.GRAD,
        "detect_anomaly": engine.ANOMALY,
        "scope": engine.SCOPE,
    }
    left = {k: v for k, v in state.items() if v}
    assert not left, f"the test left the engine changed: {left}"
