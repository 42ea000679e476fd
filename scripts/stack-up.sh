#!/usr/bin/env bash
# Starts the local mcp-audit backend without Docker, every port on 127.0.0.1:
#   otelcol-mcp  OTLP 4317 gRPC / 4318 HTTP, Prometheus exporter 8889, health 13133
#   Jaeger v2    OTLP 14317 / 14318, query API + UI 16686, health 13134
#   Prometheus   9090, scraping the collector, rules from collector/rules/*.yml
# Builds what is missing first (scripts/build.sh). Pid files and logs go to
# ${MCP_AUDIT_RUN_DIR:-~/.cache/mcp-audit/run}; scripts/stack-down.sh stops exactly these processes.
# Ports and paths: the env vars of collector/config.yaml and jaeger/config.yaml
# (MCP_AUDIT_OTLP_GRPC_ENDPOINT, ..., JAEGER_QUERY_HTTP_ENDPOINT, ...), plus
# MCP_AUDIT_PROMETHEUS_LISTEN (127.0.0.1:9090), MCP_AUDIT_SCRAPE_INTERVAL and
# MCP_AUDIT_EVAL_INTERVAL (5s), MCP_AUDIT_RULES_GLOB (collector/rules/*.yml).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v curl >/dev/null 2>&1 || die "curl is needed for the readiness checks (apt-get install -y curl)"

paths="$("$MCP_AUDIT_ROOT/scripts/build.sh")"
otelcol="$(sed -n 's/^otelcol-mcp=//p' <<<"$paths")"
jaeger="$(sed -n 's/^jaeger=//p' <<<"$paths")"
prometheus="$(sed -n 's/^prometheus=//p' <<<"$paths")"
[[ -n "$prometheus" ]] || die "/usr/bin/prometheus missing after build.sh"

mkdir -p "$MCP_AUDIT_RUN_DIR"
run="$MCP_AUDIT_RUN_DIR"

for name in collector jaeger prometheus; do
  if [[ -f "$run/$name.pid" ]] && kill -0 "$(cat "$run/$name.pid")" 2>/dev/null; then
    die "$name is already running (pid $(cat "$run/$name.pid")); run scripts/stack-down.sh first"
  fi
done

# One source for the addresses both sides must agree on.
export JAEGER_OTLP_GRPC_ENDPOINT="${JAEGER_OTLP_GRPC_ENDPOINT:-127.0.0.1:14317}"
export JAEGER_OTLP_HTTP_ENDPOINT="${JAEGER_OTLP_HTTP_ENDPOINT:-127.0.0.1:14318}"
export JAEGER_QUERY_HTTP_ENDPOINT="${JAEGER_QUERY_HTTP_ENDPOINT:-127.0.0.1:16686}"
export JAEGER_QUERY_GRPC_ENDPOINT="${JAEGER_QUERY_GRPC_ENDPOINT:-127.0.0.1:16685}"
export JAEGER_HEALTH_ENDPOINT="${JAEGER_HEALTH_ENDPOINT:-127.0.0.1:13134}"
# Jaeger's Badger store: kept across stack-down/stack-up (remove the directory to start empty).
export JAEGER_BADGER_DIR="${JAEGER_BADGER_DIR:-$run/jaeger-data}"
export MCP_AUDIT_JAEGER_OTLP_ENDPOINT="${MCP_AUDIT_JAEGER_OTLP_ENDPOINT:-$JAEGER_OTLP_GRPC_ENDPOINT}"
export MCP_AUDIT_OTLP_GRPC_ENDPOINT="${MCP_AUDIT_OTLP_GRPC_ENDPOINT:-127.0.0.1:4317}"
export MCP_AUDIT_OTLP_HTTP_ENDPOINT="${MCP_AUDIT_OTLP_HTTP_ENDPOINT:-127.0.0.1:4318}"
export MCP_AUDIT_PROMETHEUS_ENDPOINT="${MCP_AUDIT_PROMETHEUS_ENDPOINT:-127.0.0.1:8889}"
export MCP_AUDIT_HEALTH_ENDPOINT="${MCP_AUDIT_HEALTH_ENDPOINT:-127.0.0.1:13133}"
export MCP_AUDIT_AUDIT_FILE="${MCP_AUDIT_AUDIT_FILE:-$run/audit/collector-audit.jsonl}"
export MCP_AUDIT_STORAGE_DIR="${MCP_AUDIT_STORAGE_DIR:-$run/collector-queue}"
prom_listen="${MCP_AUDIT_PROMETHEUS_LISTEN:-127.0.0.1:9090}"
scrape="${MCP_AUDIT_SCRAPE_INTERVAL:-5s}"
evaluate="${MCP_AUDIT_EVAL_INTERVAL:-5s}"
rules="${MCP_AUDIT_RULES_GLOB:-$MCP_AUDIT_ROOT/collector/rules/*.yml}"

# start NAME CMD...: detached, own process group, pid file, log file.
start() {
  local name="$1"; shift
  setsid "$@" >"$run/$name.log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
  log "started $name (pid $!), log $run/$name.log"
}

# wait_ready NAME URL: up to 60 s for a 2xx answer.
wait_ready() {
  local name="$1" url="$2" i
  for ((i = 0; i < 120; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then log "$name ready ($url)"; return 0; fi
    if ! kill -0 "$(cat "$run/$name.pid")" 2>/dev/null; then
      tail -n 20 "$run/$name.log" >&2 || true
      die "$name exited during startup; see $run/$name.log"
    fi
    sleep 0.5
  done
  die "$name not ready after 60s ($url); see $run/$name.log"
}

start jaeger "$jaeger" --config "$MCP_AUDIT_ROOT/jaeger/config.yaml"
wait_ready jaeger "http://$JAEGER_QUERY_HTTP_ENDPOINT/api/services"

start collector "$otelcol" --config "$MCP_AUDIT_ROOT/collector/config.yaml"
wait_ready collector "http://$MCP_AUDIT_HEALTH_ENDPOINT/"

sed -e "s|@SCRAPE_INTERVAL@|$scrape|g" -e "s|@EVAL_INTERVAL@|$evaluate|g" \
    -e "s|@COLLECTOR_METRICS@|$MCP_AUDIT_PROMETHEUS_ENDPOINT|g" -e "s|@RULES_GLOB@|$rules|g" \
    -e "s|@COLLECTOR_TELEMETRY@|127.0.0.1:${MCP_AUDIT_COLLECTOR_TELEMETRY_PORT:-18888}|g" \
    "$MCP_AUDIT_ROOT/scripts/prometheus.yml" >"$run/prometheus.yml"
start prometheus "$prometheus" --config.file="$run/prometheus.yml" \
  --storage.tsdb.path="$run/prometheus-data" --web.listen-address="$prom_listen" \
  --storage.tsdb.retention.time="${MCP_AUDIT_PROMETHEUS_RETENTION:-30d}" --web.enable-lifecycle
wait_ready prometheus "http://$prom_listen/-/ready"

cat <<INFO
mcp-audit stack is up (stop it with scripts/stack-down.sh):
  OTLP to the collector  grpc $MCP_AUDIT_OTLP_GRPC_ENDPOINT   http http://$MCP_AUDIT_OTLP_HTTP_ENDPOINT
                         e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://$MCP_AUDIT_OTLP_HTTP_ENDPOINT
  Jaeger UI / API        http://$JAEGER_QUERY_HTTP_ENDPOINT  (/api/services, /api/traces?service=...)
  Prometheus             http://$prom_listen  (rules: $rules)
  session metrics        http://$MCP_AUDIT_PROMETHEUS_ENDPOINT/metrics
  collector health       http://$MCP_AUDIT_HEALTH_ENDPOINT/
  audit file             $MCP_AUDIT_AUDIT_FILE
  evidence sink target   ${MCP_AUDIT_SINK_ENDPOINT:-http://127.0.0.1:4320}/v1/traces
  logs and pid files     $run
INFO
