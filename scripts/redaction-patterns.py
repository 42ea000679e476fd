#!/usr/bin/env python3
"""The collector's redaction patterns, one list, written into collector/config.yaml.

transform/redact applies every pattern to span, span event and resource attributes
(plus names and status messages) with a typed mask; the redaction processor's
blocked_values backstop uses the same regexes with "****". The four copies in
config.yaml sit between "# BEGIN generated ..." and "# END generated ..." lines and
are rewritten from PATTERNS below:

    python3 scripts/redaction-patterns.py          # rewrite collector/config.yaml
    python3 scripts/redaction-patterns.py --check  # exit 1 if it is out of date

Regexes are RE2 (Go): no lookaround, no backreferences. Order matters: structured
rules before loose ones. Replacements use regexp.Expand syntax (${1}). No pattern
may match a "[REDACTED:...]" mask, so a second pass leaves masks alone.
"""
import re
import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "collector" / "config.yaml"

# (class, RE2 regex, replacement, comment)
PATTERNS = [
 ("private_key", r'-----BEGIN [A-Z ]*PRIVATE KEY[A-Z ]*-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY[A-Z ]*-----|[A-Za-z0-9+/=\s\\]*)', "[REDACTED:private_key]",
  "PEM and PGP private keys; a truncated key (no END line) is masked to its end"),
 ("jwt", r'\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*', "[REDACTED:jwt]",
  "JWTs (base64url JSON header starting eyJ, payload, signature)"),
 ("bearer", r'(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}', "${1} [REDACTED:bearer]",
  "bearer/basic credentials in Authorization-style text; the scheme is kept"),
 ("password", r'\b([A-Za-z][A-Za-z0-9+.-]*://[^:/?#\s"@]+):[^@/\s"\[][^@/\s"]*@', "${1}:[REDACTED:password]@",
  "passwords in URLs and DSNs (scheme://user:PASSWORD@host); the user is kept"),
 ("secret", r'(?i)("[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|authorization|auth|cookie|credentials?|private[_-]?key|access[_-]?key)(?:[_.-][A-Za-z0-9_.-]*)?"\s*:\s*)("(?:[^"\\\[]|\\.)(?:[^"\\]|\\.)*"|[^,}\]\s"\[][^,}\]\s]*)', "${1}\"[REDACTED:secret]\"",
  "JSON values (string or scalar) under secret-like keys inside JSON string attributes, e.g. {\"password\":\"...\"}, {\"authToken\":\"...\"}, {\"x-api-key\":\"...\"}"),
 ("secret_kv", r'(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|client[_-]?secret|aws_secret_access_key|authorization|cookie|set-cookie)(\s*[=:]\s*)([^\s&;,"}\[][^\s&;,"}]*)', "${1}${2}[REDACTED:secret]",
  "key=value and key: value pairs (query strings, connection strings, headers, env lines)"),
 ("aws_access_key", r'\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b', "[REDACTED:aws_access_key]",
  "AWS access key ids"),
 ("aws_secret_key", r'(?i)(aws.{0,20}?(?:secret|key).{0,20}?[\s":=]+)[A-Za-z0-9/+=]{40}\b', "${1}[REDACTED:aws_secret_key]",
  "AWS secret access keys (40 base64 characters near 'aws ... secret/key')"),
 ("aws_secret_key_bare", r"(^|[^A-Za-z0-9/+=])(?:" + "|".join(
     # 40 characters whose first uppercase letter, / or + sits at position k
     (f"[a-z0-9]{{{k}}}" if k else "") + "[A-Z/+]" + (f"[A-Za-z0-9/+]{{{39 - k}}}" if k < 39 else "")
     for k in range(40)) + r")([^A-Za-z0-9/+=]|$)", "${1}[REDACTED:aws_secret_key]${2}",
  "bare AWS secret access keys: exactly 40 base64 characters with an uppercase letter, / or + (generated alternation: RE2 has no lookahead; git SHAs, lowercase hex, stay)"),
 ("github_token", r'\b(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b', "[REDACTED:github_token]",
  "GitHub tokens (classic and fine-grained)"),
 ("slack_webhook", r'(hooks\.slack\.com/services/)[A-Za-z0-9_/-]{10,}', "${1}[REDACTED:slack_token]",
  "Slack incoming-webhook secrets (the path after /services/)"),
 ("slack_token", r'\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-[0-9]-[A-Za-z0-9-]{10,}', "[REDACTED:slack_token]",
  "Slack tokens (xox?-, xapp-)"),
 ("stripe_key", r'\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|\bwhsec_[A-Za-z0-9]{20,}', "[REDACTED:stripe_key]",
  "Stripe secret and restricted keys and webhook secrets (publishable pk_ keys are public and stay)"),
 ("api_key", r'\bsk-[A-Za-z0-9_-]{20,}|\bAIza[0-9A-Za-z_-]{35}', "[REDACTED:api_key]",
  "OpenAI/Anthropic-style sk- keys (sk-proj-, sk-ant-, ...) and Google API keys"),
 ("iban", r'\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b', "[REDACTED:iban]",
  "IBANs, with or without spaces"),
 ("card", r'\b[2-6][0-9]{3}(?:[ -]?[0-9]){9,15}\b', "[REDACTED:card]",
  "payment card numbers, 13-19 digits starting 2-6, spaces or dashes allowed (no Luhn check here: fails closed)"),
 ("ssn", r'\b(?:00[1-9]|0[1-9][0-9]|[1-578][0-9]{2}|6[0-57-9][0-9]|66[0-57-9])[- ](?:0[1-9]|[1-9][0-9])[- ](?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})\b', "[REDACTED:ssn]",
  "US social security numbers with valid structure (area not 000/666/9xx, group not 00, serial not 0000)"),
 ("email", r'(^|[^/A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}', "${1}[REDACTED:email]",
  "email addresses, also URL-encoded (%40); not user@host right after scheme:// (URL userinfo)"),
 ("phone", r'(?:\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,7}|\([0-9]{3}\) ?[0-9]{3}[ .-]?[0-9]{4}|\b[0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4})\b', "[REDACTED:phone]",
  "phone numbers: international (+CC and any grouping), (NNN) NNN-NNNN, NNN-NNN-NNNN, NNN.NNN.NNNN, NNN NNN NNNN"),
]


def ottl(s: str) -> str:
    """Into an OTTL string literal inside a collector config ($ is escaped as $$)."""
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$")


def raw(s: str) -> str:
    """Into a YAML single-quoted string inside a collector config."""
    assert "'" not in s, s
    return s.replace("$", "$$")


def statements(target: str, indent: str) -> list[str]:
    out = []
    for cls, rx, rep, comment in PATTERNS:
        out.append(f"{indent}# {cls}: {comment}")
        out.append(f"{indent}- 'replace_all_patterns({target}, \"value\", \"{ottl(rx)}\", \"{ottl(rep)}\")'")
    return out


def blocked(indent: str) -> list[str]:
    out = []
    for cls, rx, _rep, _comment in PATTERNS:
        out.append(f"{indent}# {cls}")
        out.append(f"{indent}- '{raw(rx)}'")
    return out


SECTIONS = {
    "resource": lambda ind: statements("resource.attributes", ind),
    "span": lambda ind: statements("span.attributes", ind),
    "spanevent": lambda ind: statements("spanevent.attributes", ind),
    "blocked_values": blocked,
}


def render(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)# BEGIN generated by scripts/redaction-patterns.py \((\w+)\)", line)
        if not m:
            out.append(line)
            i += 1
            continue
        indent, name = m.group(1), m.group(2)
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == f"# END generated ({name})")
        out.append(line)
        out.extend(SECTIONS[name](indent))
        out.append(lines[end])
        i = end + 1
    return "\n".join(out)


def main() -> int:
    for cls, rx, _rep, _comment in PATTERNS:
        re.compile(rx)  # Python's re accepts every RE2 construct used here
    current = CONFIG.read_text()
    wanted = render(current)
    if "--check" in sys.argv:
        if current != wanted:
            print(f"{CONFIG} is out of date: run python3 scripts/redaction-patterns.py", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        CONFIG.write_text(wanted)
        print(f"rewrote {CONFIG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
