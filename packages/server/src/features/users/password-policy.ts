import type { Config } from '../../config.js';
import { httpErrors } from '../../http/errors.js';

/** Describes Open WebUI's default pattern, for when no PASSWORD_VALIDATION_HINT is set. */
const defaultHint = 'The password must have a lower-case and an upper-case letter, a digit and a symbol.';

/**
 * Open WebUI's optional password rule: with ENABLE_PASSWORD_VALIDATION, a new password must match
 * PASSWORD_VALIDATION_REGEX_PATTERN from its start (Python's `re.match`; the sticky flag does the
 * same here). The length rule in `passwordSchema` applies either way.
 */
export function createPasswordPolicy(config: Pick<Config, 'ENABLE_PASSWORD_VALIDATION' | 'PASSWORD_VALIDATION_REGEX_PATTERN' | 'PASSWORD_VALIDATION_HINT'>) {
  const pattern = config.ENABLE_PASSWORD_VALIDATION ? new RegExp(config.PASSWORD_VALIDATION_REGEX_PATTERN, 'uy') : null;
  const hint = config.PASSWORD_VALIDATION_HINT ?? defaultHint;
  return {
    /** Throws a 400 when `password` does not follow the configured pattern. */
    check(password: string): void {
      if (!pattern) return;
      pattern.lastIndex = 0;
      if (!pattern.test(password)) throw httpErrors.badRequest(`The password does not meet the requirements. ${hint}`);
    },
  };
}

export type PasswordPolicy = ReturnType<typeof createPasswordPolicy>;
