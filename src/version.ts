// Kept in step with package.json by test/unit/version.test.ts; a JSON import would pull
// package.json into both bundles and differs between ESM and CJS loaders.
export const PACKAGE_NAME = 'mcp-audit' as const;
export const PACKAGE_VERSION = '0.1.0' as const;
