package regexguard

import (
	"encoding/json"
	"math/rand"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"
)

// The patterns of collector/config.yaml: the redaction processor's blocked_values (the same
// regexes transform/redact applies), plus the other literal patterns of replace_all_patterns.
func configPatterns(t *testing.T) []*regexp.Regexp {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// `$$` is the collector's escape for `$`.
	retrieved, err := confmap.NewRetrievedFromYAML([]byte(strings.ReplaceAll(string(raw), "$$", "$")))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := retrieved.AsConf()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []*regexp.Regexp
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, regexp.MustCompile(p))
		}
	}
	for _, p := range conf.Get("processors::redaction::blocked_values").([]any) {
		add(p.(string))
	}
	statement := regexp.MustCompile(`^replace_all_patterns\([^,]+, "value", "((?:[^"\\]|\\.)*)"`)
	for _, group := range conf.Get("processors::transform/redact::trace_statements").([]any) {
		for _, s := range group.(map[string]any)["statements"].([]any) {
			if m := statement.FindStringSubmatch(s.(string)); m != nil {
				var p string
				if err := json.Unmarshal([]byte(`"`+m[1]+`"`), &p); err != nil {
					t.Fatalf("pattern of %q: %v", s, err)
				}
				add(p)
			}
		}
	}
	if len(out) < 80 {
		t.Fatalf("only %d patterns read from config.yaml", len(out))
	}
	return out
}

// Every string leaf of the repository's redaction fixtures (corpora, regressions).
func fixtureStrings(t *testing.T) []string {
	t.Helper()
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, name := range []string{"secrets-corpus.json", "independent-corpus.json", "redaction-regressions.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "test", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		walk(v)
	}
	if len(out) < 100 {
		t.Fatalf("only %d fixture strings", len(out))
	}
	return out
}

// Forms a secret takes to slip past a pattern: the ones the patterns are written to catch.
func variants(s string) []string {
	fullwidth := strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f {
			return r + 0xFEE0
		}
		return r
	}, s)
	zeroWidth := strings.Join(strings.Split(s, ""), "\u200b")
	arabicDigits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + 0x0660
		}
		return r
	}, s)
	kelvin := strings.NewReplacer("k", "\u212a", "K", "\u212a", "s", "\u017f").Replace(s)
	return []string{
		s, strings.ToUpper(s), strings.ToLower(s), fullwidth, zeroWidth, arabicDigits, kelvin,
		url.QueryEscape(s), url.QueryEscape(url.QueryEscape(s)), url.PathEscape(s),
		`{"password":"` + s + `"}`, "token=" + s, "Authorization: Bearer " + s,
		"call me at " + s + " today", strings.ReplaceAll(s, " ", "\u00a0"), strings.ReplaceAll(s, "-", "\u2013"),
	}
}

// The property: a guard that says "cannot match" is never wrong.
func check(t *testing.T, patterns []*regexp.Regexp, guards []*Guard, s string) (skipped int) {
	st := Measure(s)
	for i, re := range patterns {
		if guards[i].MayMatch(s, st) {
			continue
		}
		skipped++
		if re.MatchString(s) {
			t.Fatalf("guard of pattern %d says no match, but %q matches %s", i, s, re)
		}
	}
	return skipped
}

func TestGuardsNeverSkipAMatch(t *testing.T) {
	patterns := configPatterns(t)
	guards := make([]*Guard, len(patterns))
	for i, re := range patterns {
		guards[i] = New(re)
	}
	checked, skipped, matched := 0, 0, 0
	for n, s := range fixtureStrings(t) {
		for _, v := range variants(s) {
			skipped += check(t, patterns, guards, v)
			checked++
		}
		// That the corpus exercises the patterns at all (its plain strings).
		if n < 300 {
			for _, re := range patterns {
				if re.MatchString(s) {
					matched++
				}
			}
		}
	}
	// Random text over an alphabet of what the patterns look for (fixed seed).
	alphabet := []rune("aAzZkKsS09 -_./:=@%\"'{}[]+~#,;()\t\n" +
		"\u00a0\u200b\u200d\u2060\u00ad\ufeff\u2013\u2212\uff0d\uff10\uff19\uff21\uff3a\uff41\uff5a\uff20\ufe6b" +
		"\u0660\u0669\u0966\u212a\u017f\ufffd")
	words := []string{"password", "secret", "token", "bearer ", "Basic ", "api_key", "AKIA", "ghp_", "sk-", "eyJ",
		"xoxb-", "-----BEGIN PRIVATE KEY-----", "%22", "%3A", "%40", "%E2%80%8B", "://", "aws_secret_access_key=",
		"4111", "555-", "+1 ", "DE89", "glpat-", "npm_", "hf_", "\xff", "\xc3"}
	rng := rand.New(rand.NewSource(12))
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for length := rng.Intn(60); length > 0; length-- {
			if rng.Intn(6) == 0 {
				b.WriteString(words[rng.Intn(len(words))])
			} else if rng.Intn(3) == 0 {
				b.WriteByte(byte('0' + rng.Intn(10)))
			} else {
				b.WriteRune(alphabet[rng.Intn(len(alphabet))])
			}
		}
		skipped += check(t, patterns, guards, b.String())
		checked++
	}
	t.Logf("%d strings × %d patterns: %d pattern runs skipped, %d matches (none skipped)", checked, len(patterns), skipped, matched)
	if skipped == 0 || matched == 0 {
		t.Fatalf("the property checked nothing: %d skipped, %d matched", skipped, matched)
	}
}

// Ordinary attribute values skip most patterns (what the guard is for).
func TestGuardsSkipOrdinaryValues(t *testing.T) {
	patterns := configPatterns(t)
	values := []string{"tools/call db_query", "execute_tool", "db_query", "pipe", "user:sarah", "mcp-db-prod-01",
		`{"sql":"SELECT name, email FROM customers WHERE email = '[REDACTED:email]' AND note = 'call [REDACTED:phone]'"}`,
		"content: 1 text (48000 chars); text json: 240 rows"}
	runs := 0
	for _, v := range values {
		st := Measure(v)
		for _, re := range patterns {
			if New(re).MayMatch(v, st) {
				runs++
			}
		}
	}
	if total := len(values) * len(patterns); runs*4 > total {
		t.Fatalf("%d of %d pattern runs left on ordinary values; expected under a quarter", runs, total)
	}
}
