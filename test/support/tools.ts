// Tests that need an external tool (the docker client with its compose plugin, promtool, a build)
// never skip silently. In CI (`CI` set to true/1) a missing tool is an error: `.ci/run` installs
// everything the suite needs, so a tool missing there is a broken CI setup and must fail the run.
// Elsewhere the test is skipped, and the skip says on stderr, loudly, what is missing and how to
// get it, besides the reason the test reporter prints.

/** True when running in CI, where nothing may be skipped for want of a tool. */
export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/**
 * `missing` is why the tool is unavailable (undefined/false when it is there). Returns the skip
 * reason outside CI (for `{ skip }` or `t.skip()`), throws in CI.
 */
export function skipUnlessAvailable(
  missing: string | undefined | false,
  install: string,
): string | undefined {
  if (!missing) return undefined;
  const reason = `${missing} (${install})`;
  if (IN_CI)
    throw new Error(`CI=${process.env.CI}: required tool missing, the test cannot be skipped: ${reason}`);
  process.stderr.write(`\n!!! SKIPPED (allowed outside CI only): ${reason}\n\n`);
  return reason;
}
