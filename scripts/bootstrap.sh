#!/usr/bin/env bash
# Installs the project's dependencies from uv.lock into .venv, using a Python 3.12+ that is
# already on the machine (never a downloaded one) and uv from PATH or bootstrapped with pip.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.13 python3.12 python3)
  for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13* "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*; do
    [ -x "$dir/bin/python3" ] && candidates+=("$dir/bin/python3")
  done
  for py in "${candidates[@]}"; do
    local path
    path=$(command -v "$py" 2>/dev/null) || continue
    if "$path" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$path"
      return 0
    fi
  done
  return 1
}

PY=$(find_python) || { echo "SalesOS needs Python 3.12 or newer on this machine (set PYTHON=/path/to/python3.12)." >&2; exit 1; }

if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
elif [ -x .tools/bin/uv ]; then
  UV=.tools/bin/uv
else
  echo "Installing uv into .tools/ with pip ..." >&2
  "$PY" -m venv .tools
  .tools/bin/python -m pip install --quiet --disable-pip-version-check uv
  UV=.tools/bin/uv
fi

export UV_PYTHON_DOWNLOADS=never
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  rm -rf .venv
fi
"$UV" sync --frozen --python "$PY" --quiet
