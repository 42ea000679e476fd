// Verifying the bearer token an HTTP client sends, so that the proxy can name the caller. Only a
// token whose signature checks out against the configured key, whose algorithm is one that key
// allows (never `none`), which is within its validity window and addressed to the configured
// audience (and issuer, when set) yields an identity. Failures are reported by reason only: the
// token itself is never returned, logged or recorded.

import { createHmac, createPublicKey, timingSafeEqual, verify, constants, type KeyObject } from 'node:crypto';

export type JwtFailure =
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'no_subject';

export interface JwtIdentity {
  /** `sub`, else `client_id`. */
  id: string;
  /** `scope` (space-separated) or `scp`. */
  scopes?: string[];
}

export type JwtResult = { ok: true; identity: JwtIdentity } | { ok: false; reason: JwtFailure };

export interface JwtVerifierOptions {
  /** Shared secret for HS256/HS384/HS512. */
  secret?: Buffer;
  /** Public keys (JWK objects) for RS256/RS384/RS512/PS256/ES256/ES384. */
  jwks?: JsonWebKeyLike[];
  audience: string;
  issuer?: string;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. */
  leewaySeconds: number;
  now?: () => number;
}

export interface JsonWebKeyLike {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  [key: string]: unknown;
}

const HMAC: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const ASYMMETRIC: Record<string, { hash: string; kty: string; pss?: boolean; ec?: boolean }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', ec: true },
  ES384: { hash: 'sha384', kty: 'EC', ec: true },
};
const MAX_TOKEN_CHARS = 16 * 1024;

interface PublicKey {
  kid?: string;
  kty: string;
  alg?: string;
  key: KeyObject;
}

/** Reads a JWKS document (`{"keys": [...]}`) or a single JWK; throws with a readable message. */
export function parseJwks(text: string): JsonWebKeyLike[] {
  const doc = JSON.parse(text) as unknown;
  const keys = Array.isArray((doc as { keys?: unknown })?.keys) ? (doc as { keys: unknown[] }).keys : [doc];
  const usable = keys.filter(
    (k): k is JsonWebKeyLike =>
      typeof k === 'object' && k !== null && typeof (k as JsonWebKeyLike).kty === 'string',
  );
  if (usable.length === 0) throw new Error('no key with a "kty" in the JWKS');
  return usable;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export class JwtVerifier {
  private readonly keys: PublicKey[];

  constructor(private readonly options: JwtVerifierOptions) {
    this.keys = (options.jwks ?? [])
      .filter((jwk) => jwk.use === undefined || jwk.use === 'sig')
      .map((jwk) => ({
        kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
        kty: jwk.kty!,
        alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
        key: createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
      }));
    if (!options.secret && this.keys.length === 0) throw new Error('a JWT secret or a JWKS key is required');
  }

  verify(token: string): JwtResult {
    if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'malformed' };
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)))
      return { ok: false, reason: 'malformed' };
    const [headPart, bodyPart, signaturePart] = parts as [string, string, string];
    const header = decodeJson(headPart);
    const claims = decodeJson(bodyPart);
    if (!header || !claims) return { ok: false, reason: 'malformed' };
    const alg = typeof header.alg === 'string' ? header.alg : '';
    const signed = Buffer.from(`${headPart}.${bodyPart}`);
    const signature = Buffer.from(signaturePart, 'base64url');
    const checked = this.checkSignature(alg, header.kid, signed, signature);
    if (checked !== true) return { ok: false, reason: checked };
    return this.checkClaims(claims);
  }

  private checkSignature(alg: string, kid: unknown, signed: Buffer, signature: Buffer): true | JwtFailure {
    const hash = HMAC[alg];
    if (hash) {
      if (!this.options.secret) return 'algorithm_not_allowed';
      const expected = createHmac(hash, this.options.secret).update(signed).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature)
        ? true
        : 'bad_signature';
    }
    const scheme = ASYMMETRIC[alg];
    if (!scheme) return 'algorithm_not_allowed';
    const candidates = this.keys.filter(
      (k) =>
        k.kty === scheme.kty &&
        (k.alg === undefined || k.alg === alg) &&
        (typeof kid !== 'string' || k.kid === undefined || k.kid === kid),
    );
    if (candidates.length === 0) return this.keys.length === 0 ? 'algorithm_not_allowed' : 'unknown_key';
    for (const { key } of candidates) {
      try {
        const ok = verify(
          scheme.hash,
          signed,
          scheme.pss
            ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
            : scheme.ec
              ? { key, dsaEncoding: 'ieee-p1363' }
              : key,
          signature,
        );
        if (ok) return true;
      } catch {
        // a key of the wrong curve or size: try the next one
      }
    }
    return 'bad_signature';
  }

  private checkClaims(claims: Record<string, unknown>): JwtResult {
    const now = (this.options.now ?? (() => Date.now() / 1000))();
    const leeway = this.options.leewaySeconds;
    const { exp, nbf, aud, iss } = claims;
    if (exp !== undefined && (typeof exp !== 'number' || now - leeway >= exp))
      return { ok: false, reason: 'expired' };
    if (nbf !== undefined && (typeof nbf !== 'number' || now + leeway < nbf))
      return { ok: false, reason: 'not_yet_valid' };
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(this.options.audience)) return { ok: false, reason: 'wrong_audience' };
    if (this.options.issuer !== undefined && iss !== this.options.issuer)
      return { ok: false, reason: 'wrong_issuer' };
    const id = [claims.sub, claims.client_id].find((v): v is string => typeof v === 'string' && v.length > 0);
    if (!id) return { ok: false, reason: 'no_subject' };
    return { ok: true, identity: { id: id.slice(0, 256), scopes: scopesOf(claims) } };
  }
}

function scopesOf(claims: Record<string, unknown>): string[] | undefined {
  const { scope, scp } = claims;
  const list =
    typeof scope === 'string'
      ? scope.split(' ')
      : Array.isArray(scp)
        ? scp
        : typeof scp === 'string'
          ? scp.split(' ')
          : [];
  const scopes = list.filter((s): s is string => typeof s === 'string' && s.length > 0).slice(0, 32);
  return scopes.length ? scopes.map((s) => s.slice(0, 128)) : undefined;
}
