// mcp-messaging-01: the problem statement's Slack/email server. Nothing leaves the machine: every "sent"
// message is appended to a local outbox (JSON lines) so tests and the demo can show what an
// injected agent would have posted. Env MCP_DEMO_OUTBOX names the outbox file.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { isMain, log, serveStdio } from './run-stdio.js';
import { demoTempDir } from './workdir.js';

export const MESSAGING_SERVER_NAME = 'mcp-messaging-01';
const VERSION = '0.1.0';

export interface MessagingServerOptions {
  /** JSONL file the messages are appended to. Default: env MCP_DEMO_OUTBOX, else a temp folder. */
  outboxPath?: string;
}

export interface OutboxEntry {
  ts: string;
  tool: 'slack_send' | 'email_send' | 'http_post';
  [field: string]: unknown;
}

export function outboxFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.MCP_DEMO_OUTBOX || join(demoTempDir(), 'outbox.jsonl');
}

/** Slack-style message timestamp: seconds.microseconds, unique enough within one process. */
let lastTs = 0;
function slackTs(): string {
  const micros = Math.max(Date.now() * 1000, lastTs + 1);
  lastTs = micros;
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}

export function createMessagingServer(opts: MessagingServerOptions = {}): McpServer {
  const outbox = opts.outboxPath ?? outboxFromEnv();
  const server = new McpServer({ name: MESSAGING_SERVER_NAME, version: VERSION });
  let ready: Promise<unknown> | undefined;

  async function record(entry: Omit<OutboxEntry, 'ts'>): Promise<CallToolResult> {
    const ts = slackTs();
    ready ??= mkdir(dirname(outbox), { recursive: true });
    await ready;
    await appendFile(outbox, JSON.stringify({ ts, ...entry }) + '\n');
    const result = { ok: true, ts };
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
  }

  server.registerTool(
    'slack_send',
    {
      description: 'Post a message to a Slack channel.',
      inputSchema: { channel: z.string().min(1).max(200), message: z.string().max(1_000_000) },
      annotations: { openWorldHint: true },
    },
    ({ channel, message }) => record({ tool: 'slack_send', channel, message }),
  );

  server.registerTool(
    'email_send',
    {
      description: 'Send an email.',
      inputSchema: {
        to: z.string().min(1).max(1000),
        subject: z.string().max(1000),
        body: z.string().max(1_000_000),
      },
      annotations: { openWorldHint: true },
    },
    ({ to, subject, body }) => record({ tool: 'email_send', to, subject, body }),
  );

  server.registerTool(
    'http_post',
    {
      description: 'POST a body to a URL.',
      inputSchema: {
        url: z.string().url().max(4000),
        body: z.string().max(1_000_000),
      },
      annotations: { openWorldHint: true },
    },
    ({ url, body }) => record({ tool: 'http_post', url, body }),
  );

  return server;
}

if (isMain(import.meta.url)) {
  void serveStdio(MESSAGING_SERVER_NAME, () => {
    const outboxPath = outboxFromEnv();
    log(MESSAGING_SERVER_NAME, `outbox ${outboxPath}`);
    return createMessagingServer({ outboxPath });
  });
}
