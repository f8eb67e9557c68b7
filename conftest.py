"""Imports the three packages before pytest collects anything. With --import-mode=importlib,
collecting the doctests of a module such as viz/diff.py first would otherwise import that file
a second time and set `viz.diff` to the module, hiding the function `viz.diff` (and `viz.tape`)
from the tests that run after it. (tests/conftest.py checks that each test leaves the engine
as it found it.)"""

import autograd  # noqa: F401
import nn  # noqa: F401
import viz  # noqa: F401
