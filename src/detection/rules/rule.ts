// What every alert rule is built from: the rule's shape, the thresholds and timings shared by all
// rules, and the links each rule's annotations carry (a Jaeger search, the runbook section).
import { ATTR_GEN_AI_CONVERSATION_ID } from '../../semconv.js';
import type { Thresholds } from '../thresholds.js';
import { durationLiteral, regexAlternation, type Matcher } from './promql.js';

/** One Prometheus alerting rule, before YAML. */
export interface Rule {
  alert: string;
  expr: string;
  for: string;
  keepFiringFor?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook: string; trace_search: string };
}

/** One Prometheus recording rule: evaluated before the alerts of the group, in the same iteration. */
export interface Recording {
  record: string;
  expr: string;
}

/**
 * A rule group of the file. Prometheus evaluates groups concurrently and a group's rules one after
 * another, so a recording and every alert that reads it share a group, the recording first: the
 * alerts then read this iteration's recording.
 */
export interface RuleGroup {
  name: string;
  recordings: Recording[];
  rules: Rule[];
}

export interface GenerateOptions {
  /** Base URL of the Jaeger UI the trace_search annotation links to. */
  jaegerUrl: string;
  /** Where docs/alerts.md is served; the runbook annotation appends #anchor. */
  runbookBase: string;
}

export const DEFAULT_OPTIONS: GenerateOptions = {
  jaegerUrl: 'http://127.0.0.1:16686',
  runbookBase: 'docs/alerts.md',
};

/** Labels of a per-call alert and of a per-session alert. */
export const CALL_LABELS = ['session_id', 'tool', 'caller', 'server', 'service_name'];
export const SESSION_LABELS = ['session_id', 'caller', 'service_name'];

/** The thresholds, the options and the timings every rule shares, as PromQL durations. */
export interface RuleContext {
  thresholds: Thresholds;
  opts: GenerateOptions;
  /** How long a single-event alert stays true after its call was scraped. */
  eventWindow: string;
  /** How long event alerts keep firing after their series disappear. */
  keep: string;
  /** Resolution of the ordering subqueries. */
  step: string;
  /** How far back each evaluation of the ordering recordings looks, in seconds. */
  recordSeconds: number;
  /** The step, in seconds. */
  stepSeconds: number;
  /**
   * Ordering alerts by one subquery over the whole window (no recordings): the form before the
   * recording rules, which bench/rule-eval.ts measures against them. Never in the generated file.
   */
  orderingByWindowSubquery?: boolean;
}

export function ruleContext(thresholds: Thresholds, opts: GenerateOptions): RuleContext {
  return {
    thresholds,
    opts,
    eventWindow: durationLiteral(thresholds.alerting?.event_window_seconds ?? 300),
    keep: durationLiteral(thresholds.alerting?.keep_firing_for_seconds ?? 300),
    step: durationLiteral(thresholds.alerting?.subquery_step_seconds ?? 1),
    recordSeconds: thresholds.alerting?.ordering_record_seconds ?? 30,
    stepSeconds: thresholds.alerting?.subquery_step_seconds ?? 1,
  };
}

/** A Jaeger search URL whose tag values are Go template expressions, filled in at alert time. */
export function jaegerSearch(
  opts: GenerateOptions,
  tags: Array<[string, string]>,
  extra: Array<[string, string]> = [],
): string {
  // Tag values are Go template expressions, so the JSON around them is encoded by hand and the
  // values by the template's urlquery function at alert time.
  const json =
    encodeURIComponent('{') +
    tags
      .map(([k, v]) => `${encodeURIComponent(`"${k}":"`)}${v}${encodeURIComponent('"')}`)
      .join(encodeURIComponent(','));
  const params = [
    `service={{ $labels.service_name | urlquery }}`,
    `tags=${json}${encodeURIComponent('}')}`,
    ...extra.map(([k, v]) => `${k}=${v}`),
  ];
  return `${opts.jaegerUrl.replace(/\/+$/, '')}/search?${params.join('&')}`;
}

/** The alert's label `name`, URL-encoded by the template at alert time. */
export const labelRef = (name: string) => `{{ $labels.${name} | urlquery }}`;

/** The session's traces in Jaeger. */
export function sessionTraces(opts: GenerateOptions, extra: Array<[string, string]> = []): string {
  return jaegerSearch(
    opts,
    [[ATTR_GEN_AI_CONVERSATION_ID, labelRef('session_id')]],
    [...extra, ['limit', '1500']],
  );
}

/** The alert's section of docs/alerts.md. */
export function runbook(opts: GenerateOptions, alert: string): string {
  return `${opts.runbookBase}#${alert.toLowerCase()}`;
}

/** One rule of a per-tool threshold: the default (every tool not tuned) or one tuned tool. */
export interface ToolCase {
  tool?: string;
  limit: number;
  /** Selects the case's tools: the tuned one, or every tool but the tuned ones. */
  matchers: Matcher[];
}

/** The cases of a threshold with per-tool overrides; an override equal to the default needs no rule. */
export function perToolCases(
  defaultLimit: number,
  perTool: Record<string, number>,
): { tuned: string[]; cases: ToolCase[] } {
  const tuned = Object.keys(perTool)
    .filter((tool) => perTool[tool] !== defaultLimit)
    .sort();
  const others: Matcher[] = tuned.length > 0 ? [['tool', '!~', regexAlternation(tuned)]] : [];
  return {
    tuned,
    cases: [
      { limit: defaultLimit, matchers: others },
      ...tuned.map((tool) => ({ tool, limit: perTool[tool]!, matchers: [['tool', '=', tool]] as Matcher[] })),
    ],
  };
}
