// Key names that make a value sensitive whatever it looks like (`password`, `apiKey`, …), and
// the weaker names under which only a random-looking value is masked.

/** Case- and separator-insensitive form: `API-Key`, `apiKey`, `X_API_KEY` → `apikey`, `xapikey`. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

// prettier-ignore
const SENSITIVE_EXACT = new Set([
  'pass', 'pwd', 'auth', 'token', 'secret', 'jwt', 'bearer', 'otp', 'totp', 'sig', 'ssn', 'cvv',
  'cvc', 'cvv2',
]);
// prettier-ignore
const SENSITIVE_PARTS = [
  'password', 'passwd', 'passphrase', 'secret', 'apikey', 'privatekey', 'credential',
  'authorization', 'cookie', 'accesskey', 'signingkey', 'encryptionkey', 'masterkey', 'signature',
  'socialsecurity', 'cardnumber', 'creditcard', 'accesstoken', 'refreshtoken', 'sessiontoken',
  'accountkey', 'appkey', 'applicationkey', 'webhookurl', 'connectionstring',
];
// Suffix rather than substring so `max_tokens`, `token_count`, `tokenizer`, `author` stay visible.
const SENSITIVE_SUFFIXES = ['token', 'pwd', 'auth'];
// Names that only hint at a secret: a value under them is masked when it looks random.
const HINT_SUFFIXES = ['key', 'keys', 'dsn', 'sas', 'salt', 'hmac', 'sid', 'pat'];
const HINT_PARTS = ['license', 'webhook', 'apiid', 'clientid', 'credentials'];

export function isBuiltinSensitiveKey(normalized: string): boolean {
  if (SENSITIVE_EXACT.has(normalized)) return true;
  for (const p of SENSITIVE_PARTS) if (normalized.includes(p)) return true;
  for (const s of SENSITIVE_SUFFIXES) if (normalized.endsWith(s)) return true;
  return false;
}

/** A key name that suggests a secret without proving one (`license_key`, `sentry_dsn`). */
export function isHintKey(normalized: string): boolean {
  for (const s of HINT_SUFFIXES) if (normalized.endsWith(s)) return true;
  for (const p of HINT_PARTS) if (normalized.includes(p)) return true;
  return false;
}

/** Keys whose inline value runs to the end of the line (`Authorization: Basic abc…`). */
export function isHeaderLikeKey(normalized: string): boolean {
  return normalized.includes('authorization') || normalized.includes('cookie');
}
