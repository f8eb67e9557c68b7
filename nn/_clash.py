"""The import name `autograd` is stepgrad's and also HIPS autograd's: say so when they meet.

Checked once when `nn` is imported (before anything uses autograd): a foreign `autograd` that
shadows ours, or was installed over it, is an ImportError in one line; HIPS autograd installed
beside ours is a one-line warning. The README says how to keep both (separate environments).
"""

import importlib
import importlib.metadata
import warnings

FIX = (
    "keep them in separate virtual environments (python -m venv; see the README section "
    "'autograd and HIPS autograd')"
)


def check_autograd():
    autograd = importlib.import_module("autograd")
    where = getattr(autograd, "__file__", None) or "an unknown place"
    if not all(hasattr(autograd, name) for name in ("Tensor", "Value", "backward_steps")):
        raise ImportError(
            f"stepgrad: the 'autograd' package imported from {where} is not stepgrad's (HIPS "
            f"autograd uses the same import name); {FIX}"
        )
    try:
        hips = importlib.metadata.distribution("autograd")
    except importlib.metadata.PackageNotFoundError:
        return
    warnings.warn(
        f"stepgrad: HIPS autograd {hips.version} is installed in this environment too; both "
        f"use the import name 'autograd' and one overwrites or shadows the other; {FIX}",
        UserWarning,
        stacklevel=3,
    )


check_autograd()
