#!/usr/bin/env bash
# Validates every shipped collector configuration with the otelcol-mcp binary we build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
otelcol=$(bash scripts/build.sh --no-prometheus | sed -n 's/^otelcol-mcp=//p')
for configs in "collector/config.yaml" "collector/gateway.yaml" "collector/config.yaml collector/siem.yaml" \
  "collector/config.yaml collector/siem-syslog.yaml" "collector/config.yaml collector/siem.yaml collector/siem-syslog.yaml" \
  "collector/config.yaml collector/sampling.yaml"; do
  args=()
  for c in $configs; do args+=(--config "$c"); done
  "$otelcol" validate "${args[@]}"
  echo "ok: $configs"
done
