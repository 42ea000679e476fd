#!/usr/bin/env bash
# Installs the `docker compose` CLI plugin when the docker client lacks it (this
# machine has the docker client but no compose plugin and no Docker engine:
# test/unit/compose.test.ts only needs `docker compose config`). Builds Docker
# Compose from its Go module with the local Go toolchain, once, into a cache outside
# the clone keyed by version, then links it into ~/.docker/cli-plugins.
#   bash docker/install-compose-plugin.sh     (idempotent; quiet when already installed)
set -euo pipefail

VERSION="${MCP_AUDIT_COMPOSE_VERSION:-v5.6.0}" # v5.7.x needs Go >= 1.26.10
CACHE="${MCP_AUDIT_CACHE:-$HOME/.cache/mcp-audit}/docker-compose/$VERSION"
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

if docker compose version >/dev/null 2>&1; then
  exit 0
fi
# Without a docker client there is nothing to plug into; the compose test says it skipped, and why.
command -v docker >/dev/null || { echo "install-compose-plugin: no docker client on PATH; compose validation will be skipped" >&2; exit 0; }
command -v go >/dev/null || { echo "install-compose-plugin: Go is needed to build docker compose" >&2; exit 1; }

if [ ! -x "$CACHE/docker-compose" ]; then
  echo "install-compose-plugin: building docker compose $VERSION from its Go module (first time only, a few minutes)" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    go mod init mcp-audit-compose-build >/dev/null 2>&1
    GOFLAGS=-mod=mod go get "github.com/docker/compose/v5/cmd@$VERSION" >/dev/null
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$VERSION" \
      -o "$work/docker-compose" github.com/docker/compose/v5/cmd
  )
  mkdir -p "$CACHE"
  mv "$work/docker-compose" "$CACHE/docker-compose"
fi
mkdir -p "$PLUGIN_DIR"
ln -sf "$CACHE/docker-compose" "$PLUGIN_DIR/docker-compose"
docker compose version >&2
