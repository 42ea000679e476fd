# otelcol-mcp, the custom collector distribution, built from its Go modules
# (collector/otelcol-mcp: main.go, components.go, go.mod; docs/architecture.md).
# Build context: the repository root (see collector.Dockerfile.dockerignore).
FROM golang:1.26 AS build
WORKDIR /src
COPY collector/otelcol-mcp/go.mod collector/otelcol-mcp/go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY collector/otelcol-mcp/ ./
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/otelcol-mcp .

FROM alpine:3.22
# Directories for the named volumes (audit file, persistent queue), owned by the
# unprivileged user so a fresh volume inherits the ownership.
RUN addgroup -S -g 10001 otel && adduser -S -u 10001 -G otel otel \
 && mkdir -p /var/lib/otelcol-mcp/audit /var/lib/otelcol-mcp/queue /etc/otelcol-mcp \
 && chown -R otel:otel /var/lib/otelcol-mcp
COPY --from=build /out/otelcol-mcp /usr/local/bin/otelcol-mcp
COPY collector/config.yaml /etc/otelcol-mcp/config.yaml
USER otel
EXPOSE 4317 4318 8889 13133
ENTRYPOINT ["/usr/local/bin/otelcol-mcp"]
CMD ["--config", "/etc/otelcol-mcp/config.yaml"]
