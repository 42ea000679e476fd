// What a call's arguments touch, as tags from a fixed vocabulary: derived from the raw arguments
// before redaction (the only place that sees them whole) and recorded instead of any argument
// text, so the collector and the rules can count risky calls without seeing the content.
import { posix } from 'node:path';

/** A path under a system or credential location (`/etc`, `~/.ssh`, cron, systemd, `C:\Windows`). */
export const RISK_SYSTEM_PATH = 'system_path' as const;
/** A SQL statement that reads a whole table: a SELECT with no WHERE, LIMIT, TOP or FETCH. */
export const RISK_UNBOUNDED_READ = 'unbounded_read' as const;
/** An egress tool given a URL host or e-mail domain outside the egress allow-list. */
export const RISK_EGRESS_UNLISTED = 'egress_unlisted' as const;

/** The whole vocabulary: a tag is always one of these, never derived text. */
export const RISK_TAGS = [RISK_EGRESS_UNLISTED, RISK_SYSTEM_PATH, RISK_UNBOUNDED_READ] as const;
export type RiskTag = (typeof RISK_TAGS)[number];

/** The `argument_risk` section of collector/rules/thresholds.json (the one definition of the lists). */
export interface ArgumentRiskLists {
  /** Path prefixes of system and credential locations; `~` is the home directory, case ignored. */
  system_paths: string[];
  /** Directory or file names that hold credentials wherever they sit (`.ssh`, `.aws`). */
  credential_names: string[];
  /** Hosts an egress tool may send to: `example.com` (and its subdomains), or `*.example.com` (only subdomains). Empty: no allow-list, no tag. */
  egress_allowlist: string[];
}

/** The lists, compiled once per configuration. */
export interface ArgumentRiskRules {
  prefixes: string[];
  credentialNames: ReadonlySet<string>;
  egressTools: ReadonlySet<string>;
  allowExact: string[];
  allowSubdomainsOnly: string[];
}

export function compileArgumentRisk(
  lists: ArgumentRiskLists,
  egressTools: readonly string[],
): ArgumentRiskRules {
  const allow = lists.egress_allowlist.map((h) => h.trim().toLowerCase()).filter(Boolean);
  return {
    prefixes: lists.system_paths.map(normalisePath).filter((p): p is string => p !== undefined),
    credentialNames: new Set(lists.credential_names.map((n) => n.toLowerCase())),
    egressTools: new Set(egressTools),
    allowExact: allow.filter((h) => !h.startsWith('*.')),
    allowSubdomainsOnly: allow.filter((h) => h.startsWith('*.')).map((h) => h.slice(1)),
  };
}

// Bounds: arguments are walked up to this many characters of strings and this depth.
const MAX_CHARS = 64 * 1024;
const MAX_DEPTH = 32;
const MAX_PATH = 4096;

const PATH_START = /^(?:\/|~|\\\\|[A-Za-z]:[\\/]|file:|\.\.?[\\/])/;
const SQL_START = /^[\s(]*(?:select|with)\b/i;
const SQL_LITERALS = /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g;
const SQL_BOUNDS = /\b(?:where|limit|top|fetch|offset)\b/i;
const SQL_FROM = /\bfrom\b/i;
const SQL_AGGREGATE_ONLY = /^[\s(]*select\s+(?:count|sum|avg|min|max)\s*\([^)]*\)\s*(?:as\s+\w+\s*)?from\b/i;
const URL_HOST = /\b[a-z][a-z0-9+.-]{1,15}:\/\/(?:[^\s/?#@]*@)?(\[[^\]\s]+\]|[^\s/?#:]+)/gi;
const EMAIL_DOMAIN = /[A-Za-z0-9._%+-]@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;

/** A path as compared: `/` separators, `..` resolved, lower case, no trailing slash. */
function normalisePath(raw: string): string | undefined {
  let p = raw.trim().replace(/\\/g, '/');
  if (p.startsWith('file://')) p = p.slice('file://'.length);
  else if (p.startsWith('file:')) p = p.slice('file:'.length);
  if (p === '') return undefined;
  const normal = posix.normalize(p).toLowerCase();
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

function underSystemPath(raw: string, rules: ArgumentRiskRules): boolean {
  const p = normalisePath(raw);
  if (p === undefined) return false;
  const segments = p.split('/');
  if (segments.some((s) => rules.credentialNames.has(s))) return true;
  // A relative path that climbs out (`../../etc/passwd`) is checked as if it reached the root.
  const candidates = p.startsWith('../') ? [p, `/${segments.filter((s) => s !== '..').join('/')}`] : [p];
  return candidates.some((c) => rules.prefixes.some((prefix) => c === prefix || c.startsWith(`${prefix}/`)));
}

function readsWholeTable(sql: string): boolean {
  if (!SQL_START.test(sql)) return false;
  const bare = sql.replace(SQL_LITERALS, ' ');
  return SQL_FROM.test(bare) && !SQL_BOUNDS.test(bare) && !SQL_AGGREGATE_ONLY.test(bare);
}

function hostAllowed(host: string, rules: ArgumentRiskRules): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (rules.allowExact.some((a) => h === a || h.endsWith(`.${a}`))) return true;
  return rules.allowSubdomainsOnly.some((suffix) => h.endsWith(suffix));
}

function unlistedDestination(text: string, rules: ArgumentRiskRules): boolean {
  if (rules.allowExact.length === 0 && rules.allowSubdomainsOnly.length === 0) return false;
  for (const re of [URL_HOST, EMAIL_DOMAIN]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (!hostAllowed(m[1]!, rules)) return true;
    }
  }
  return false;
}

/**
 * The risk tags of one call's raw arguments, sorted; [] when none apply. Bounded (the first
 * 64 Ki characters of strings, depth 32) and never throws.
 */
export function argumentRisk(tool: string | undefined, args: unknown, rules: ArgumentRiskRules): RiskTag[] {
  const tags = new Set<RiskTag>();
  const egress = tool !== undefined && rules.egressTools.has(tool);
  let budget = MAX_CHARS;
  const stack: Array<[unknown, number]> = [[args, 0]];
  try {
    while (stack.length > 0 && budget > 0 && tags.size < RISK_TAGS.length) {
      const [value, depth] = stack.pop()!;
      budget--;
      if (typeof value === 'string') {
        const text = value.length > budget ? value.slice(0, budget) : value;
        budget -= text.length;
        if (text.length <= MAX_PATH && PATH_START.test(text) && underSystemPath(text, rules)) {
          tags.add(RISK_SYSTEM_PATH);
        }
        if (readsWholeTable(text)) tags.add(RISK_UNBOUNDED_READ);
        if (egress && unlistedDestination(text, rules)) tags.add(RISK_EGRESS_UNLISTED);
      } else if (typeof value === 'object' && value !== null && depth < MAX_DEPTH) {
        const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
        for (let i = children.length - 1; i >= 0 && stack.length < budget; i--) {
          stack.push([children[i], depth + 1]);
        }
      }
    }
  } catch {
    // A getter that throws: keep the tags found so far.
  }
  return [...tags].sort();
}
