// Package regexguard tells, before a regular expression runs, that it cannot match a string.
//
// The redaction patterns of collector/config.yaml are large RE2 programs (Unicode classes,
// percent-encoded alternatives) that Go's regexp runs with its NFA, about 1 µs per pattern and
// attribute: with about 90 patterns over every string attribute, transform/redact and the
// redaction processor spent about 1 ms of CPU per span, almost all of it proving that nothing
// matched. A Guard holds necessary conditions derived from the pattern's syntax tree, checked
// against a one-pass summary of the string (Stats):
//   - the fewest runes a match can have;
//   - for a few fixed rune sets (decimal digits, format characters, fullwidth forms, ...), the
//     fewest runes of the set a match must contain, and the longest run of them it must contain;
//   - the literal substrings a match must contain (an AND/OR tree: "token" or "secret" or ...).
//
// Each condition is implied by any match, so a string that fails one cannot match: skipping the
// pattern for it changes no result. Anything the analysis does not understand counts as "may
// match" (the pattern then runs as before).
package regexguard

import (
	"regexp"
	"regexp/syntax"
	"sync"
	"unicode/utf8"
)

// Guard is the set of necessary conditions of one pattern.
type Guard struct {
	minRunes int
	counts   [numSets]int
	runs     [numSets]int
	literals requirement
	// always: nothing could be derived; MayMatch is always true.
	always bool
}

// built: guards by pattern text. The shipped config compiles each pattern four times (three
// transform contexts and the redaction processor); the analysis runs once per pattern.
var built sync.Map

// New derives the guard of a compiled pattern. A pattern it cannot parse gets a guard that
// always says "may match". Guards are immutable and shared.
func New(re *regexp.Regexp) *Guard {
	if g, ok := built.Load(re.String()); ok {
		return g.(*Guard)
	}
	g := derive(re)
	built.Store(re.String(), g)
	return g
}

func derive(re *regexp.Regexp) *Guard {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return &Guard{always: true}
	}
	shape := analyse(tree)
	g := &Guard{minRunes: shape.min, literals: literalsOf(tree)}
	for k := range numSets {
		g.counts[k] = shape.count[k]
		g.runs[k] = shape.run[k]
	}
	return g
}

// MayMatch is false only when no match of the pattern can be a substring of s (st = Measure(s)).
func (g *Guard) MayMatch(s string, st *Stats) bool {
	if g.always {
		return true
	}
	if st.runes < g.minRunes {
		return false
	}
	for k := range numSets {
		if st.count[k] < g.counts[k] || st.run[k] < g.runs[k] {
			return false
		}
	}
	return g.literals.holds(s, st)
}

// Stats summarises one string for every guard: its rune count, and per rune set how many of its
// runes are in the set and the longest run of consecutive runes in it.
type Stats struct {
	runes int
	count [numSets]int
	run   [numSets]int
	ascii bool
}

// Measure scans s once. Runes are decoded as regexp decodes them (an invalid byte is one
// utf8.RuneError), so the counts are those the pattern sees.
func Measure(s string) *Stats {
	st := &Stats{ascii: true}
	var cur [numSets]int
	for i := 0; i < len(s); {
		var member uint8
		if c := s[i]; c < utf8.RuneSelf {
			member = asciiMembers[c]
			i++
		} else {
			r, width := utf8.DecodeRuneInString(s[i:])
			member = membersOf(r)
			st.ascii = false
			i += width
		}
		st.runes++
		for k := range numSets {
			if member&(1<<k) != 0 {
				st.count[k]++
				cur[k]++
				if cur[k] > st.run[k] {
					st.run[k] = cur[k]
				}
			} else {
				cur[k] = 0
			}
		}
	}
	return st
}

// shape is what every match of a node has: its fewest runes and, per rune set, the fewest runes
// of the set (count) and the longest run of them it is sure to hold (run), with the run it is
// sure to start (pre) and end (suf) with; pure when every rune it can match is in the set.
type shape struct {
	min                  int
	count, pre, suf, run [numSets]int
	pure                 [numSets]bool
}

func zeroWidth() shape {
	var s shape
	for k := range numSets {
		s.pure[k] = true
	}
	return s
}

func analyse(re *syntax.Regexp) shape {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return zeroWidth()
	case syntax.OpLiteral:
		parts := make([]shape, len(re.Rune))
		for i, r := range re.Rune {
			parts[i] = oneRune(func(k int) bool { return runeInSet(r, re.Flags&syntax.FoldCase != 0, k) })
		}
		return concat(parts)
	case syntax.OpCharClass:
		return oneRune(func(k int) bool { return classInSet(re.Rune, k) })
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return oneRune(func(int) bool { return false })
	case syntax.OpCapture:
		return analyse(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest:
		return optional(analyse(re.Sub[0]))
	case syntax.OpPlus:
		return repeat(analyse(re.Sub[0]), 1)
	case syntax.OpRepeat:
		if re.Min == 0 {
			return optional(analyse(re.Sub[0]))
		}
		return repeat(analyse(re.Sub[0]), re.Min)
	case syntax.OpConcat:
		parts := make([]shape, len(re.Sub))
		for i, sub := range re.Sub {
			parts[i] = analyse(sub)
		}
		return concat(parts)
	case syntax.OpAlternate:
		out := analyse(re.Sub[0])
		for _, sub := range re.Sub[1:] {
			alt := analyse(sub)
			out.min = min(out.min, alt.min)
			for k := range numSets {
				out.count[k] = min(out.count[k], alt.count[k])
				out.pre[k] = min(out.pre[k], alt.pre[k])
				out.suf[k] = min(out.suf[k], alt.suf[k])
				out.run[k] = min(out.run[k], alt.run[k])
				out.pure[k] = out.pure[k] && alt.pure[k]
			}
		}
		return out
	}
	// OpNoMatch and anything unknown: no condition (a lower bound of zero is always true).
	return shape{}
}

func oneRune(in func(k int) bool) shape {
	s := shape{min: 1}
	for k := range numSets {
		if in(k) {
			s.count[k], s.pre[k], s.suf[k], s.run[k], s.pure[k] = 1, 1, 1, 1, true
		}
	}
	return s
}

// optional: matched zero or more times, so nothing is required; a pure node stays pure.
func optional(sub shape) shape {
	s := shape{}
	s.pure = sub.pure
	return s
}

func repeat(sub shape, times int) shape {
	s := shape{min: sub.min * times}
	for k := range numSets {
		s.count[k] = sub.count[k] * times
		if sub.pure[k] {
			n := sub.min * times
			s.pre[k], s.suf[k], s.run[k], s.pure[k] = n, n, n, true
			continue
		}
		s.pre[k], s.suf[k], s.run[k] = sub.pre[k], sub.suf[k], sub.run[k]
		if times >= 2 {
			s.run[k] = max(s.run[k], sub.suf[k]+sub.pre[k])
		}
	}
	return s
}

func concat(parts []shape) shape {
	s := zeroWidth()
	for _, p := range parts {
		s.min += p.min
	}
	for k := range numSets {
		// cur: the run that every match is sure to have just before the next part.
		cur, leading := 0, true
		for _, p := range parts {
			s.count[k] += p.count[k]
			if p.pure[k] {
				cur += p.min
				if leading {
					s.pre[k] += p.min
				}
				continue
			}
			if leading {
				s.pre[k] += p.pre[k]
				leading = false
			}
			s.run[k] = max(s.run[k], cur+p.pre[k], p.run[k])
			cur = p.suf[k]
			s.pure[k] = false
		}
		s.run[k] = max(s.run[k], cur)
		s.suf[k] = cur
	}
	return s
}
