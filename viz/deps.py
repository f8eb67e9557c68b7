"""viz's optional dependencies (the `viz` extra), imported when first used, with a clear error."""

import importlib

HINT = "install the viz extra: pip install 'stepgrad[viz]' (or run ./dev.sh setup)"


def require(module, feature):
    """Import `module` for `feature`, or raise an ImportError that says what to install.

    >>> require("math", "a test").sqrt(4.0)
    2.0
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise ImportError(f"{feature} needs the Python package {package!r}; {HINT}") from None
