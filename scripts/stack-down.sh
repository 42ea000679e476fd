#!/usr/bin/env bash
# Stops the processes that scripts/stack-up.sh started, by the pids in its run
# directory (${MCP_AUDIT_RUN_DIR:-~/.cache/mcp-audit/run}), and nothing else:
# SIGTERM, then SIGKILL after 10 s. A pid whose process is gone, or is no
# longer the binary we started (pid reuse), is only forgotten.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
run="$MCP_AUDIT_RUN_DIR"

stop() {
  local name="$1" expect="$2" pidfile="$run/$1.pid" pid exe i
  [[ -f "$pidfile" ]] || { log "$name: not running (no pid file)"; return 0; }
  pid="$(cat "$pidfile")"
  if ! kill -0 "$pid" 2>/dev/null; then
    log "$name: pid $pid already gone"; rm -f "$pidfile"; return 0
  fi
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  if [[ -n "$exe" && "$(basename "$exe")" != "$expect"* ]]; then
    log "$name: pid $pid is now $exe, not ours; leaving it"; rm -f "$pidfile"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after 10s, SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "$name: stopped (pid $pid)"
}

# The collector first, so it can flush to Jaeger.
stop collector otelcol-mcp
stop jaeger jaeger
stop prometheus prometheus
