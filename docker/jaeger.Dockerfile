# Jaeger v2, built from its own Go module (jaeger/go.mod pins
# github.com/jaegertracing/jaeger v1.76.0 as a tool; it must never share a go.mod
# with the collector: its replace directives pin an older collector). Traces on disk (Badger), jaeger/config.yaml.
# Build context: the repository root (see jaeger.Dockerfile.dockerignore).
FROM golang:1.26 AS build
WORKDIR /src
COPY jaeger/go.mod jaeger/go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/jaeger github.com/jaegertracing/jaeger/cmd/jaeger

FROM alpine:3.22
RUN addgroup -S -g 10001 jaeger && adduser -S -u 10001 -G jaeger jaeger && mkdir -p /etc/jaeger /var/lib/jaeger \
 && chown jaeger:jaeger /var/lib/jaeger
COPY --from=build /out/jaeger /usr/local/bin/jaeger
COPY jaeger/config.yaml /etc/jaeger/config.yaml
USER jaeger
EXPOSE 14317 14318 16685 16686 13134
ENTRYPOINT ["/usr/local/bin/jaeger"]
CMD ["--config", "/etc/jaeger/config.yaml"]
