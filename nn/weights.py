"""Weights on disk (.npz, .safetensors) and in memory: every check first, then all or nothing.

`read(path, what)` gives {name: array} or a ValueError naming the caller, the file and what is
wrong with it; `check(params, arrays, where, what)` refuses a name, shape or dtype that does not
fit before a single parameter is written. safetensors needs its package (stepgrad[safetensors]).
"""

import os
import tempfile
import zipfile
import zlib

import numpy as np

FORMATS = (".npz", ".safetensors")


def _format(path, what):
    for suffix in FORMATS:
        if path.endswith(suffix):
            return suffix
    raise ValueError(
        f"{what}: {path!r} must end in .npz (numpy) or .safetensors (the format PyTorch and "
        "Hugging Face share)"
    )


def _safetensors(what):
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError(
            f"{what}: .safetensors files need the safetensors package: "
            "pip install 'stepgrad[safetensors]'"
        ) from None
    return st


def write(path, arrays, what="save_weights"):
    """Write {name: array} atomically (a temporary file, then a rename)."""
    path = os.fspath(path)
    kind = _format(path, what)
    st = _safetensors(what) if kind == ".safetensors" else None
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=kind)
    try:
        with os.fdopen(fd, "wb") as f:
            if st is None:
                np.savez(f, **arrays)
            else:
                f.write(st.save({k: np.ascontiguousarray(v) for k, v in arrays.items()}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _bad(what, path, why):
    return ValueError(f"{what}: {path} cannot be read as weights: {why}; nothing was changed")


def read(path, what="load_weights"):
    """{name: array} from an .npz or .safetensors file, or a ValueError saying what is wrong."""
    path = os.fspath(path)
    kind = _format(path, what)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: no such file {path!r}")
    if os.path.getsize(path) == 0:
        raise _bad(what, path, "the file is empty")
    if kind == ".safetensors":
        st = _safetensors(what)
        try:
            return dict(st.load_file(path))
        except Exception as e:  # the Rust reader's own error type
            raise _bad(what, path, f"not a valid safetensors file ({e})") from None
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(b"\x93NUMPY"):
        raise _bad(
            what, path, "it is a single .npy array, not named weights (save_weights writes .npz)"
        )
    if not head.startswith(b"PK"):
        raise _bad(what, path, "it is not an .npz archive (no zip header at its start)")
    try:
        f = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise _bad(what, path, f"the archive is truncated or damaged ({e})") from None
    out = {}
    with f:
        for name in f.files:
            try:
                out[name] = f[name]
            except ValueError as e:
                if "allow_pickle" in str(e):
                    raise _bad(
                        what, path, f"{name!r} holds Python objects (allow_pickle is off)"
                    ) from None
                raise _bad(what, path, f"member {name!r} is damaged ({e})") from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
                raise _bad(what, path, f"member {name!r} is damaged ({e})") from None
    return out


def as_array(w, name, what, where):
    """w as a real-number array, or a TypeError naming the parameter (strings, complex...)."""
    data = getattr(w, "data", w) if type(w).__name__ == "Tensor" else w
    try:
        a = np.asarray(data)
    except (ValueError, TypeError) as e:
        raise TypeError(
            f"{what}: the array for {name!r}{where} is not a numeric array ({e}); nothing was "
            "changed"
        ) from None
    if a.dtype.kind not in "biuf":
        kind = {"c": "complex", "U": "string", "S": "bytes", "O": "object"}.get(a.dtype.kind, "")
        raise TypeError(
            f"{what}: the array for {name!r}{where} holds {kind or a.dtype} values ({a.dtype}); "
            "weights must be real numbers, nothing was changed"
        )
    return a


def check(params, arrays, what, where=""):
    """Every array fits its parameter (name, shape, dtype kind) or raise before writing any."""
    out = []
    for (name, p), w in zip(params, arrays):
        a = as_array(w, name, what, where)
        if a.shape != p.shape:
            raise ValueError(
                f"{what}: parameter {name!r} has shape {p.shape}, got an array of shape "
                f"{a.shape}{where}; the model was left unchanged"
            )
        out.append(a)
    return out


def assign(params, arrays):
    """Write checked arrays into the parameters (after check: nothing can fail half way)."""
    for (_, p), a in zip(params, arrays):
        p.data[...] = a


def load_into(params, stored, path, what="load_weights"):
    """Match {name: array} to the named parameters; check all, then write all."""
    names = [n for n, _ in params]
    missing = [n for n in names if n not in stored]
    if missing:
        raise ValueError(
            f"{what}: {path} has no array for parameter {missing[0]!r} "
            f"(it holds {sorted(stored)}); the model was left unchanged"
        )
    extra = sorted(set(stored) - set(names))
    if extra:
        raise ValueError(
            f"{what}: {path} holds {extra[0]!r}, which is not a parameter of this "
            f"model (its parameters: {names}); the model was left unchanged"
        )
    arrays = check(params, [stored[n] for n in names], what, f" in {path}")
    assign(params, arrays)
