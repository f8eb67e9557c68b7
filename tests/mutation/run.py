"""Mutation testing of the rule table and the backward drivers: `./dev.sh mutate` runs this.

mutmut (3.x) mutates autograd/ops.py and autograd/engine.py and runs the tests that exercise
them (tests/mutation/mutmut.toml) on each mutant. It works in a stage, `.mutation/` (ignored by
git), never in the source tree: this script copies the project there first. mutmut skips every
decorated function, and every rule of the table is one (`@rule(...) def add(g, out, a, b)`),
so the stage's copy of ops.py spells the decoration out after the function instead
(`add = rule(...)(_vjp(add))`: the same Op, made in the same order), and `_vjp` lends the
trampoline mutmut puts around a function the original's `__code__`, which the engine reads to
compile the scalar backward loop. Nothing else is changed.

A mutant that survives must be listed in tests/mutation/REPORT.md with why it is equivalent
(the entries are matched on the function and the changed text, not on mutmut's number, which
shifts when a function is edited); otherwise a test in tests/test_mutation_kills.py should kill
it. The exit status is 0 when every surviving mutant is listed, 1 otherwise.

Usage: python tests/mutation/run.py [--no-run] [--recheck-all] [--tests F,F] [patterns...]
  --no-run       only report on the last run
  --recheck-all  re-test every surviving mutant, the listed ones too (after a test change)
  --tests F,F    recheck the mutants matching the patterns against these test files only (a
                 quick check while writing a test that kills them: a kill is kept, a survival
                 is not, since the rest of the selection might still kill it)
"""

import ast
import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STAGE = ROOT / ".mutation"
REPORT = HERE / "REPORT.md"
PACKAGES = ("autograd", "nn", "viz")
PRELOAD = "numpy\npytest\nhypothesis\nhypothesis.extra.numpy\n"

SHIM = '''"""Stage-only helper of tests/mutation/run.py (never in the source tree)."""


class vjp:
    """A rule's vjp behind mutmut's trampoline, with the original's code for the engine."""

    def __init__(self, fn):
        original = getattr(fn, "__wrapped__", fn)
        self.fn = fn
        self.__wrapped__ = original
        self.__code__ = original.__code__
        self.__doc__ = original.__doc__
        self.__name__ = original.__name__

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)
'''


# ----------------------------------------------------------------------------------------------
# the stage


def undecorate(source):
    """ops.py with each top-level `@rule(...)` function rebound after its def instead."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []  # (first line, last line, replacement), 1-based, applied bottom-up
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.decorator_list:
            continue
        (dec,) = node.decorator_list
        if not (isinstance(dec, ast.Call) and getattr(dec.func, "id", "") == "rule"):
            raise ValueError(f"ops.py: unexpected decorator on {node.name}: {ast.unparse(dec)}")
        first = dec.lineno
        body = "".join(lines[node.lineno - 1 : node.end_lineno])
        bind = f"{node.name} = {ast.unparse(dec)}(_mutation_vjp({node.name}))\n"
        edits.append((first, node.end_lineno, body + bind))
    for first, last, text in reversed(edits):
        lines[first - 1 : last] = [text]
    out = "".join(lines)
    anchor = "from .engine import Node\n"
    if anchor not in out:
        raise ValueError("ops.py: cannot find where to import the stage's vjp helper")
    return out.replace(anchor, anchor + "from ._mutation_vjp import vjp as _mutation_vjp\n", 1)


def library_frames(source):
    """engine.py with mutmut's own files counted as library frames by `_user_frame` (the line
    of user code an anomaly names), so the trampolines between them do not hide it."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_LIBRARY_DIRS":
            lines = source.splitlines(keepends=True)
            lines.insert(node.end_lineno, ANOMALY_PATCH)
            return "".join(lines)
    raise ValueError("engine.py: no _LIBRARY_DIRS to add mutmut's directory to (update run.py)")


ANOMALY_PATCH = """import mutmut as _mutation_mutmut  # stage only (tests/mutation/run.py)

_LIBRARY_DIRS += (os.path.dirname(_mutation_mutmut.__file__) + os.sep,)
"""
# tests that mutmut.toml deselects for mutmut and the recheck runs again (library_frames fixes)
FIXED_IN_STAGE = (
    "tests/test_engine.py::test_detect_anomaly_forward_names_op_and_line",
    "tests/test_engine.py::test_detect_anomaly_backward_names_op_and_where_it_was_created",
)


def write_if_changed(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def sync_tree(src, dst, transform=None):
    """Copy src's tracked-looking files to dst (only the changed ones: mutmut keeps results of
    files whose copy is unchanged), and remove what src no longer has."""
    seen = set()
    for p in src.rglob("*"):
        rel = p.relative_to(src)
        if "__pycache__" in rel.parts or p.is_dir() or p.suffix == ".pyc":
            continue
        seen.add(rel)
        target = dst / rel
        if transform and rel.as_posix() in transform:
            write_if_changed(target, transform[rel.as_posix()](p.read_text()))
        elif not target.exists() or target.read_bytes() != p.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
    if dst.exists():
        for p in sorted(dst.rglob("*"), reverse=True):
            rel = p.relative_to(dst)
            if "__pycache__" in rel.parts:
                continue
            if p.is_file() and rel not in seen and rel.as_posix() not in EXTRA.get(dst.name, ()):
                p.unlink()


EXTRA = {"autograd": ("_mutation_vjp.py",)}


def stage():
    STAGE.mkdir(exist_ok=True)
    for pkg in PACKAGES:
        transform = {"ops.py": undecorate, "engine.py": library_frames}
        sync_tree(ROOT / pkg, STAGE / pkg, transform if pkg == "autograd" else None)
    write_if_changed(STAGE / "autograd" / "_mutation_vjp.py", SHIM)
    sync_tree(ROOT / "tests", STAGE / "tests")
    if (STAGE / "mutants").is_dir():  # a recheck runs the mutants' copy: keep it current too
        sync_tree(ROOT / "tests", STAGE / "mutants" / "tests")
    pyproject = (ROOT / "pyproject.toml").read_text()
    # nbmake alone takes 1.6 s to import, more than most mutants' tests take to run
    pyproject, n = re.subn(r"(?m)^addopts = .*$", 'addopts = "--import-mode=importlib"', pyproject)
    if n != 1:
        raise ValueError("pyproject.toml: cannot find pytest's addopts")
    pyproject += "\n" + (HERE / "mutmut.toml").read_text()
    write_if_changed(STAGE / "pyproject.toml", pyproject)
    write_if_changed(STAGE / "preload.txt", PRELOAD)


def mutmut(*args):
    exe = Path(sys.executable).with_name("mutmut")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    return subprocess.run([str(exe), *args], cwd=STAGE, env=env).returncode


# ----------------------------------------------------------------------------------------------
# the results


def results():
    """{mutant name: (status, function key, change text)} of the last run."""
    os.chdir(STAGE)
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    out = {}
    for rel in ("autograd/ops.py", "autograd/engine.py"):
        data = SourceFileMutationData(path=Path(rel))
        data.load()
        for name, code in data.exit_code_by_key.items():
            status = status_by_exit_code[code]
            change = ""
            if status not in ("killed", "timeout"):
                change = describe(get_diff_for_mutant(name, path=Path(rel)))
            out[name] = (status, name.rsplit("__mutmut_", 1)[0], change)
    os.chdir(ROOT)
    return out


def describe(diff):
    """`old` → `new` from a unified diff (changed lines stripped, joined with ⏎)."""
    old = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and ln[:3] != "---"]
    new = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and ln[:3] != "+++"]
    return f"`{' ⏎ '.join(old)}` → `{' ⏎ '.join(new)}`"


ENTRY = re.compile(r"^- `(?P<name>autograd\.[^`]+?)__mutmut_\d+`: (?P<change>`.*?` → `.*?`) — ")


def equivalents():
    """{(function key, change text)} listed in REPORT.md."""
    if not REPORT.exists():
        return set()
    return {
        (m["name"], m["change"])
        for m in map(ENTRY.match, REPORT.read_text().splitlines())
        if m is not None
    }


def selection():
    """The pytest arguments of mutmut.toml: the test files and the extra options."""
    import tomllib

    cfg = tomllib.loads((HERE / "mutmut.toml").read_text())["tool"]["mutmut"]
    extra = []
    for arg in cfg["pytest_add_cli_args"]:
        if arg in FIXED_IN_STAGE:
            extra.pop()  # its --deselect
        else:
            extra.append(arg)
    return cfg["pytest_add_cli_args_test_selection"], extra


def tests_digest(files):
    h = hashlib.sha256()
    for f in files:
        h.update((ROOT / f).read_bytes())
    return h.hexdigest()[:16]


def function_hashes():
    out = {}
    for rel in ("autograd/ops.py", "autograd/engine.py"):
        meta = STAGE / "mutants" / (rel + ".meta")
        module = rel[:-3].replace("/", ".")
        for func, h in json.loads(meta.read_text())["hash_by_function_name"].items():
            out[f"{module}.{func}"] = h
    return out


def recheck(open_names, force=False, only_files=None):
    """Run the whole test selection on each mutant mutmut left open, -x, in a fresh process.

    mutmut runs on a mutant only the tests that called its function while it collected stats,
    and a function run once per process (the scalar backward loop is compiled on first use,
    the rules are made at import) is credited to the first test only: what that test does not
    check survives there although the other tests would kill it. Returns {name: killed?};
    results are kept in .mutation/recheck.json (a kill until the function changes, a survival
    until the function or the tests change).
    """
    files, extra = selection()
    digest = tests_digest(files)
    if only_files:
        files, digest = only_files, "partial"
    hashes = function_hashes()
    cache = load_cache()
    verdicts = {}
    todo = []
    for name in sorted(open_names):
        fhash = hashes.get(name.rsplit("__mutmut_", 1)[0], "")
        hit = cache.get(name)
        if not force and hit and hit["function"] == fhash:
            if hit["killed"] or hit["tests"] == digest:
                verdicts[name] = hit["killed"]
                continue
        todo.append((name, fhash))
    os.environ.update(OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    import hypothesis  # noqa: F401  (imported once here, for every forked run)
    import numpy  # noqa: F401
    import pytest  # noqa: F401

    args = ["-x", "-q", "--rootdir=.", "-p", "no:randomly", *extra, *files]
    if todo and run_forked("", args) != 0:  # with no mutant on, every test must pass
        raise SystemExit("mutate: the tests fail without any mutant; run them in .mutation/mutants")
    for i, (name, fhash) in enumerate(todo, 1):
        code = run_forked(name, args)
        killed = code != 0
        verdicts[name] = killed
        if killed or digest != "partial":
            save_verdict(name, {"function": fhash, "tests": digest, "killed": killed})
        print(f"mutate: recheck {i}/{len(todo)} {'killed  ' if killed else 'survived'} {name}")
    return verdicts


CACHE = STAGE / "recheck.json"


def load_cache():
    return json.loads(CACHE.read_text()) if CACHE.exists() else {}


def save_verdict(name, verdict):
    """Add one verdict to recheck.json under a lock (several rechecks may run at once)."""
    import fcntl

    with open(STAGE / "recheck.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = load_cache()
        cache[name] = verdict
        tmp = CACHE.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=0, sort_keys=True))
        tmp.replace(CACHE)


def run_forked(name, args, timeout=300):
    """pytest `args` in a forked child with mutant `name` on (autograd is imported fresh)."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.environ["MUTANT_UNDER_TEST"] = name
            try:  # mutmut >= 3.8 also keeps it in the process, where no test can clear it
                from mutmut.mutation.trampoline import set_mutant_under_test

                set_mutant_under_test(name)
            except ImportError:
                pass
            os.chdir(STAGE / "mutants")
            sys.path.insert(0, str(STAGE / "mutants"))
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            signal.alarm(timeout)
            import pytest

            code = int(pytest.main(args))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


OPEN = ("survived", "no tests", "suspicious", "not checked")


def main(argv):
    only_report = "--no-run" in argv
    force = "--recheck-all" in argv
    only_files = None
    if "--tests" in argv:
        i = argv.index("--tests")
        only_files = argv[i + 1].split(",")
        argv = argv[:i] + argv[i + 2 :]
    patterns = [a for a in argv if not a.startswith("--")]
    if only_files and not patterns:
        raise SystemExit("mutate: --tests needs mutant name patterns")
    stage()
    if not only_report and not patterns:
        # After new tests appear, mutmut collects their stats and runs the clean tests in one
        # process; that has failed with no test output ("Failed to run clean test") although
        # every test passes, and passed when run again (the stats are then loaded): one retry.
        if mutmut("run", "--max-children", "1") != 0 and mutmut("run", "--max-children", "1"):
            print("mutate: mutmut run failed (see above)")
            return 2
    res = results()
    open_names = [n for n, v in res.items() if v[0] in OPEN]
    if patterns:
        open_names = [n for n in open_names if any(fnmatch.fnmatch(n, p) for p in patterns)]
        force = True
    if not only_report:
        for name, killed in recheck(open_names, force, only_files).items():
            if killed:
                res[name] = ("killed", *res[name][1:])
    else:
        cache = load_cache()
        for name in open_names:
            if cache.get(name, {}).get("killed"):
                res[name] = ("killed", *res[name][1:])
    listed = equivalents()
    counts = {}
    for status, _, _ in res.values():
        counts[status] = counts.get(status, 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    open_ = {n: v for n, v in res.items() if v[0] not in ("killed", "timeout")}
    untriaged = {n: v for n, v in open_.items() if (v[1], v[2]) not in listed}
    total = len(res)
    print(f"mutate: {json.dumps(counts, sort_keys=True)}")
    print(
        f"mutate: score {killed}/{total} killed ({100 * killed / max(total, 1):.1f}%), "
        f"{len(open_) - len(untriaged)} listed as equivalent in {REPORT.relative_to(ROOT)}, "
        f"{len(untriaged)} not triaged"
    )
    draft = STAGE / "untriaged.md"
    draft.write_text(
        "".join(f"- `{n}`: {v[2]} — ({v[0]}) WHY\n" for n, v in sorted(untriaged.items()))
    )
    if untriaged:
        for n, v in sorted(untriaged.items())[:40]:
            print(f"  {v[0]:>9}  {n}: {v[2]}")
        print(f"mutate: all {len(untriaged)} listed in {draft.relative_to(ROOT)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
