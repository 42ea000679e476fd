// Reads every query back out of dashboard JSON, for the tests: the PromQL of each panel
// target and each variable, the Jaeger searches, and the data links. Works on the JSON
// (not the builders), so it checks what Grafana actually loads.

export interface PromQuery {
  dashboard: string;
  /** "panel 3 'Error ratio' A", "variable session_id", ... */
  where: string;
  expr: string;
  /** Panels that may legitimately be empty (firing alerts when none fire). */
  mayBeEmpty: boolean;
}

export interface JaegerSearch {
  dashboard: string;
  where: string;
  service: string;
  /** logfmt, as typed in Grafana's Jaeger search form: key="value" ... */
  tags: string;
  limit?: number;
}

export interface DataLink {
  dashboard: string;
  where: string;
  url: string;
}

type Json = Record<string, any>;

/** Every panel, rows' nested panels included. */
export function panels(d: Json): Json[] {
  const out: Json[] = [];
  for (const p of d.panels ?? []) {
    out.push(p);
    for (const nested of p.panels ?? []) out.push(nested);
  }
  return out;
}

export function variables(d: Json): Json[] {
  return d.templating?.list ?? [];
}

/** The datasource plugin type a target talks to (its own ref, else the panel's). */
function targetType(panel: Json, target: Json): string | undefined {
  return target.datasource?.type ?? panel.datasource?.type;
}

const ALERTS_RE = /\bALERTS\b/;

/** label_values(selector, label) → the selector; label_values(label) → undefined. */
export function labelValuesSelector(query: string): { selector?: string; label: string } | undefined {
  const m = /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(query);
  if (!m) return undefined;
  return { selector: m[1], label: m[2]! };
}

export function promQueries(name: string, d: Json): PromQuery[] {
  const out: PromQuery[] = [];
  for (const p of panels(d)) {
    for (const t of p.targets ?? []) {
      if (targetType(p, t) !== 'prometheus' || typeof t.expr !== 'string') continue;
      out.push({
        dashboard: name,
        where: `panel ${p.id} '${p.title}' ${t.refId}`,
        expr: t.expr,
        mayBeEmpty: ALERTS_RE.test(t.expr) && !/or vector\(0\)/.test(t.expr),
      });
    }
  }
  for (const v of variables(d)) {
    if (v.type !== 'query' || v.datasource?.type !== 'prometheus') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const lv = labelValuesSelector(q);
    if (!lv?.selector)
      throw new Error(`${name}: variable ${v.name}: expected label_values(selector, label), got ${q}`);
    out.push({ dashboard: name, where: `variable ${v.name}`, expr: lv.selector, mayBeEmpty: false });
  }
  return out;
}

export function jaegerSearches(name: string, d: Json): JaegerSearch[] {
  const out: JaegerSearch[] = [];
  for (const p of panels(d)) {
    for (const t of p.targets ?? []) {
      if (targetType(p, t) !== 'jaeger') continue;
      out.push({
        dashboard: name,
        where: `panel ${p.id} '${p.title}' ${t.refId}`,
        service: t.service,
        tags: t.tags ?? '',
        limit: t.limit,
      });
    }
  }
  return out;
}

/** Data links of panels and field overrides, and the dashboard's own links. */
export function dataLinks(name: string, d: Json): DataLink[] {
  const out: DataLink[] = [];
  for (const p of panels(d)) {
    const where = `panel ${p.id} '${p.title}'`;
    for (const l of p.links ?? []) out.push({ dashboard: name, where, url: l.url });
    for (const l of p.fieldConfig?.defaults?.links ?? []) out.push({ dashboard: name, where, url: l.url });
    for (const o of p.fieldConfig?.overrides ?? []) {
      for (const prop of o.properties ?? []) {
        if (prop.id !== 'links') continue;
        for (const l of prop.value ?? [])
          out.push({ dashboard: name, where: `${where} field ${o.matcher?.options}`, url: l.url });
      }
    }
  }
  return out;
}

/** Grafana's Jaeger datasource turns logfmt tags into the JSON object /api/traces takes
 * (key="value" pairs; quotes optional). */
export function logfmtToJson(logfmt: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(logfmt))) out[m[1]!] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  return out;
}

/** Values for the template variables, as a test would pick them. */
export interface VariableValues {
  session_id: string;
  tool: string;
  service: string;
  /** The "All" value of multi-value variables. */
  server?: string;
  rateInterval?: string;
  range?: string;
  interval?: string;
}

/** Replaces Grafana's variables ($x, ${x}, [[x]]) the way Grafana would for one value. */
export function substitute(text: string, v: VariableValues): string {
  const values: Record<string, string> = {
    session_id: v.session_id,
    tool: v.tool,
    service: v.service,
    server: v.server ?? '.*',
    __rate_interval: v.rateInterval ?? '1m',
    __range: v.range ?? '1h',
    __interval: v.interval ?? '15s',
    __tags: `session_id="${v.session_id}"`,
  };
  return text.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a, b, c) => {
    const key = (a ?? b ?? c) as string;
    return key in values ? values[key]! : whole;
  });
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/** Series names a PromQL expression selects (identifiers that are not functions, keywords,
 * label names inside {...} or by(...), or durations). */
export function seriesNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    // Grafana variables ($__interval after an offset, ...)
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  const re = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const id = m[0];
    const rest = s.slice(m.index + id.length);
    if (/^\s*\(/.test(rest)) continue; // a function call
    if (PROMQL_KEYWORDS.has(id.toLowerCase())) continue;
    if (/^[0-9]/.test(id)) continue;
    // the tail of a number such as 1e-9 or a duration such as 5m
    const before = s[m.index - 1];
    if (before && /[0-9.]/.test(before)) continue;
    names.add(id);
  }
  return [...names];
}

/** Label names a PromQL expression matches on or groups by. */
export function labelNames(expr: string): string[] {
  const out = new Set<string>();
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of noStrings.matchAll(/\{([^}]*)\}/g)) {
    for (const mm of m[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) out.add(mm[1]!);
  }
  for (const m of noStrings.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const l of m[1]!
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean))
      out.add(l);
  }
  return [...out];
}
