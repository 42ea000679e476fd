// The alerts collector/rules/mcp-audit-alerts.yml defines (generated from thresholds.json).
// `mcp-audit doctor` looks for them in Prometheus; the rules test checks the generator makes exactly these.
export const MCP_ALERT_NAMES = [
  'McpBulkExtraction',
  'McpCallFrequencySpike',
  'McpSensitiveToolWithoutCaller',
  'McpErrorThenRetry',
  'McpSessionExfiltration',
  'McpDataThenEgress',
  'McpLatencySpike',
  'McpHangingCall',
  'McpErrorBurst',
  'McpSystemPathWrite',
  'McpUnboundedRead',
  'McpWriteWithoutTurn',
] as const;
