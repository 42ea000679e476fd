#!/usr/bin/env bash
# The project venv (scripts/python-env.sh) plus the OpenTelemetry SDK and OTLP exporter that turn
# on the PyPI `mcp` package's native spans, installed into .venv/otel-site (a --target dir put on
# PYTHONPATH, so the shared venv itself is never changed). Idempotent: reinstalled only when
# test/fixtures/python/otel-requirements.txt changes or the venv was rebuilt.
# Prints two lines: PYTHON=<venv python> and PYTHONPATH=<otel site dir>.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(bash scripts/python-env.sh)
site="$PWD/.venv/otel-site"
requirements=test/fixtures/python/otel-requirements.txt
stamp="$site/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
exec 8>"${TMPDIR:-/tmp}/mcp-audit-python-otel.lock"
flock 8
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  rm -rf "$site"
  "$python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps --target "$site" -r "$requirements" >&2
  echo "$want" >"$stamp"
fi
echo "PYTHON=$python"
echo "PYTHONPATH=$site"
