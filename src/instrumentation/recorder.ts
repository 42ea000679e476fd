// Longer than most modules on purpose: this is the one place a call's request content, outcome and
// result attributes are completed for every path (client, server, proxies), so the capture policy
// and its redaction cannot diverge between them.
import { SpanStatusCode, type Attributes, type DiagLogger, type Span } from '@opentelemetry/api';
import {
  CAPTURE_MODES,
  createRedactor,
  redactionOptionsFromEnv,
  type CaptureMode,
  type RedactionOptions,
  type Redactor,
} from '../redaction/redact.js';
import {
  ENV_CAPTURE_ARGUMENTS,
  ENV_CAPTURE_RESULTS,
  ENV_GENAI_CAPTURE_CONTENT,
  ENV_REQUIRE_CALLER,
  ENV_RESULT_SCAN_CHARS,
  envBool,
  envChoice,
  envList,
  envString,
} from '../env.js';
import { createClassifier, type Classifier } from '../redaction/classify.js';
import { argumentRisk, compileArgumentRisk, type ArgumentRiskRules } from './argument-risk.js';
import {
  DEFAULT_RESULT_SCAN_CHARS,
  resultClassAttributes,
  ResultScan,
  scanInTurns,
  validScanChars,
  type ResultClasses,
} from './content-signals.js';
import { disarmInFlightMark } from './in-flight.js';
import {
  DEFAULT_ARGUMENT_RISK,
  DEFAULT_EGRESS_TOOLS,
  DEFAULT_IN_FLIGHT_MARK_SECONDS,
} from './signal-defaults.js';
import { resultSize, summarizeResult } from './summarize.js';
import { classifyErrorResponse, CLIENT_FAULT_CODES, outcomeAttributes, type Outcome } from './attributes.js';
import {
  ATTR_ENDUSER_ID,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_MCP_AUDIT_ARGUMENTS_RISK,
  ATTR_MCP_AUDIT_PROMPT_ARGUMENTS,
  ATTR_MCP_AUDIT_REDACTED_COUNT,
  ATTR_MCP_AUDIT_RESULT_SIZE,
  ATTR_MCP_AUDIT_RESULT_SUMMARY,
  ATTR_MCP_RESOURCE_URI,
  ATTR_RESULT_UNPARSED,
  ERROR_TYPE_TOOL_ERROR,
} from '../semconv.js';
import { recordDuration, type DurationHistograms } from './durations.js';

// Whoever builds a recorder (the instrumentation, the proxies) builds its histograms too.
export { createDurationHistograms, type DurationHistograms } from './durations.js';
import type { JsonRpcRequestLike, JsonRpcResponseLike } from './protocol-shape.js';
import type { McpInstrumentationConfig } from './types.js';

export type Side = 'client' | 'server';

/**
 * The recorder for `config`. A bad redaction option must not leave calls unaudited, nor unredacted:
 * one clear line, then the built-in defaults, which mask every class.
 */
export function createRecorder(
  config: McpInstrumentationConfig,
  diag: DiagLogger,
  histograms: () => DurationHistograms,
): Recorder {
  try {
    return new Recorder(config, diag, histograms);
  } catch (err) {
    diag.error(
      `mcp-audit: invalid configuration (${err instanceof Error ? err.message : String(err)}); using the built-in redaction defaults`,
    );
    return new Recorder({ ...config, redaction: {} }, diag, histograms);
  }
}

const MAX_STATUS_MESSAGE = 512;
// Result summaries are counts and identifier-like keys, so few distinct ones recur across calls:
// their redaction (deterministic for one configuration) is remembered instead of scanned again.
const SUMMARY_CACHE_ENTRIES = 1024;

/** A call's completion waiting for the next turn of the event loop. */
interface PendingCompletion {
  call: Call;
  outcome: Outcome;
  result: unknown;
  endedAt: number;
}

/** One in-flight request: the span, what it was about, and when it started (monotonic ms). */
export interface Call {
  span: Span;
  side: Side;
  method: string;
  tool?: string;
  attrs: Attributes;
  startedAt: number;
  redacted: number;
  done: boolean;
  /** tools/call: the raw arguments, read once more after the call for the risk tags (never recorded). */
  args?: unknown;
  /** The pending in-flight mark (in-flight.ts), cleared when the call ends. */
  inFlightTimer?: NodeJS.Timeout;
}

/** Every capture mode, in the order help texts list them. */

/**
 * Everything both sides need to turn a request and its outcome into attributes: the redactor, the
 * capture switches, the histograms. Built once per configuration, not per call.
 */
// Recorders holding ended calls whose spans are not complete yet (a few at most: one per
// instrumentation, proxy session or wrap): the shutdown completes them before the processors flush.
const recordersWithPendingSpans = new Set<Recorder>();

/**
 * Completes now every span whose call has ended but whose deferred part (size, summary, result
 * scan) has not run yet. Called at shutdown: a process told to stop while a large result is still
 * being scanned a piece per turn exports that span instead of losing it.
 */
export function completePendingSpans(): void {
  for (const recorder of [...recordersWithPendingSpans]) recorder.completePending();
}

export class Recorder {
  readonly redactor: Redactor;
  private readonly argsMode: CaptureMode;
  private readonly resultMode: CaptureMode;
  private readonly tools: NonNullable<McpInstrumentationConfig['tools']>;
  readonly requireCaller: ReadonlySet<string>;
  private readonly classifier: Classifier;
  private readonly resultScanChars: number;
  private readonly riskRules: ArgumentRiskRules;
  /** Milliseconds a tool call runs before its in-flight marker span; 0: never. */
  readonly inFlightMarkMs: number;
  private readonly summaries = new Map<string, { text: string; count: number }>();
  // Every completion of one turn runs from one immediate: no closure and no immediate per call.
  private completions: PendingCompletion[] = [];
  // Large results being scanned a piece per turn: at shutdown each one is finished at once, so a
  // process told to stop still exports every span that had its response (none left half-done).
  private readonly scansInTurns = new Set<() => void>();
  private readonly drainCompletions = () => {
    const batch = this.completions;
    this.completions = [];
    for (const { call, outcome, result, endedAt } of batch) {
      try {
        this.complete(call, outcome, result, endedAt);
      } catch (err) {
        this.diag.error('mcp-audit: could not complete a span', err);
      }
    }
    this.forgetIfIdle();
  };

  private forgetIfIdle(): void {
    if (this.completions.length === 0 && this.scansInTurns.size === 0) recordersWithPendingSpans.delete(this);
  }

  constructor(
    config: McpInstrumentationConfig,
    private readonly diag: DiagLogger,
    private readonly histograms: () => DurationHistograms,
  ) {
    const redaction = config.redaction ?? envRedaction(diag);
    this.redactor = createRedactor(redaction);
    this.classifier = createClassifier(redaction);
    this.resultScanChars =
      validScanChars(config.resultScanChars, (m) => diag.warn(m)) ??
      envCount(ENV_RESULT_SCAN_CHARS, diag) ??
      DEFAULT_RESULT_SCAN_CHARS;
    this.riskRules = compileArgumentRisk(
      config.argumentRisk ?? DEFAULT_ARGUMENT_RISK,
      config.egressTools ?? DEFAULT_EGRESS_TOOLS,
    );
    this.inFlightMarkMs = Math.max(0, (config.inFlightMarkSeconds ?? DEFAULT_IN_FLIGHT_MARK_SECONDS) * 1000);
    this.argsMode = config.captureArguments ?? envChoice(ENV_CAPTURE_ARGUMENTS, CAPTURE_MODES) ?? 'redacted';
    this.resultMode =
      config.captureResults ??
      envChoice(ENV_CAPTURE_RESULTS, CAPTURE_MODES) ??
      (envBool(ENV_GENAI_CAPTURE_CONTENT) ? 'redacted' : undefined) ??
      'none';
    this.tools = config.tools ?? {};
    this.requireCaller = new Set([...(config.requireCallerFor ?? []), ...envList(ENV_REQUIRE_CALLER)]);
  }

  private argumentsMode(tool: string | undefined): CaptureMode {
    return (
      (tool !== undefined && Object.hasOwn(this.tools, tool) && this.tools[tool]?.arguments) || this.argsMode
    );
  }

  private resultsMode(tool: string | undefined): CaptureMode {
    return (
      (tool !== undefined && Object.hasOwn(this.tools, tool) && this.tools[tool]?.result) || this.resultMode
    );
  }

  /**
   * Sets the redacted request content (tool arguments, prompt arguments, resource URI) on `attrs`
   * and returns how many values redaction masked.
   */
  requestContent(request: JsonRpcRequestLike, tool: string | undefined, attrs: Attributes): number {
    const params = request.params;
    if (!params) return 0;
    if (request.method === 'tools/call') {
      const { text, count } = this.redactor.json(params.arguments ?? {}, this.argumentsMode(tool));
      if (text !== undefined) attrs[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = text;
      return count;
    }
    if (request.method === 'prompts/get' && params.arguments !== undefined) {
      const { text, count } = this.redactor.json(params.arguments, this.argumentsMode(tool));
      if (text !== undefined) attrs[ATTR_MCP_AUDIT_PROMPT_ARGUMENTS] = text;
      return count;
    }
    if (typeof params.uri === 'string') {
      const { text, count } = this.redactor.string(params.uri);
      attrs[ATTR_MCP_RESOURCE_URI] = text;
      return count;
    }
    return 0;
  }

  /** The tool, when this call must be refused: it requires a caller identity and has none. */
  deniedTool(call: Call): string | undefined {
    return call.method === 'tools/call' &&
      call.tool !== undefined &&
      call.attrs[ATTR_ENDUSER_ID] === undefined &&
      this.requireCaller.has(call.tool)
      ? call.tool
      : undefined;
  }

  /** This recorder's part of completePendingSpans(). */
  completePending(): void {
    this.drainCompletions();
    for (const finishNow of [...this.scansInTurns]) {
      try {
        finishNow();
      } catch (err) {
        this.diag.error('mcp-audit: could not complete a span', err);
      }
    }
  }

  /** Ends the call with the JSON-RPC response that answered it (a result or an error). */
  finishResponse(call: Call, response: JsonRpcResponseLike): void {
    if (response.error) this.finish(call, classifyErrorResponse(response.error));
    else this.finish(call, {}, response.result);
  }

  /**
   * Ends the call. The end time is taken now; the costly part (serializing the result for its size,
   * the summary, redaction) runs after the current tick, so the caller gets its result first.
   */
  finish(call: Call, outcome: Outcome, result?: unknown): void {
    if (call.done) return;
    call.done = true;
    const endedAt = performance.now();
    disarmInFlightMark(call);
    if (this.completions.push({ call, outcome, result, endedAt }) === 1) {
      recordersWithPendingSpans.add(this);
      setImmediate(this.drainCompletions);
    }
  }

  private complete(
    call: Call,
    outcome: Outcome,
    result: unknown,
    endedAt: number,
    found?: ResultClasses,
  ): void {
    const { span } = call;
    // The result's classes first: a large result is scanned a piece per event-loop turn (never one
    // long block of the host), and the span completes once the scan is done. A result a proxy could
    // not parse (over its line limit) was never seen: its classes are unknown, not zero.
    if (
      found === undefined &&
      this.resultScanChars > 0 &&
      result !== undefined &&
      call.attrs[ATTR_RESULT_UNPARSED] !== true &&
      (call.method === 'tools/call' || call.method === 'resources/read' || call.method === 'prompts/get')
    ) {
      const scan = new ResultScan(result, this.classifier, this.resultScanChars);
      if (scan.remaining > 1) {
        let completed = false;
        const completeWith = (classes: ResultClasses) => {
          if (completed) return;
          completed = true;
          this.scansInTurns.delete(finishNow);
          try {
            this.complete(call, outcome, result, endedAt, classes);
          } catch (err) {
            this.diag.error('mcp-audit: could not complete a span', err);
          }
          this.forgetIfIdle();
        };
        const finishNow = () => {
          while (scan.step());
          completeWith(scan.classes());
        };
        this.scansInTurns.add(finishNow);
        scanInTurns(scan, completeWith);
        return;
      }
      while (scan.step());
      found = scan.classes();
    }
    try {
      const attrs: Attributes = {};
      if (!outcome.errorType && call.method === 'tools/call' && isToolError(result)) {
        outcome = { errorType: ERROR_TYPE_TOOL_ERROR };
      }
      attrs[ATTR_MCP_AUDIT_RESULT_SIZE] =
        outcome.errorType && outcome.errorType !== ERROR_TYPE_TOOL_ERROR ? 0 : resultSize(result);
      if (call.method === 'tools/call') {
        const risk = argumentRisk(call.tool, call.args, this.riskRules);
        call.args = undefined;
        if (risk.length > 0) attrs[ATTR_MCP_AUDIT_ARGUMENTS_RISK] = risk;
      }
      if (
        result !== undefined &&
        (call.method === 'tools/call' || call.method === 'resources/read' || call.method === 'prompts/get')
      ) {
        if (found) resultClassAttributes(found, attrs);
        const summary = summarizeResult(result);
        if (summary) {
          const { text, count } = this.redactedSummary(summary);
          attrs[ATTR_MCP_AUDIT_RESULT_SUMMARY] = text;
          call.redacted += count;
        }
        const mode = this.resultsMode(call.tool);
        if (mode !== 'none') {
          const { text, count } = this.redactor.json(result, mode);
          if (text !== undefined) attrs[ATTR_GEN_AI_TOOL_CALL_RESULT] = text;
          call.redacted += count;
        }
      }
      outcomeAttributes(outcome, attrs);
      if (outcome.errorType && this.setsErrorStatus(call.side, outcome)) {
        let message = outcome.message;
        if (message !== undefined) {
          const redacted = this.redactor.string(message.slice(0, MAX_STATUS_MESSAGE));
          message = redacted.text;
          call.redacted += redacted.count;
        }
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      }
      attrs[ATTR_MCP_AUDIT_REDACTED_COUNT] = call.redacted;
      span.setAttributes(attrs);
      Object.assign(call.attrs, attrs);
      this.recordDuration(call, (endedAt - call.startedAt) / 1000);
    } catch (err) {
      this.diag.error('mcp-audit: could not complete a span', err);
    } finally {
      span.end(performance.timeOrigin + endedAt);
    }
  }

  private redactedSummary(summary: string): { text: string; count: number } {
    let redacted = this.summaries.get(summary);
    if (!redacted) {
      if (this.summaries.size >= SUMMARY_CACHE_ENTRIES) this.summaries.clear();
      redacted = this.redactor.string(summary);
      this.summaries.set(summary, redacted);
    }
    return redacted;
  }

  private setsErrorStatus(side: Side, outcome: Outcome): boolean {
    if (side === 'client') return true;
    return outcome.code === undefined || !CLIENT_FAULT_CODES.has(outcome.code);
  }

  private recordDuration(call: Call, seconds: number): void {
    recordDuration(this.histograms(), call.side, call.attrs, seconds);
  }
}

// A bad MCP_AUDIT_REDACT_* value must not stop the app: log it and keep the built-in defaults,
// which mask every class (fail closed).
function envRedaction(diag: DiagLogger): RedactionOptions {
  try {
    return redactionOptionsFromEnv(process.env);
  } catch (err) {
    diag.error(
      `mcp-audit: ${err instanceof Error ? err.message : String(err)}; using the built-in redaction defaults`,
    );
    return {};
  }
}

// A whole number >= 0 from the environment; anything else is reported and the default applies.
function envCount(name: string, diag: DiagLogger): number | undefined {
  const raw = envString(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (Number.isSafeInteger(n) && n >= 0) return n;
  diag.warn(`mcp-audit: ignoring ${name}=${JSON.stringify(raw)} (not a whole number); using the default`);
  return undefined;
}

function isToolError(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { isError?: unknown }).isError === true;
}
