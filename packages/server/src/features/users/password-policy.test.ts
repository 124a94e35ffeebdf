import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';
import { HttpError } from '../../http/errors.js';
import { createPasswordPolicy } from './password-policy.js';
import { passwordSchema } from './users.schema.js';

const refuses = (policy: ReturnType<typeof createPasswordPolicy>, password: string) => {
  try {
    policy.check(password);
    return false;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(400);
    return true;
  }
};

describe('password rules', () => {
  it('always need 10 characters that are not all spaces, and at most 256', () => {
    expect(passwordSchema.safeParse('123456789').success).toBe(false);
    expect(passwordSchema.safeParse(' '.repeat(10)).success).toBe(false);
    expect(passwordSchema.safeParse('\t\n\u3000'.repeat(4)).success).toBe(false);
    expect(passwordSchema.safeParse('  spaced out  ').success).toBe(true);
    expect(passwordSchema.safeParse('x'.repeat(257)).success).toBe(false);
  });

  it("check nothing more while ENABLE_PASSWORD_VALIDATION is off (Open WebUI's default)", () => {
    const policy = createPasswordPolicy(loadConfig({}));
    expect(refuses(policy, 'only lower case')).toBe(false);
  });

  it("use Open WebUI's default pattern: lower, upper, digit and symbol", () => {
    const policy = createPasswordPolicy(loadConfig({ ENABLE_PASSWORD_VALIDATION: 'true' }));
    expect(refuses(policy, 'Abcdefgh1!')).toBe(false);
    for (const weak of ['abcdefgh1!', 'ABCDEFGH1!', 'Abcdefghi!', 'Abcdefgh12', 'Ab1! ']) expect(refuses(policy, weak)).toBe(true);
  });

  it('match a custom pattern from the start, like re.match, whatever was matched before', () => {
    const policy = createPasswordPolicy(loadConfig({ ENABLE_PASSWORD_VALIDATION: 'true', PASSWORD_VALIDATION_REGEX_PATTERN: '[a-z]+\\d' }));
    expect(refuses(policy, 'abc1 and more')).toBe(false);
    expect(refuses(policy, 'abc1 and more')).toBe(false);
    expect(refuses(policy, '!abc1')).toBe(true);
  });

  it('refuse to start with a pattern that does not compile', () => {
    expect(() => loadConfig({ PASSWORD_VALIDATION_REGEX_PATTERN: '(unclosed' })).toThrow(ConfigError);
    expect(() => loadConfig({ PASSWORD_VALIDATION_REGEX_PATTERN: '(unclosed' })).toThrow(/PASSWORD_VALIDATION_REGEX_PATTERN/);
  });
});
