package regexguard

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// requirement is a condition on the literal substrings of any match: always true, a literal
// (lowered when it matches case-insensitively), or all / any of several requirements.
type requirement struct {
	kind    requirementKind
	literal string
	fold    bool
	subs    []requirement
}

type requirementKind uint8

const (
	always requirementKind = iota
	literal
	allOf
	anyOf
)

func (q requirement) holds(s string, st *Stats) bool {
	switch q.kind {
	case literal:
		if !q.fold {
			return strings.Contains(s, q.literal)
		}
		// Case-insensitive: exact for ASCII text. Non-ASCII text may hold a fold of an ASCII
		// letter (the Kelvin sign for k, the long s for s) that lowering would miss.
		if !st.ascii {
			return true
		}
		return containsFoldASCII(s, q.literal)
	case allOf:
		for _, sub := range q.subs {
			if !sub.holds(s, st) {
				return false
			}
		}
		return true
	case anyOf:
		for _, sub := range q.subs {
			if sub.holds(s, st) {
				return true
			}
		}
		return false
	}
	return true
}

// literalsOf: what every match of re must contain.
func literalsOf(re *syntax.Regexp) requirement {
	switch re.Op {
	case syntax.OpLiteral:
		return literalRequirement(re.Rune, re.Flags&syntax.FoldCase != 0)
	case syntax.OpCharClass:
		if r, fold, ok := singleRune(re.Rune); ok {
			return literalRequirement([]rune{r}, fold)
		}
	case syntax.OpCapture, syntax.OpPlus:
		return literalsOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min > 0 {
			return literalsOf(re.Sub[0])
		}
	case syntax.OpConcat:
		return concatLiterals(re.Sub)
	case syntax.OpAlternate:
		var subs []requirement
		for _, sub := range re.Sub {
			q := literalsOf(sub)
			if q.kind == always {
				return requirement{}
			}
			subs = append(subs, q)
		}
		return requirement{kind: anyOf, subs: subs}
	}
	return requirement{}
}

// concatLiterals joins the literals of adjacent literal and one-rune class nodes (they match
// exactly one string each, so together they are one contiguous literal).
func concatLiterals(parts []*syntax.Regexp) requirement {
	var subs []requirement
	var run []rune
	runFold := false
	flush := func() {
		if len(run) > 0 {
			if q := literalRequirement(run, runFold); q.kind != always {
				subs = append(subs, q)
			}
			run = nil
		}
	}
	for _, p := range parts {
		var runes []rune
		fold, exact := false, false
		switch p.Op {
		case syntax.OpLiteral:
			runes, fold, exact = p.Rune, p.Flags&syntax.FoldCase != 0, true
		case syntax.OpCharClass:
			if r, f, ok := singleRune(p.Rune); ok {
				runes, fold, exact = []rune{r}, f, true
			}
		}
		if exact {
			if len(run) > 0 && fold != runFold {
				flush()
			}
			run, runFold = append(run, runes...), fold
			continue
		}
		flush()
		if q := literalsOf(p); q.kind != always {
			subs = append(subs, q)
		}
	}
	flush()
	switch len(subs) {
	case 0:
		return requirement{}
	case 1:
		return subs[0]
	}
	return requirement{kind: allOf, subs: subs}
}

// literalRequirement: a case-insensitive literal is kept only when it is ASCII (lowered), where
// holds() can check it exactly; otherwise no requirement.
func literalRequirement(runes []rune, fold bool) requirement {
	if len(runes) == 0 {
		return requirement{}
	}
	s := string(runes)
	if !fold {
		if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
			return requirement{}
		}
		return requirement{kind: literal, literal: s}
	}
	for _, r := range runes {
		if r >= utf8.RuneSelf {
			return requirement{}
		}
	}
	return requirement{kind: literal, literal: strings.ToLower(s), fold: true}
}

// singleRune: a class of one rune, or of an ASCII letter in both cases (a case-insensitive one).
func singleRune(class []rune) (rune, bool, bool) {
	switch {
	case len(class) == 2 && class[0] == class[1]:
		return class[0], false, true
	case len(class) == 4 && class[0] == class[1] && class[2] == class[3] &&
		class[0] < utf8.RuneSelf && class[2] < utf8.RuneSelf &&
		unicode.IsLetter(class[0]) && unicode.SimpleFold(class[0]) == class[2]:
		return unicode.ToLower(class[0]), true, true
	}
	return 0, false, false
}

// containsFoldASCII: s (ASCII) holds lit (ASCII, lowered) in any letter case.
func containsFoldASCII(s, lit string) bool {
	if len(lit) > len(s) {
		return false
	}
	first := lit[0]
	for i := 0; i+len(lit) <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		j := 1
		for j < len(lit) && lowerASCII(s[i+j]) == lit[j] {
			j++
		}
		if j == len(lit) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
