import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { deriveEncryptionKey, SecretBox, type EncryptionKey } from './secret-box.js';

type KeySettings = Pick<Config, 'PARLEY_ENCRYPTION_KEY' | 'PARLEY_PREVIOUS_ENCRYPTION_KEY' | 'WEBUI_SECRET_KEY'>;

/**
 * The box for secrets at rest, from the environment: sealed under PARLEY_ENCRYPTION_KEY, else under a key derived
 * from WEBUI_SECRET_KEY, else stored as they are. PARLEY_PREVIOUS_ENCRYPTION_KEY (and WEBUI_SECRET_KEY when it is
 * not the current key) still open values sealed before, so moving to a new key needs no downtime.
 */
export async function loadSecretBox(config: KeySettings): Promise<SecretBox> {
  const fromWebuiSecret = config.WEBUI_SECRET_KEY ? await deriveEncryptionKey(config.WEBUI_SECRET_KEY, 'WEBUI_SECRET_KEY') : undefined;
  const current = config.PARLEY_ENCRYPTION_KEY ? await deriveEncryptionKey(config.PARLEY_ENCRYPTION_KEY, 'PARLEY_ENCRYPTION_KEY') : fromWebuiSecret;
  const earlier: EncryptionKey[] = [];
  if (config.PARLEY_PREVIOUS_ENCRYPTION_KEY) earlier.push(await deriveEncryptionKey(config.PARLEY_PREVIOUS_ENCRYPTION_KEY, 'PARLEY_PREVIOUS_ENCRYPTION_KEY'));
  if (fromWebuiSecret && fromWebuiSecret !== current) earlier.push(fromWebuiSecret);
  return new SecretBox(current, earlier);
}

/** Start-up warnings about where secrets live: unencrypted in the database, and the signing secret kept only there. */
export function warnAboutSecretsAtRest(config: KeySettings, box: SecretBox, log: Logger): void {
  if (box.currentKeyId === undefined) {
    log.warn('secrets are stored unencrypted: upstream API keys (and the token-signing secret) are plain text in the database; set PARLEY_ENCRYPTION_KEY');
  } else {
    log.info({ keyId: box.currentKeyId, source: config.PARLEY_ENCRYPTION_KEY ? 'PARLEY_ENCRYPTION_KEY' : 'WEBUI_SECRET_KEY' }, 'secrets at rest are encrypted');
  }
  if (!config.WEBUI_SECRET_KEY) {
    const how = box.currentKeyId === undefined ? 'in plain text: a copy of the database is enough to sign sessions' : 'encrypted';
    log.warn(`WEBUI_SECRET_KEY is not set: the token-signing secret lives only in the database (${how}); set WEBUI_SECRET_KEY to keep it in the environment`);
  }
}
