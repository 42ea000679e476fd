// Method wrapping with the markers shimmer (and so every OpenTelemetry instrumentation) uses:
// `__wrapped`, `__original`, `__unwrap` on the wrapper. Another instrumentation that checks
// `isWrapped` on a method we wrapped, or unwraps it, sees what it would see after its own wrap.

type Method = (...args: never[]) => unknown;

/** True when `fn` is a wrapper made by this module or by shimmer. */
export function isWrapped(fn: unknown): boolean {
  const f = fn as { __original?: unknown; __unwrap?: unknown; __wrapped?: unknown } | undefined;
  return (
    typeof fn === 'function' &&
    typeof f!.__original === 'function' &&
    typeof f!.__unwrap === 'function' &&
    f!.__wrapped === true
  );
}

function define(target: object, name: PropertyKey, value: unknown): void {
  const enumerable =
    Boolean((target as Record<PropertyKey, unknown>)[name]) &&
    Object.prototype.propertyIsEnumerable.call(target, name);
  Object.defineProperty(target, name, { configurable: true, enumerable, writable: true, value });
}

/** Replaces `target[name]` by `wrapper(original)`, marked so it can be recognised and undone. */
export function wrap<T extends object, K extends keyof T>(
  target: T,
  name: K,
  wrapper: (original: T[K]) => T[K],
): void {
  const original = target[name];
  if (typeof original !== 'function') return;
  const wrapped = wrapper(original) as unknown as Method;
  if (typeof wrapped !== 'function') return;
  define(wrapped, '__original', original);
  define(wrapped, '__unwrap', () => {
    if (target[name] === (wrapped as unknown)) define(target, name, original);
  });
  define(wrapped, '__wrapped', true);
  define(target, name, wrapped);
}

/** Puts back the original of a wrapper made by `wrap` (or shimmer); anything else is left alone. */
export function unwrap<T extends object>(target: T, name: keyof T): void {
  const wrapped = target[name] as { __unwrap?: () => void } | undefined;
  if (isWrapped(wrapped)) wrapped!.__unwrap!();
}
