#!/usr/bin/env bash
# The project-local Python environment the wrap tests run real PyPI MCP servers from
# (mcp-server-time, and a fixture server on the `mcp` package). Idempotent: the venv in .venv/ is
# rebuilt only when test/fixtures/python/requirements.txt (every package pinned) changes.
# Prints the venv's python path on success.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
requirements=test/fixtures/python/requirements.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
exec 9>"${TMPDIR:-/tmp}/mcp-audit-python-env.lock"
flock 9
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$PWD/$venv/bin/python"
  exit 0
fi
python=${PYTHON:-python3}
"$python" -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ needed"' >&2
rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
echo "$want" >"$stamp"
echo "$PWD/$venv/bin/python"
