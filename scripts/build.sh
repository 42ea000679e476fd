#!/usr/bin/env bash
# Builds the mcp-audit backend once, into a cache outside the clone:
#   otelcol-mcp (collector/otelcol-mcp, collector-contrib v0.161.0),
#   Jaeger v2 (jaeger/, module github.com/jaegertracing/jaeger v1.76.0),
#   VictoriaMetrics v1.151.0 (victoria-metrics, vmagent, vmauth, vmalert: the replicated store of
#   the scale-out topology, docs/scale.md) in one directory and
#   Thanos v0.41.0 (scale/thanos; receive, query, rule: the sharded store) in one directory
# as ${MCP_AUDIT_CACHE:-~/.cache/mcp-audit}/bin/<name>-<version>-<content hash>,
# and installs Prometheus from Debian's package when /usr/bin/prometheus is missing,
# and rsyslog (the syslog receiver of test/e2e/siem-syslog.test.ts) when
# /usr/sbin/rsyslogd is.
# An unchanged go.mod/go.sum/source reuses the cached binary at once; a fresh
# clone on the same machine (CI) finds it too. Idempotent; safe to run twice
# at once (a lock serializes builds).
# Prints the binaries' paths on stdout, one "name=path" per line; progress on stderr.
#   scripts/build.sh              build what is missing, print paths
#   scripts/build.sh --no-prometheus   skip the apt steps
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

with_prometheus=1
for arg in "$@"; do
  case "$arg" in
    --no-prometheus) with_prometheus=0 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

command -v go >/dev/null 2>&1 || die "go is not installed: Go 1.26 is needed to build otelcol-mcp and Jaeger (Debian: apt-get install golang-go is too old; use the Go toolchain this machine provides)"
mkdir -p "$MCP_AUDIT_BIN_DIR"

# One build at a time on this machine (2 cores; concurrent test runs share the cache).
exec 9>"$MCP_AUDIT_BIN_DIR/.build.lock"
flock 9

# go_build NAME OUT DIR PACKAGE: compile with progress lines every 30 s.
go_build() {
  local name="$1" out="$2" dir="$3" pkg="$4" start tmp pid rc
  start=$(date +%s)
  tmp="$out.tmp.$$"
  log "building $name (a cold build takes minutes on 2 cores; Go's build cache makes the next one fast)"
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" go build -ldflags="-s -w" -o "$tmp" "$pkg") &
  pid=$!
  local ticks=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    ticks=$((ticks + 1))
    if (( ticks % 6 == 0 )) && kill -0 "$pid" 2>/dev/null; then
      log "  still building $name ... $(( $(date +%s) - start ))s"
    fi
  done
  rc=0; wait "$pid" || rc=$?
  if [[ $rc -ne 0 ]]; then rm -f "$tmp"; die "building $name failed (exit $rc)"; fi
  mv -f "$tmp" "$out"
  log "built $name in $(( $(date +%s) - start ))s: $out ($(du -h "$out" | cut -f1))"
}

otelcol="$(otelcol_bin_path)"
if [[ -x "$otelcol" ]]; then
  log "otelcol-mcp $OTELCOL_MCP_VERSION: cached"
else
  go_build "otelcol-mcp $OTELCOL_MCP_VERSION" "$otelcol" "$MCP_AUDIT_ROOT/collector/otelcol-mcp" .
fi

jaeger="$(jaeger_bin_path)"
if [[ -x "$jaeger" ]]; then
  log "jaeger (module v$JAEGER_MODULE_VERSION): cached"
else
  # Jaeger lives in a module of its own (jaeger/go.mod): its dependency graph
  # (a replace directive, an older collector) must never meet the collector's.
  go_build "jaeger (module v$JAEGER_MODULE_VERSION)" "$jaeger" "$MCP_AUDIT_ROOT/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
fi

# VictoriaMetrics is built from its own module, unpacked into a scratch directory (the module
# cache is read-only) so that its go.mod and go.sum, as released, pin every dependency.
vm_dir="$(victoriametrics_bin_dir)"
vm_missing=0
for app in $VICTORIAMETRICS_APPS; do [[ -x "$vm_dir/$app" ]] || vm_missing=1; done
if [[ $vm_missing -eq 0 ]]; then
  log "victoriametrics v$VICTORIAMETRICS_VERSION: cached"
else
  vm_module=$(cd "$MCP_AUDIT_CACHE" && GOFLAGS=-mod=mod go mod download -json "github.com/VictoriaMetrics/VictoriaMetrics@v$VICTORIAMETRICS_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n "$vm_module" && -f "$vm_module/go.mod" ]] || die "go mod download of VictoriaMetrics v$VICTORIAMETRICS_VERSION failed"
  vm_src="$MCP_AUDIT_CACHE/build/victoriametrics-$VICTORIAMETRICS_VERSION"
  rm -rf "$vm_src"; mkdir -p "$vm_src" "$vm_dir"
  cp -R "$vm_module/." "$vm_src/"; chmod -R u+w "$vm_src"
  for app in $VICTORIAMETRICS_APPS; do
    [[ -x "$vm_dir/$app" ]] || go_build "$app (VictoriaMetrics v$VICTORIAMETRICS_VERSION)" "$vm_dir/$app" "$vm_src" "./app/$app"
  done
  rm -rf "$vm_src"
fi

thanos="$(thanos_bin_path)"
if [[ -x "$thanos" ]]; then
  log "thanos v$THANOS_VERSION: cached"
else
  mkdir -p "$(dirname "$thanos")"
  GONOSUMDB="$THANOS_GONOSUMDB${GONOSUMDB:+,$GONOSUMDB}" GOFLAGS="${GOFLAGS:-} -tags=$THANOS_BUILD_TAGS" \
    go_build "thanos v$THANOS_VERSION" "$thanos" "$MCP_AUDIT_ROOT/scale/thanos" github.com/thanos-io/thanos/cmd/thanos
fi

# apt_install_binary PACKAGE BINARY WHAT: install a Debian package whose binary the stack or the
# tests run directly, never as a service: a policy-rc.d that refuses every start keeps the package
# from starting (or replacing) a system service while it installs.
apt_install_binary() {
  local package="$1" binary="$2" what="$3" made_policy=0 rc=0
  command -v apt-get >/dev/null 2>&1 || die "$binary is missing and apt-get is not available: install $what"
  [[ $(id -u) -eq 0 ]] || die "$binary is missing: run 'sudo apt-get install -y $package' (or this script as root)"
  log "installing $package from Debian's package (binary used directly, not as a service)"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package" >&2 \
    || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package" >&2; }; } || rc=$?
  [[ $made_policy -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
  [[ $rc -eq 0 ]] || die "apt-get install $package failed (exit $rc)"
}

if [[ $with_prometheus -eq 1 && ! -x /usr/bin/prometheus ]]; then
  apt_install_binary prometheus /usr/bin/prometheus "Prometheus 2.x so that /usr/bin/prometheus and /usr/bin/promtool exist"
  # This stack runs the binary itself, with its own config, on loopback: no second Prometheus.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled prometheus >/dev/null 2>&1; then
    systemctl disable --now prometheus >&2 || true
  fi
fi
[[ $with_prometheus -eq 0 || -x /usr/bin/prometheus ]] || die "/usr/bin/prometheus not found"

# The SIEM syslog test's receiver.
if [[ $with_prometheus -eq 1 && ! -x /usr/sbin/rsyslogd ]]; then
  apt_install_binary rsyslog /usr/sbin/rsyslogd "rsyslog 8.x (the SIEM syslog test's receiver)"
fi

echo "otelcol-mcp=$otelcol"
echo "jaeger=$jaeger"
echo "victoriametrics=$vm_dir"
echo "thanos=$thanos"
[[ -x /usr/bin/prometheus ]] && echo "prometheus=/usr/bin/prometheus"
[[ -x /usr/sbin/rsyslogd ]] && echo "rsyslogd=/usr/sbin/rsyslogd"
exit 0
