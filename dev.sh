#!/usr/bin/env bash
# stepgrad's one set-up script. Usage: ./dev.sh demo | test [pytest args] | bench | setup
#   | docs (the site into site/) | pictures (the README's pictures into docs/images/)
#   | mutate (mutation testing of autograd/ops.py and engine.py: tests/mutation/REPORT.md)
# Installs what is missing (Graphviz's dot and Chromium by apt, .venv, the project with extras).
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
PY="$VENV/bin/python"

say() { printf '\033[1m[dev.sh]\033[0m %s\n' "$*"; }

apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    say "installing with apt: $*"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

setup() {
    local want=()
    command -v dot >/dev/null || want+=(graphviz)
    if [ "${1:-}" = test ] && ! [ -x /usr/bin/chromium ]; then want+=(chromium); fi
    python3 -c 'import venv, ensurepip' 2>/dev/null || want+=(python3-venv)
    [ ${#want[@]} -eq 0 ] || apt_install "${want[@]}"
    if ! [ -x "$PY" ]; then
        say "creating $VENV"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.stepgrad-installed"
    local sum
    sum=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
    if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
        say "installing stepgrad with its extras into $VENV"
        "$PY" -m pip install -q --upgrade pip
        "$PY" -m pip install -q -e ".[dev]"
        "$PY" -m pip install -q -e ".[docs]" # the docs site's tools, for ./dev.sh docs and its test
        # the export tests: torch (pinned to 2.13.0, CPU, on local disk; the extra itself takes
        # any torch >= 2.0), onnx + onnxruntime, safetensors
        "$PY" -m pip install -q "torch==2.13.0" -e ".[dev,torch,onnx,safetensors]"
        echo "$sum" >"$stamp"
    fi
}

# The graphs here multiply small matrices, where one BLAS thread is faster than two and does not
# stall when the other core is busy; set OPENBLAS_NUM_THREADS yourself to override.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
# tests of optional extras (torch, onnx, safetensors) fail instead of skipping when run from here
export STEPGRAD_DEV_SH=1

cmd="${1:-help}"
shift || true
case "$cmd" in
    setup) setup test ;;
    demo)
        setup demo
        exec "$PY" notebooks/demo.py "$@"
        ;;
    test)
        setup test
        exec "$PY" -m pytest -q "$@"
        ;;
    docs)
        # the README's pictures from the demo, then the site into site/ with the notebooks
        # executed (STEPGRAD_DOCS_EXECUTE=0 skips that); extra arguments go to mkdocs build
        setup test
        "$PY" docs/make_pictures.py
        STEPGRAD_DOCS_EXECUTE="${STEPGRAD_DOCS_EXECUTE:-1}" NO_MKDOCS_2_WARNING=1 \
            "$PY" -m mkdocs build --strict "$@"
        say "the site is in site/: open site/index.html, or serve it: $PY -m http.server -d site"
        ;;
    pictures)
        setup test
        exec "$PY" docs/make_pictures.py "$@"
        ;;
    bench)
        setup test
        "$PY" -m pip install -q -e ".[dev,bench]"
        # torch only for the tensor benchmark's comparison column, pinned (never a plain torch)
        "$PY" -c 'import torch; assert torch.__version__.startswith("2.13.0")' 2>/dev/null || "$PY" -m pip install -q torch==2.13.0
        for b in benchmarks/*.py; do say "$b"; "$PY" "$b"; done
        ;;
    mutate)
        # not part of test: about an hour on one core the first time, then only changed code
        setup test
        [ -x "$VENV/bin/mutmut" ] || "$PY" -m pip install -q -e ".[mutate]"
        exec nice -n 15 "$PY" tests/mutation/run.py "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo | test [pytest args] | bench | setup | docs | pictures | mutate"
        exit 2
        ;;
esac
