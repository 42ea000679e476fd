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

The provider token formats are not copied here: provider_patterns() reads PROVIDER_RULES
from src/redaction/providers.ts and translates each JS regex (lookbehinds become kept
groups, boundary lookaheads are dropped). The collector cannot normalise text as the
SDK does, so evasion forms (Unicode digits, NBSP, Unicode dashes, zero-width characters)
are matched by their shape (\\p{Nd}, \\p{Zs}, \\p{Pd}, \\p{Cf}): it fails closed and masks
some look-alikes. Python's re has no \\p{...}: python_re() spells the classes out for
the compile check.
"""
import re
import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "collector" / "config.yaml"


PROVIDERS_TS = CONFIG.parent.parent / "src" / "redaction" / "providers.ts"

# What a secret may carry so the collector's regexes still see its shape: any Unicode
# decimal digit, and between characters any run of spaces (NBSP, narrow NBSP, ...),
# dashes (en dash, fullwidth hyphen-minus, ...), dots, slashes, underscores, parentheses
# and zero-width/format characters (ZWSP, word joiner, soft hyphen: \p{Cf}).
DIGIT = r'\p{Nd}'
SEP = r'[\p{Zs}\p{Cf}\p{Pd}./_()]'
SEP_NO_DOT = r'[\p{Zs}\p{Cf}\p{Pd}/_()]'
CF = r'\p{Cf}*'
NOT_ALNUM = r'[^\p{L}\p{N}_]'


def tolerant(literal: str) -> str:
    """A literal prefix as written, in fullwidth forms, with format characters between."""
    parts = []
    for ch in literal:
        if ch.isalnum() and ch.isascii():
            parts.append(f"[{ch}{chr(ord(ch) + 0xFEE0)}]")
        else:
            parts.append(re.escape(ch))
    return CF.join(parts)


def _group_end(src: str, start: int) -> int:
    """Index just past the group opening at src[start] ('('), skipping escapes and classes."""
    depth, i, in_class = 0, start, False
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError(f"unbalanced group in {src}")


def provider_rule(source: str) -> tuple[str, list[str], list[str]]:
    """A JS provider regex as RE2: each lookbehind becomes a capture group kept before the
    mask (a negative one: a group of any other character, or the start), each positive
    lookahead one kept after it; a negative lookahead (the trailing boundary) is
    dropped (masking the front of a longer run still hides the secret). Returns the regex
    and the names of the groups to keep before and after the mask."""
    out, before, after, i = [], [], [], 0
    while i < len(source):
        if source[i] == "\\":
            out.append(source[i:i + 2])
            i += 2
            continue
        if source[i] == "[":
            j = i + 1
            while source[j] != "]" or source[j - 1] == "\\":
                j += 1
            out.append(source[i:j + 1])
            i = j + 1
            continue
        if source.startswith("(?<=", i) or source.startswith("(?<!", i) or source.startswith("(?=", i) or source.startswith("(?!", i):
            end = _group_end(source, i)
            head = 4 if source[i + 2] == "<" else 3
            body = source[i + head:end - 1]
            kind = source[i + 1:i + head]
            if kind == "?<!":
                assert re.fullmatch(r"\[[^\]]+\]", body), body
                group = f"(^|[^{body[1:-1]}])"
            elif kind == "?!":
                group = ""  # a trailing boundary: dropped, fail closed
            else:
                group = f"({provider_rule(body)[0]})"
            if group:
                (after if kind == "?=" else before).append(str(len(before) + len(after) + 1))
            out.append(group)
            i = end
            continue
        assert not (source[i] == "(" and not source.startswith("(?:", i)), f"capture group in {source}"
        out.append(source[i])
        i += 1
    return "".join(out), before, after


def provider_patterns() -> list[tuple[str, str, str, str]]:
    """PROVIDER_RULES of src/redaction/providers.ts, translated (one source of truth)."""
    text = PROVIDERS_TS.read_text()
    defs = dict(re.findall(r"^const (\w+) = '([^']*)';", text, re.M))
    rules = re.findall(r"\{ name: '(\w+)',.*?source: `((?:[^`\\]|\\.)*)` \},?$", text, re.M)
    assert len(rules) >= 60, f"parsed only {len(rules)} provider rules from {PROVIDERS_TS}"
    out = []
    for name, template in rules:
        # The leading boundary (a lookbehind) is dropped like the trailing one: kept as a group
        # it costs Go's regexp its literal-prefix scan, about 6 times the time of all 66 rules
        # without it (0.9 ms against 5.1 ms per KiB of attribute, measured); matching inside
        # a longer word only masks more.
        template = template.removeprefix("${B}")
        js = re.sub(r"\$\{(\w+)\}", lambda m: defs[m.group(1)], template).replace("\\\\", "\\")
        rx, before, after = provider_rule(js)
        # group numbers shift when a numbered group is renumbered left to right: recount
        groups = [m.start() for m in re.finditer(r"(?<!\\)\((?!\?)", rx)]
        assert len(groups) == len(before) + len(after), rx
        rep = "".join(f"${{{g}}}" for g in before) + f"[REDACTED:{name}]" + "".join(f"${{{g}}}" for g in after)
        out.append((name, rx, rep, f"provider token format, translated from src/redaction/providers.ts"))
    return out


# (class, RE2 regex, replacement, comment)
PATTERNS = [
 ("private_key", r'-----BEGIN [A-Z ]*PRIVATE KEY[A-Z ]*-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY[A-Z ]*-----|[A-Za-z0-9+/=\s\\]*)', "[REDACTED:private_key]",
  "PEM and PGP private keys; a truncated key (no END line) is masked to its end"),
 ("jwt", r'\beyJ[A-Za-z0-9_-]+\.(?:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|eyJ[A-Za-z0-9_-]+)', "[REDACTED:jwt]",
  "JWTs (base64url JSON header starting eyJ, payload, signature if any)"),
 ("bearer", r'(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}', "${1} [REDACTED:bearer]",
  "bearer/basic credentials in Authorization-style text; the scheme is kept"),
 ("password", r'\b([A-Za-z][A-Za-z0-9+.-]*://[^:/?#\s"@]+):[^@/\s"\[][^@/\s"]*@', "${1}:[REDACTED:password]@",
  "passwords in URLs and DSNs (scheme://user:PASSWORD@host); the user is kept"),
 ("secret", r'(?i)("[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|authorization|auth|cookie|credentials?|private[_-]?key|access[_-]?key)(?:[_.-][A-Za-z0-9_.-]*)?"\s*:\s*)("(?:[^"\\\[]|\\.)(?:[^"\\]|\\.)*"|[^,}\]\s"\[][^,}\]\s]*)', "${1}\"[REDACTED:secret]\"",
  "JSON values (string or scalar) under secret-like keys inside JSON string attributes, e.g. {\"password\":\"...\"}, {\"authToken\":\"...\"}, {\"x-api-key\":\"...\"}"),
 ("secret_kv", r'(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|auth|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|client[_-]?secret|aws_secret_access_key|authorization|cookie|set-cookie))(\s*[=:]\s*)([^\s&;,"}\[][^\s&;,"}]*)', "${1}${2}[REDACTED:secret]",
  "key=value and key: value pairs (query strings, connection strings, headers, env lines, .npmrc _authToken= and _auth=), under a key that is or ends with a secret word"),
 ("aws_access_key", r'\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b|(?:' + "|".join(
     tolerant(p) for p in ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA", "ASCA")
 ) + r')\p{Cf}*(?:[A-Z0-9\p{Nd}\x{FF21}-\x{FF3A}]\p{Cf}*){16}', "[REDACTED:aws_access_key]",
  "AWS access key ids; also with fullwidth letters or digits and zero-width characters inside"),
 ("aws_secret_key", r'(?i)(aws.{0,20}?(?:secret|key).{0,20}?[\s":=]+)[A-Za-z0-9/+=]{40}\b', "${1}[REDACTED:aws_secret_key]",
  "AWS secret access keys (40 base64 characters near 'aws ... secret/key')"),
 ("aws_secret_key_bare", r"(^|[^A-Za-z0-9/+=])(?:" + "|".join(
     # 40 characters whose first uppercase letter, / or + sits at position k
     (f"[a-z0-9]{{{k}}}" if k else "") + "[A-Z/+]" + (f"[A-Za-z0-9/+]{{{39 - k}}}" if k < 39 else "")
     for k in range(40)) + r")([^A-Za-z0-9/+=]|$)", "${1}[REDACTED:aws_secret_key]${2}",
  "bare AWS secret access keys: exactly 40 base64 characters with an uppercase letter, / or + (generated alternation: RE2 has no lookahead; git SHAs, lowercase hex, stay)"),
 ("github_token", r'\b(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9\p{Nd}\p{Cf}]{36,255}|github_pat_[A-Za-z0-9_\p{Nd}\p{Cf}]{22,255})', "[REDACTED:github_token]",
  "GitHub tokens (classic and fine-grained), Unicode digits and zero-width characters inside too; a longer run is masked at its front"),
 ("slack_webhook", r'(hooks\.slack\.com/services/)[A-Za-z0-9_/-]{10,}', "${1}[REDACTED:slack_token]",
  "Slack incoming-webhook secrets (the path after /services/)"),
 ("slack_token", r'\bxox[abposre]-[A-Za-z0-9\p{Cf}-]{10,}|\bxapp-[0-9]-[A-Za-z0-9\p{Cf}-]{10,}', "[REDACTED:slack_token]",
  "Slack tokens (xox?-, xapp-)"),
 ("stripe_key", r'\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9\p{Cf}]{10,}|\bwhsec_[A-Za-z0-9\p{Cf}]{20,}', "[REDACTED:stripe_key]",
  "Stripe secret and restricted keys and webhook secrets (publishable pk_ keys are public and stay)"),
 ("api_key", r'\bsk-[A-Za-z0-9_\p{Cf}-]{20,}|\bAIza[0-9A-Za-z_\p{Cf}-]{35}', "[REDACTED:api_key]",
  "OpenAI/Anthropic-style sk- keys (sk-proj-, sk-ant-, ...) and Google API keys, zero-width characters inside too"),
 *provider_patterns(),
 ("iban", r'\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b', "[REDACTED:iban]",
  "IBANs, with or without spaces"),
 ("card", rf'(^|[^\p{{L}}\p{{N}}_.])[1-6](?:(?:{SEP_NO_DOT}*[0-9]){{3}}(?:{SEP}*[0-9]){{9,15}}|[0-9]?(?:\.[0-9]{{1,2}}){{6,18}})\b', "${1}[REDACTED:card]",
  "payment card numbers, 13-19 digits starting 1-6 (1: UATP), any separators between digits, dots only after the first four digits or between groups of one or two digits (so IP addresses and decimals stay; no Luhn check here: fails closed)"),
 ("ssn", r'\b(?:00[1-9]|0[1-9][0-9]|[1-578][0-9]{2}|6[0-57-9][0-9]|66[0-57-9])[- ](?:0[1-9]|[1-9][0-9])[- ](?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})\b', "[REDACTED:ssn]",
  "US social security numbers with valid structure (area not 000/666/9xx, group not 00, serial not 0000)"),
 ("email", r'(^|[^/\p{L}\p{N}\p{Cf}._%+-])[\p{L}\p{N}\p{Cf}._%+-]+(?:@|%40|\x{FF20}|\x{FE6B})\p{Cf}*[\p{L}\p{N}\p{Cf}.-]+\.[\p{L}]{2,}', "${1}[REDACTED:email]",
  "email addresses, also URL-encoded (%40), with a fullwidth or small @, Unicode letters or zero-width characters; not user@host right after scheme:// (URL userinfo)"),
 ("phone", r'(?:\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,7}|\([0-9]{3}\)[ ./-]{0,3}[0-9]{3}[ ./-]{0,3}[0-9]{4}|\b[0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4}|\b0[1-9][0-9]{0,2}[ ./-][1-9][0-9]{5,7})\b', "[REDACTED:phone]",
  "phone numbers: international (+CC and any grouping), (NNN) NNN-NNNN, NNN-NNN-NNNN, NNN.NNN.NNNN, NNN NNN NNNN, national with a trunk 0 (09-7625400)"),
 ("iban_shape", f'(^|{NOT_ALNUM})(?:[A-Z]{{2}}{DIGIT}{{2}}(?:{SEP}*[A-Z{DIGIT}]{{4}}){{2,7}}(?:{SEP}*[A-Z{DIGIT}]{{1,4}})?|[a-z]{{2}}{DIGIT}{{2}}(?:{SEP}*[a-z{DIGIT}]{{4}}){{2,7}}(?:{SEP}*[a-z{DIGIT}]{{1,4}})?)', "${1}[REDACTED:iban]",
  "IBAN-shaped runs (upper or lower case) whose digits may be any Unicode digit, groups split by any separators (NBSP, dots, zero-width characters, ...)"),
 ("number_shape", f'(^|{NOT_ALNUM})(?:{DIGIT}{{3}}{SEP}+{DIGIT}{{2}}{SEP}+{DIGIT}{{4}}|{DIGIT}{{4}}(?:{SEP}+{DIGIT}{{4}}){{3}})({NOT_ALNUM}|$)'
  f'|(^|[^\p{{L}}\p{{N}}_.]){DIGIT}(?:{SEP_NO_DOT}*{DIGIT}){{8,}}({NOT_ALNUM}|$)', "${1}${3}[REDACTED:number]${2}${4}",
  "SSN-shaped (3-2-4) and card-shaped (4x4) digits split by any separators, and any run of 9 or more digits split by any separators but dots "
  "(any Unicode digit; spaces, NBSP, dashes, slashes, zero-width characters): evasion forms of cards, SSNs and phone numbers fail closed on their shape; "
  "IP addresses and decimals stay"),
]


# Evasion tolerance, applied to every pattern above (so each class is written once):
# the SDK matches a normalised view of the text; RE2 cannot normalise, so each pattern is
# rewritten to accept what normalisation would have folded, character by character:
# - any Unicode decimal digit where an ASCII digit may stand (\p{Nd}: fullwidth, Arabic-Indic, ...),
#   fullwidth letters where ASCII letters may stand, any Unicode space (\p{Zs}: NBSP, ...) where
#   a space may stand;
# - format characters (\p{Cf}: zero-width space and joiners, word joiner, soft hyphen, BOM)
#   after any character;
# - the percent-encoded form (%2F, %20, %40, ...) of each character that encodeURIComponent
#   encodes, where that character may stand.
# A leading \b becomes a kept group of one non-word character (RE2's \b is ASCII-only, so it
# would not see the start of a fullwidth token), a trailing \b is dropped (masking the front
# of a longer run still hides the secret). Fails closed: where the shape is ambiguous it masks.
URI_KEPT = set("-_.!~*'()")
BOUNDARY = r"(^|[^\p{L}\p{N}_])"
# Percent-encoded UTF-8 of the characters normalisation folds: format characters (ZWSP, ZWNJ,
# ZWJ, LRM, RLM, word joiner, BOM, soft hyphen), Unicode spaces (NBSP, U+2000-U+200A, narrow
# NBSP, ideographic space) and dashes (U+2010-U+2015, minus sign, fullwidth hyphen-minus).
# A percent sign, also encoded once or twice more (%25, %2525: text encoded two or three times).
PCT = "%(?:25){0,2}"
PCT_CF = rf"{PCT}E2{PCT}80{PCT}8[B-Fb-f]|{PCT}E2{PCT}81{PCT}A[0-4]|{PCT}EF{PCT}BB{PCT}BF|{PCT}C2{PCT}AD"
PCT_ZS = rf"{PCT}20|{PCT}C2{PCT}A0|{PCT}E2{PCT}80{PCT}8[0-9Aa]|{PCT}E2{PCT}80{PCT}AF|{PCT}E3{PCT}80{PCT}80"
PCT_PD = rf"{PCT}E2{PCT}80{PCT}9[0-5]|{PCT}E2{PCT}88{PCT}92|{PCT}EF{PCT}BC{PCT}8D"


def _pct(ch: str) -> str | None:
    """The percent-encoded form of an ASCII character as a regex (either hex case), if encoded."""
    if ch.isalnum() or ch in URI_KEPT or ch == "%" or ord(ch) > 0x7E:
        return None
    h = f"{ord(ch):02X}"
    return PCT + h[0] + (f"[{h[1]}{h[1].lower()}]" if h[1].isalpha() else h[1])


# The zero of each decimal digit set the normalised view folds most often (fullwidth,
# Arabic-Indic, extended Arabic-Indic, Devanagari, Bengali, Gurmukhi, Gujarati, Tamil, Telugu,
# Thai, Lao, Tibetan, Myanmar, Khmer, mathematical bold, double-struck, sans-serif, monospace).
DIGIT_ZEROS = (0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0BE6, 0x0C66, 0x0E50,
               0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6)


def _digits(a: str, b: str) -> str:
    """The ASCII digit range a-b in every digit set above (all of \\p{Nd} for 0-9)."""
    if (a, b) == ("0", "9"):
        return r"\p{Nd}"
    lo, hi = int(a), int(b)
    return "".join(f"\\x{{{z + lo:04X}}}" + (f"-\\x{{{z + hi:04X}}}" if hi > lo else "") for z in DIGIT_ZEROS)


def _widen(a: str, b: str) -> str:
    """What a class range a-b (or a single character, a == b) of ASCII letters or digits also
    admits: the same digits in other digit sets, the fullwidth forms for letters."""
    if a.isdigit() and b.isdigit():
        return _digits(a, b)
    if a.isascii() and a.isalpha() and b.isascii() and b.isalpha():
        fa, fb = ord(a) + 0xFEE0, ord(b) + 0xFEE0
        return f"\\x{{{fa:04X}}}" + (f"-\\x{{{fb:04X}}}" if fb != fa else "")
    return ""


def _class_atom(body: str) -> str:
    """A character class [body] widened by the rules above, as an atom. A negated class is
    widened the same way (so the forms a token may take also stop a run that must end before
    it) but gets no percent-encoded alternatives."""
    negated = body.startswith("^")
    core = body[1:] if negated else body
    extra, pct, i = [], [], 0
    while i < len(core):
        if core[i] == "\\":
            m = re.match(r"\\[px]\{[^}]*\}|\\x[0-9A-Fa-f]{2}|\\.", core[i:])
            tok = m.group(0)
            if tok == r"\s":
                extra.append(r"\p{Zs}")
                pct += [PCT_ZS, f"{PCT}0[9AaDd]"]
            elif tok == r"\d":
                extra.append(r"\p{Nd}")
            elif tok in (r"\p{Zs}", r"\p{Cf}", r"\p{Pd}"):
                pct.append({"Zs": PCT_ZS, "Cf": PCT_CF, "Pd": PCT_PD}[tok[3:5]])
            elif len(tok) == 2 and (p := _pct(tok[1])):
                pct.append(p)
            i += len(tok)
            continue
        if core[i + 1:i + 2] == "-" and i + 2 < len(core):
            extra.append(_widen(core[i], core[i + 2]))
            i += 3
            continue
        ch = core[i]
        if ch == " ":
            extra.append(r"\p{Zs}")
            pct.append(PCT_ZS)
        elif ch == "-":
            pct.append(PCT_PD)
        elif ch.isascii() and ch.isalnum():
            extra.append(_widen(ch, ch))
        if p := _pct(ch):
            pct.append(p)
        i += 1
    widened = "".join(e for e in dict.fromkeys(extra) if e and e not in core)
    cls = f"[{'^' if negated else ''}{widened}{core}]"
    return f"(?:{cls}|{'|'.join(dict.fromkeys(pct))})" if pct and not negated else cls


def _literal_atom(ch: str) -> str:
    if ch.isascii() and ch.isdigit():
        return f"[{ch}{_digits(ch, ch)}]"
    if ch == " ":
        return rf"(?:[ \p{{Zs}}\p{{Cf}}]|{PCT_ZS})"
    if ch == "-":
        return rf"(?:[-\p{{Pd}}]|{PCT_PD})"
    p = _pct(ch)
    esc = re.escape(ch) if not ch.isalnum() else ch
    return f"(?:{esc}|{p})" if p else esc


def evasive(rx: str, rep: str) -> tuple[str, str]:
    """The pattern and replacement rewritten for evasion forms (see above)."""
    out: list[str] = []
    groups: list[str] = []  # "old" for an original capture group, "new" for a boundary group
    i = 0
    at_start = True  # a position where a leading \b may stand
    while i < len(rx):
        c = rx[i]
        if rx.startswith("(?", i) and not rx.startswith("(?:", i):
            j = rx.index(")", i)
            out.append(rx[i:j + 1])  # a flag group such as (?i)
            i = j + 1
            continue
        if rx.startswith(r"\b", i) and at_start and i + 2 < len(rx) and rx[i + 2].isascii() and rx[i + 2].isalpha():
            out.append(r"\b")
            i += 2
            continue
        if c == "(":
            if not rx.startswith("(?:", i):
                groups.append("old")
                out.append("(")
                i += 1
            else:
                out.append("(?:")
                i += 3
            at_start = True
            continue
        if c == "|":
            out.append("|")
            i += 1
            at_start = True
            continue
        if c in ")^$":
            out.append(c)
            i += 1
            at_start = c == "^"
            continue
        quant = re.match(r"(?:[*+?]|\{\d+(?:,\d*)?\})\??", rx[i:])
        if quant:
            out.append(quant.group(0))
            i += len(quant.group(0))
            continue
        if rx.startswith(r"\b", i):
            # Before an ASCII letter \b stays (a token written in fullwidth letters is the
            # fullwidth rule's); before anything a digit set widens it becomes a kept group.
            if at_start and not (i + 2 < len(rx) and rx[i + 2].isascii() and rx[i + 2].isalpha()):
                groups.append("new")
                out.append(BOUNDARY)
            i += 2
            continue
        at_start = False
        if c == "[":
            j = i + 1
            if rx[j] == "^":
                j += 1
            if rx[j] == "]":
                j += 1
            while rx[j] != "]":
                j += 2 if rx[j] == "\\" else 1
            atom = _class_atom(rx[i + 1:j])
            i = j + 1
        elif c == "\\":
            m = re.match(r"\\[px]\{[^}]*\}|\\x[0-9A-Fa-f]{2}|\\.", rx[i:])
            tok = m.group(0)
            i += len(tok)
            if tok == r"\s":
                atom = rf"(?:[\s\p{{Zs}}\p{{Cf}}]|{PCT_ZS}|{PCT}0[9AaDd])"
            elif tok == r"\d":
                atom = r"\p{Nd}"
            elif len(tok) == 2 and not tok[1].isalnum():
                atom = _literal_atom(tok[1])
            else:
                atom = tok
        elif c == ".":
            atom = "."
            i += 1
        else:
            atom = _literal_atom(c)
            i += 1
        out.append(atom)
    numbers, old = {}, 0
    for n, kind in enumerate(groups, 1):
        if kind == "old":
            old += 1
            numbers[str(old)] = str(n)
    new_rep = re.sub(r"\$\{(\d+)\}", lambda m: "${" + numbers[m.group(1)] + "}", rep)
    lead = "".join(f"${{{n}}}" for n, kind in enumerate(groups, 1) if kind == "new")
    return "".join(out), lead + new_rep


# Token characters for the two shape rules below: ASCII and fullwidth letters and digits, any
# decimal digit, and the punctuation tokens are built from.
TOKEN = r"[A-Za-z0-9\x{FF10}-\x{FF19}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{FF20}\p{Nd}_+/=.~:%@#-]"
# Digit groups joined by separators on either side of such a run belong to it (a card or SSN
# whose other groups carry no invisible character).
DIGIT_GROUPS = r"(?:[\p{Zs}\p{Pd} ./_-]*[\p{Nd}\p{Cf}]+)"
FULLWIDTH_ALNUM = r"[\x{FF10}-\x{FF19}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}]"
SHAPE_RULES = [
 ("invisible", rf"(?:[\p{{Nd}}\p{{Cf}}]+[\p{{Zs}}\p{{Pd}} ./_-]+)*{TOKEN}*(?:(?:\p{{Cf}}|{PCT_CF})+{TOKEN}+)+{DIGIT_GROUPS}*", "[REDACTED:evasion]",
  "fails closed: a run of token characters with a format character (zero-width space or joiner, word joiner, soft hyphen, BOM; raw or percent-encoded) inside or in front is masked whole"),
 ("fullwidth", rf"{TOKEN}*(?:{FULLWIDTH_ALNUM}{TOKEN}*){{6,}}", "[REDACTED:evasion]",
  "fails closed: a run of token characters with six or more fullwidth letters or digits is masked whole"),
]

PRIVATE_KEY = (
    r"-----BEGIN(?:[ A-Z\x{FF21}-\x{FF3A}\p{Zs}\p{Cf}]|%20)*" + tolerant("PRIVATE") + r"(?:[ \p{Zs}\p{Cf}]|%20)*"
    + tolerant("KEY") + r"(?:[ A-Z\x{FF21}-\x{FF3A}\p{Zs}\p{Cf}]|%20)*-----"
    + r"(?:[\s\S]*?-----END[^-]*-----|[A-Za-z0-9+/=\s\\%\x{FF10}-\x{FF5A}\p{Nd}\p{Cf}]*)"
)
# The shape rules run first (after PEM blocks): a token split by an invisible character must be
# masked whole before a class pattern masks a piece of it and leaves the rest.
# The scheme word of a bearer/basic credential may carry invisible characters itself: that rule
# spells the words with them and runs before the shape rules, which would mask the word alone.
_CF = r"\p{Cf}*"
_bearer = next(p for p in PATTERNS if p[0] == "bearer")
BEARER = (
    "bearer",
    *evasive(_bearer[1].replace("(bearer|basic)", f"({_CF.join('bearer')}|{_CF.join('basic')})"), _bearer[2]),
    _bearer[3],
)
PATTERNS = (
    [(cls, PRIVATE_KEY, rep, comment) for cls, _rx, rep, comment in PATTERNS[:1]]
    + [BEARER]
    + SHAPE_RULES
    + [(cls, *evasive(rx, rep), comment) for cls, rx, rep, comment in PATTERNS[1:] if cls != "bearer"]
)


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


_CATEGORIES: dict[str, str] = {}


def _category(name: str) -> str:
    """A Unicode category as ranges for a Python character class (re has no \\p{...})."""
    if not _CATEGORIES:
        import unicodedata
        runs: dict[str, list[list[int]]] = {}
        for cp in range(0x110000):
            cat = unicodedata.category(chr(cp))
            for key in (cat, cat[0]):
                r = runs.setdefault(key, [])
                if r and r[-1][1] == cp - 1:
                    r[-1][1] = cp
                else:
                    r.append([cp, cp])
        for key, r in runs.items():
            _CATEGORIES[key] = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in r)
    return _CATEGORIES[name]


def python_re(rx: str) -> str:
    """The RE2 regex in Python re syntax (\\p{X} and \\x{H} spelt out) so re can check it."""
    out, i, in_class = [], 0, False
    while i < len(rx):
        m = re.match(r"\\p\{(\w+)\}|\\x\{([0-9A-Fa-f]+)\}", rx[i:])
        if m and m.group(1):
            ranges = _category(m.group(1))
            out.append(ranges if in_class else f"[{ranges}]")
        elif m:
            out.append(f"\\U{int(m.group(2), 16):08x}")
        elif rx[i] == "\\":
            out.append(rx[i:i + 2])
            i += 2
            continue
        else:
            if rx[i] == "[" and not in_class:
                in_class = True
            elif rx[i] == "]" and in_class and rx[i - 1] != "[" and rx[i - 2:i] != "[^":
                in_class = False
            out.append(rx[i])
            i += 1
            continue
        i += m.end()
    return "".join(out)


def main() -> int:
    for cls, rx, _rep, _comment in PATTERNS:
        re.compile(python_re(rx))  # Python's re accepts every RE2 construct used here
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
