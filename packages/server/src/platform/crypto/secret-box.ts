import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from 'node:crypto';

/**
 * Secrets at rest (upstream API keys, the stored token-signing secret) are kept as
 * `enc:v1:<key id>:<base64url(iv | ciphertext | tag)>`: AES-256-GCM with a random 96-bit IV per value and the
 * place the value belongs to (e.g. `connections.api_key:<id>`) as additional authenticated data, so a sealed
 * value copied into another row does not open. A value without the prefix is a plain (legacy) one.
 */
const envelopePrefix = 'enc:v1:';
const ivBytes = 12;
const tagBytes = 16;

// A fixed salt: every instance must derive the same key from the same passphrase without storing anything.
const scryptSalt = 'parley secrets at rest v1';
// 32 MiB and about 50-100 ms, paid once per key per process.
const scryptOptions = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** Thrown when a stored secret cannot be opened: no key, an unknown key, or a value that fails authentication. */
export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

/** An AES-256 key and the short id stored beside every value sealed with it. */
export interface EncryptionKey {
  /** 8 hex characters naming the key (an HMAC of it: reveals nothing about it). */
  readonly id: string;
  readonly key: Buffer;
  /** The variable it came from, for error messages. */
  readonly source: string;
}

const derived = new Map<string, Promise<Buffer>>();

/** Stretches any passphrase (or 32 random bytes in base64) into an AES-256 key with scrypt; cached per process. */
export async function deriveEncryptionKey(material: string, source: string): Promise<EncryptionKey> {
  let pending = derived.get(material);
  if (!pending) {
    pending = new Promise<Buffer>((resolve, reject) =>
      scrypt(material, scryptSalt, 32, scryptOptions, (error, key) => (error ? reject(error) : resolve(key))),
    );
    derived.set(material, pending);
  }
  const key = await pending;
  return { id: createHmac('sha256', key).update('parley key id').digest('hex').slice(0, 8), key, source };
}

/** Whether a stored value is sealed (as opposed to a plain legacy value or the empty "no secret"). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(envelopePrefix);
}

/** The id of the key that sealed a stored value, if it is sealed. */
function keyIdOf(stored: string): string | undefined {
  if (!isSealed(stored)) return undefined;
  const end = stored.indexOf(':', envelopePrefix.length);
  return end < 0 ? undefined : stored.slice(envelopePrefix.length, end);
}

/**
 * Seals and opens secrets at rest. Writes use the current key (or stay plain without one); reads accept the
 * current key and any earlier ones handed in, so values can be moved to a new key while instances keep reading.
 */
export class SecretBox {
  private readonly readers: Map<string, EncryptionKey>;

  constructor(
    private readonly current: EncryptionKey | undefined,
    earlier: readonly EncryptionKey[] = [],
  ) {
    this.readers = new Map([...earlier, ...(current ? [current] : [])].map((key) => [key.id, key]));
  }

  /** The id of the key new values are sealed with; undefined when secrets are stored as they are. */
  get currentKeyId(): string | undefined {
    return this.current?.id;
  }

  /** The value as stored: sealed under the current key, or unchanged without one. The empty string stays empty. */
  seal(plain: string, context: string): string {
    if (!this.current || plain === '') return plain;
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv).setAAD(Buffer.from(context, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${envelopePrefix}${this.current.id}:${sealed.toString('base64url')}`;
  }

  /** The plain value of a stored one (plain legacy values pass through); throws SecretKeyError when it cannot. */
  open(stored: string, context: string): string {
    if (!isSealed(stored)) return stored;
    const keyId = keyIdOf(stored);
    const key = keyId === undefined ? undefined : this.readers.get(keyId);
    if (!key) {
      throw new SecretKeyError(
        this.readers.size === 0
          ? `${context} is encrypted (key ${keyId ?? '?'}) but no encryption key is configured: set PARLEY_ENCRYPTION_KEY (or WEBUI_SECRET_KEY) to the key it was encrypted with`
          : `${context} is encrypted with key ${keyId ?? '?'}, but the configured keys are ${this.describeKeys()}: set PARLEY_ENCRYPTION_KEY (or PARLEY_PREVIOUS_ENCRYPTION_KEY) to the key it was encrypted with`,
      );
    }
    const bytes = Buffer.from(stored.slice(envelopePrefix.length + key.id.length + 1), 'base64url');
    if (bytes.length < ivBytes + tagBytes) throw new SecretKeyError(`${context} is damaged: too short to be an encrypted value`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, bytes.subarray(0, ivBytes)).setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
      return Buffer.concat([decipher.update(bytes.subarray(ivBytes, bytes.length - tagBytes)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError(`${context} does not decrypt with key ${key.id} (${key.source}): the value is damaged or was moved from another row`);
    }
  }

  /** The value re-sealed under the current key (opened with whichever key sealed it), or undefined when it already is. */
  reseal(stored: string, context: string): string | undefined {
    if (stored === '') return undefined;
    const keyId = keyIdOf(stored);
    if (keyId === undefined ? !this.current : keyId === this.current?.id) {
      // Already where it belongs; a sealed value is still opened, so a damaged one is found now rather than later.
      if (keyId !== undefined) this.open(stored, context);
      return undefined;
    }
    return this.seal(this.open(stored, context), context);
  }

  private describeKeys(): string {
    return [...this.readers.values()].map((key) => `${key.id} (${key.source})`).join(', ');
  }
}

/** How many stored secrets a pass moved to the current key, and how many were already there (or empty). */
export interface ResealCounts {
  resealed: number;
  unchanged: number;
}
