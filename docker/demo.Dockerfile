# The mcp-audit package itself: runs the audited demo session (`mcp-audit demo`)
# and the evidence sink (`mcp-audit sink`). Build context: the repository root
# (see demo.Dockerfile.dockerignore).
FROM node:22-bookworm-slim
WORKDIR /app
# python3: the demo's knowledge-base server is a standard-library Python MCP
# server run under `mcp-audit wrap` (without it the demo skips that scenario).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=development
COPY package.json package-lock.json ./
# Dev dependencies too: the demo's MCP servers use @modelcontextprotocol/sdk.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && mkdir -p /var/lib/mcp-audit/demo /var/lib/mcp-audit/evidence \
 && chown -R node:node /var/lib/mcp-audit
USER node
ENTRYPOINT ["node", "bin/mcp-audit.cjs"]
CMD ["demo"]
