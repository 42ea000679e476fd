export { McpInstrumentation } from './instrumentation/instrumentation.js';
export type { McpInstrumentationConfig, ToolCaptureConfig, CaptureMode } from './instrumentation/types.js';
export { POLICY_DENIED_CODE } from './instrumentation/policy.js';
export {
  withAuditContext,
  getAuditContext,
  setAuditContext,
  type AuditContext,
} from './instrumentation/audit-context.js';
export {
  createRedactor,
  redactionOptionsFromEnv,
  type Redactor,
  type RedactionOptions,
} from './redaction/redact.js';
export { startMcpAudit, type StartOptions, type McpAuditHandle } from './sdk.js';
export { AuditFileExporter, type AuditFileExporterOptions } from './evidence/file-exporter.js';
export { toAuditRecord, type AuditRecord } from './evidence/record.js';
export * as semconv from './semconv.js';
