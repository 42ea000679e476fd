// Package guardedottl is the distribution's replace_all_patterns for the span and span event
// contexts of the transform processor: the same function, arguments and results as the standard
// one (pkg/ottl/ottlfuncs), with a regexguard check before each value's match, so that a pattern
// runs only on values it could match. transform/redact applies about 90 patterns to every string
// attribute; without the guard that was about 1 ms of CPU per span.
package guardedottl

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sync"
	"unsafe"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlspan"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlspanevent"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/processor"

	"github.com/mcp-audit/mcp-audit/collector/otelcol-mcp/regexguard"
)

// NewFactory: collector-contrib's transform processor (same type, config and behaviour) whose
// replace_all_patterns is guarded in the span and span event contexts. The resource context
// keeps the stock function (the transform processor takes no function list for it; it runs
// once per resource, not per span).
func NewFactory() processor.Factory {
	return transformprocessor.NewFactoryWithOptions(
		transformprocessor.WithSpanFunctions(SpanFunctions()),
		transformprocessor.WithSpanEventFunctions(SpanEventFunctions()),
	)
}

// SpanFunctions: the transform processor's own span functions, replace_all_patterns guarded.
func SpanFunctions() []ottl.Factory[*ottlspan.TransformContext] {
	return withGuard(stockFunctions[*ottlspan.TransformContext]("spanFunctions"))
}

// SpanEventFunctions: the transform processor's own span event functions, replace_all_patterns
// guarded.
func SpanEventFunctions() []ottl.Factory[*ottlspanevent.TransformContext] {
	return withGuard(stockFunctions[*ottlspanevent.TransformContext]("spanEventFunctions"))
}

// stockFunctions reads the function map that the stock transform factory puts in its default
// config (an unexported field: transformprocessor.WithSpanFunctions replaces the whole map, and
// part of it, set_semconv_span_name, is internal to that module). Panics at start-up if the
// field is not there, rather than run with a different function set.
func stockFunctions[K any](field string) map[string]ottl.Factory[K] {
	cfg := reflect.ValueOf(transformprocessor.NewFactory().CreateDefaultConfig()).Elem()
	v := cfg.FieldByName(field)
	if !v.IsValid() {
		panic("guardedottl: transformprocessor.Config has no field " + field)
	}
	m, ok := reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem().Interface().(map[string]ottl.Factory[K])
	if !ok || m["replace_all_patterns"] == nil {
		panic("guardedottl: transformprocessor.Config." + field + " is not the expected function map")
	}
	return m
}

func withGuard[K any](stock map[string]ottl.Factory[K]) []ottl.Factory[K] {
	out := make([]ottl.Factory[K], 0, len(stock))
	for name, f := range stock {
		if name != "replace_all_patterns" {
			out = append(out, f)
		}
	}
	return append(out, NewReplaceAllPatternsFactory[K]())
}

// NewReplaceAllPatternsFactory: replace_all_patterns(target, mode, pattern, replacement,
// function?, format?), guarded when the pattern is a literal and no function is given (every
// other form is handed to the standard implementation unchanged).
func NewReplaceAllPatternsFactory[K any]() ottl.Factory[K] {
	standard := ottlfuncs.NewReplaceAllPatternsFactory[K]()
	return ottl.NewFactory("replace_all_patterns", &ottlfuncs.ReplaceAllPatternsArguments[K]{},
		func(fCtx ottl.FunctionContext, oArgs ottl.Arguments) (ottl.ExprFunc[K], error) {
			args, ok := oArgs.(*ottlfuncs.ReplaceAllPatternsArguments[K])
			if !ok {
				return nil, errors.New("ReplaceAllPatternsFactory args must be of type *ReplaceAllPatternsArguments[K]")
			}
			pattern, isLiteral := ottl.GetLiteralValue(args.RegexPattern)
			if !isLiteral || args.Mode != "value" || !args.Function.IsEmpty() || !args.ReplacementFormat.IsEmpty() {
				return standard.CreateFunction(fCtx, oArgs)
			}
			re, err := regexp.Compile(pattern)
			if err != nil {
				return nil, fmt.Errorf("the regex pattern supplied to replace_all_patterns '%q' is not a valid pattern: %w", pattern, err)
			}
			return guarded(args.Target, re, regexguard.New(re), args.Replacement), nil
		})
}

func guarded[K any](target ottl.PMapGetSetter[K], re *regexp.Regexp, guard *regexguard.Guard, replacement ottl.StringGetter[K]) ottl.ExprFunc[K] {
	return func(ctx context.Context, tCtx K) (any, error) {
		val, err := target.Get(ctx, tCtx)
		if err != nil {
			return nil, err
		}
		replacementVal, err := replacement.Get(ctx, tCtx)
		if err != nil {
			return nil, err
		}
		for _, value := range val.All() {
			if value.Type() != pcommon.ValueTypeStr {
				continue
			}
			s := value.Str()
			if !guard.MayMatch(s, stats(s)) || !re.MatchString(s) {
				continue
			}
			value.SetStr(re.ReplaceAllString(s, replacementVal))
		}
		return nil, target.Set(ctx, tCtx, val)
	}
}

// The statements of a context run one after another over the same attribute values, so the
// summary of a value is kept for the next pattern: a small direct-mapped cache keyed by the
// string's address and length. An entry holds the string itself, so the memory cannot be
// reused for another string while the entry lives (same address and length: same bytes).
// Only strings up to cachedMaxBytes are kept (at most cacheEntries of them pinned).
const (
	cacheEntries   = 1024
	cachedMaxBytes = 16 << 10
)

type cacheEntry struct {
	s  string
	st *regexguard.Stats
}

var (
	cacheMu sync.Mutex
	cache   [cacheEntries]cacheEntry
)

func stats(s string) *regexguard.Stats {
	if len(s) == 0 || len(s) > cachedMaxBytes {
		return regexguard.Measure(s)
	}
	ptr := unsafe.StringData(s)
	slot := (uintptr(unsafe.Pointer(ptr))>>3 ^ uintptr(len(s))) % cacheEntries
	cacheMu.Lock()
	e := cache[slot]
	cacheMu.Unlock()
	if len(e.s) == len(s) && unsafe.StringData(e.s) == ptr {
		return e.st
	}
	st := regexguard.Measure(s)
	cacheMu.Lock()
	cache[slot] = cacheEntry{s: s, st: st}
	cacheMu.Unlock()
	return st
}
