import { ConfigError, loadConfig, type Config } from './config.js';
import { loadSecretBox } from './platform/crypto/encryption-keys.js';
import { SecretKeyError } from './platform/crypto/secret-box.js';
import { connectDb } from './platform/db/connect.js';
import { resealStoredSecrets } from './secrets-at-rest.js';

/**
 * `npm run rekey`: re-encrypts every secret at rest under PARLEY_ENCRYPTION_KEY, opening the ones sealed before
 * with PARLEY_PREVIOUS_ENCRYPTION_KEY (or WEBUI_SECRET_KEY), and encrypts plain ones; one transaction, idempotent.
 * Keys come from the environment only, so they never show in the process list.
 */
async function rekey(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`rekey: ${error.message}\n`);
    return 2;
  }
  const secrets = await loadSecretBox(config);
  if (secrets.currentKeyId === undefined) {
    process.stderr.write('rekey: set PARLEY_ENCRYPTION_KEY (the new key) and PARLEY_PREVIOUS_ENCRYPTION_KEY (the old one, if any)\n');
    return 2;
  }
  const db = connectDb(config);
  try {
    const report = await resealStoredSecrets(db.kysely, secrets, Date.now());
    const source = config.PARLEY_ENCRYPTION_KEY ? 'PARLEY_ENCRYPTION_KEY' : 'WEBUI_SECRET_KEY';
    process.stdout.write(
      `connection API keys: ${report.connections.resealed} re-encrypted, ${report.connections.unchanged} already current or empty\n` +
        `stored secrets: ${report.config.resealed} re-encrypted, ${report.config.unchanged} already current\n` +
        `every secret at rest is now under key ${secrets.currentKeyId} (${source})\n`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof SecretKeyError)) throw error;
    process.stderr.write(`rekey: nothing changed: ${error.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

process.exitCode = await rekey();
