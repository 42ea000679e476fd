# Shared by scripts/build.sh, stack-up.sh and stack-down.sh (sourced, not run).
# Versions, cache locations and the content hash that names cached binaries.

MCP_AUDIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MCP_AUDIT_CACHE="${MCP_AUDIT_CACHE:-$HOME/.cache/mcp-audit}"
MCP_AUDIT_BIN_DIR="$MCP_AUDIT_CACHE/bin"
MCP_AUDIT_RUN_DIR="${MCP_AUDIT_RUN_DIR:-$MCP_AUDIT_CACHE/run}"

# Pinned versions: the collector release of collector/otelcol-mcp/go.mod and
# the Jaeger module of jaeger/go.mod (Jaeger v2.13).
OTELCOL_MCP_VERSION="0.161.0"
JAEGER_MODULE_VERSION="1.76.0"
# The store of the scale-out topology (docs/scale.md, "Beyond one machine"): the
# module github.com/VictoriaMetrics/VictoriaMetrics at this single-node release.
VICTORIAMETRICS_VERSION="1.151.0"
# Its apps that build.sh compiles (app/<name>), one binary each.
VICTORIAMETRICS_APPS="victoria-metrics vmagent vmauth vmalert"
# The sharded store (docs/scale.md, "Beyond one machine"): Thanos receive/query/rule, one binary
# built from scale/thanos (its go.mod says why the replace block). The checksum database has no
# entry for Thanos's forks; go.sum still pins their hashes.
THANOS_VERSION="0.41.0"
THANOS_GONOSUMDB="github.com/thanos-community,github.com/themihai,github.com/alecthomas/kingpin,github.com/zenhack"
# Thanos's release build tags (its .promu.yml): without slicelabels the querier panics decoding the
# label sets its Store API endpoints announce (Thanos converts them in place, as slices).
THANOS_BUILD_TAGS="netgo,slicelabels"

log() { printf '[mcp-audit] %s\n' "$*" >&2; }
die() { printf '[mcp-audit] error: %s\n' "$*" >&2; exit 1; }

# content_key DIR FILE...: 12 hex digits over the Go version and the named
# files of DIR, so a changed go.mod/go.sum/source (or Go) names a new binary.
content_key() {
  local dir="$1"; shift
  command -v go >/dev/null 2>&1 || die "go is not installed (Go 1.26 needed to build the collector and Jaeger)"
  {
    go env GOVERSION GOOS GOARCH
    (cd "$dir" && for f in "$@"; do printf '%s\n' "$f"; cat "$f"; done)
  } | sha256sum | cut -c1-12
}

# Every non-test Go file of the module counts, the auditlog connector's too.
otelcol_bin_path() {
  local dir="$MCP_AUDIT_ROOT/collector/otelcol-mcp" sources
  sources=$(cd "$dir" && find . -name '*.go' ! -name '*_test.go' | LC_ALL=C sort)
  # shellcheck disable=SC2086 # one file name per word (no spaces in the module's paths)
  echo "$MCP_AUDIT_BIN_DIR/otelcol-mcp-$OTELCOL_MCP_VERSION-$(content_key "$dir" go.mod go.sum $sources)"
}
jaeger_bin_path() {
  echo "$MCP_AUDIT_BIN_DIR/jaeger-$JAEGER_MODULE_VERSION-$(content_key "$MCP_AUDIT_ROOT/jaeger" go.mod go.sum)"
}
# One directory holding every VictoriaMetrics binary, named by the release, the apps and Go
# (the module's go.sum pins the rest).
victoriametrics_bin_dir() {
  local key
  key=$({ go env GOVERSION GOOS GOARCH; echo "$VICTORIAMETRICS_VERSION $VICTORIAMETRICS_APPS"; } | sha256sum | cut -c1-12)
  echo "$MCP_AUDIT_BIN_DIR/victoriametrics-$VICTORIAMETRICS_VERSION-$key"
}
thanos_bin_path() {
  local key
  key=$({ content_key "$MCP_AUDIT_ROOT/scale/thanos" go.mod go.sum tools.go; echo "$THANOS_BUILD_TAGS"; } | sha256sum | cut -c1-12)
  echo "$MCP_AUDIT_BIN_DIR/thanos-$THANOS_VERSION-$key/thanos"
}
