package regexguard

import (
	"sort"
	"unicode"
)

// The rune sets the guards count. Each is chosen so that a class the redaction patterns use is a
// subset of it (a pattern then requires its runes), while ordinary text holds few of them or only
// short runs: digits (number shapes), format characters or '%' (zero-width evasion, raw or
// percent-encoded), fullwidth forms, anything non-ASCII or '%', token characters (key and token
// bodies, percent-encoded forms included), '@' and its look-alikes or '%' (e-mail), '"' or '%'
// (JSON keys).
const (
	setDigit = iota
	setFormatOrPercent
	setFullwidth
	setNonASCIIOrPercent
	setToken
	setAtOrPercent
	setQuoteOrPercent
	numSets
)

type runeRange struct{ lo, hi rune }

// sets[k] is sorted, non-overlapping and merged (adjacent ranges joined).
var sets [numSets][]runeRange

// asciiMembers[c] has bit k set when c is in sets[k].
var asciiMembers [utf8RuneSelf]uint8

const utf8RuneSelf = 0x80

func init() {
	chars := func(s string) []runeRange {
		var out []runeRange
		for _, r := range s {
			out = append(out, runeRange{r, r})
		}
		return out
	}
	fullwidth := []runeRange{{0xFF10, 0xFF19}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}}
	sets[setDigit] = merge(table(unicode.Nd))
	sets[setFormatOrPercent] = merge(append(table(unicode.Cf), chars("%")...))
	sets[setFullwidth] = merge(fullwidth)
	sets[setNonASCIIOrPercent] = merge(append([]runeRange{{0x80, unicode.MaxRune}}, chars("%")...))
	token := append(table(unicode.L), table(unicode.N)...)
	token = append(token, table(unicode.Cf)...)
	token = append(token, table(unicode.Pd)...)
	token = append(token, chars("_+/=.~%")...)
	sets[setToken] = merge(token)
	sets[setAtOrPercent] = merge(chars("@\uFF20\uFE6B%"))
	sets[setQuoteOrPercent] = merge(chars("\"%"))
	for c := rune(0); c < utf8RuneSelf; c++ {
		asciiMembers[c] = membersOf(c)
	}
}

func table(t *unicode.RangeTable) []runeRange {
	var out []runeRange
	for _, r := range t.R16 {
		for lo := rune(r.Lo); lo <= rune(r.Hi); lo += rune(r.Stride) {
			if r.Stride == 1 {
				out = append(out, runeRange{lo, rune(r.Hi)})
				break
			}
			out = append(out, runeRange{lo, lo})
		}
	}
	for _, r := range t.R32 {
		for lo := rune(r.Lo); lo <= rune(r.Hi); lo += rune(r.Stride) {
			if r.Stride == 1 {
				out = append(out, runeRange{lo, rune(r.Hi)})
				break
			}
			out = append(out, runeRange{lo, lo})
		}
	}
	return out
}

func merge(in []runeRange) []runeRange {
	sort.Slice(in, func(a, b int) bool { return in[a].lo < in[b].lo })
	var out []runeRange
	for _, r := range in {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// covering returns the range of sets[k] that holds r, or false.
func covering(r rune, k int) (runeRange, bool) {
	ranges := sets[k]
	i := sort.Search(len(ranges), func(i int) bool { return ranges[i].hi >= r })
	if i < len(ranges) && ranges[i].lo <= r {
		return ranges[i], true
	}
	return runeRange{}, false
}

func membersOf(r rune) uint8 {
	var m uint8
	for k := range numSets {
		if _, ok := covering(r, k); ok {
			m |= 1 << k
		}
	}
	return m
}

// runeInSet: a literal rune, with every case variant when the pattern folds case.
func runeInSet(r rune, fold bool, k int) bool {
	if _, ok := covering(r, k); !ok {
		return false
	}
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if _, ok := covering(f, k); !ok {
				return false
			}
		}
	}
	return true
}

// classInSet: every range of a parsed character class (lo, hi pairs) lies inside sets[k].
func classInSet(class []rune, k int) bool {
	if len(class) == 0 {
		return false
	}
	for i := 0; i+1 < len(class); i += 2 {
		got, ok := covering(class[i], k)
		if !ok || got.hi < class[i+1] {
			return false
		}
	}
	return true
}
