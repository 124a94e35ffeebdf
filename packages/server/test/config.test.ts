import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, durationToMs, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has defaults that need no other service', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.database).toEqual({ dialect: 'sqlite', file: path.resolve('./data/parley.db') });
    expect(config.DEFAULT_USER_ROLE).toBe('pending');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("splits Open WebUI's ;-separated lists", () => {
    const config = loadConfig({
      OPENAI_API_BASE_URLS: 'http://a.example/v1;http://b.example/v1',
      OPENAI_API_KEYS: 'sk-a;',
      OLLAMA_BASE_URLS: 'http://ollama:11434',
    });
    expect(config.OPENAI_API_BASE_URLS).toEqual(['http://a.example/v1', 'http://b.example/v1']);
    expect(config.OPENAI_API_KEYS).toEqual(['sk-a', '']);
    expect(config.OLLAMA_BASE_URLS).toEqual(['http://ollama:11434']);
  });

  it('reads PostgreSQL and SQLite URLs', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).database).toEqual({ dialect: 'postgres', url: 'postgres://u@h/db' });
    expect(loadConfig({ DATABASE_URL: 'sqlite:///tmp/x.db' }).database).toEqual({ dialect: 'sqlite', file: '/tmp/x.db' });
  });

  it('lists every bad variable at once', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'eighty', DEFAULT_USER_ROLE: 'admin', ENABLE_SIGNUP: 'maybe', OLLAMA_BASE_URLS: 'not a url', JWT_EXPIRES_IN: 'forever' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DEFAULT_USER_ROLE', 'ENABLE_SIGNUP', 'OLLAMA_BASE_URLS', 'JWT_EXPIRES_IN']) expect(problems).toContain(name);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });

  it('reads TRUST_PROXY as true/false, a hop count or addresses and CIDR ranges, and refuses anything else', () => {
    const trust = (value: string) => loadConfig({ TRUST_PROXY: value }).TRUST_PROXY;
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(trust('true')).toBe(true);
    expect(trust('FALSE')).toBe(false);
    expect(trust('1')).toBe(1);
    expect(trust('2')).toBe(2);
    expect(trust('0')).toBe(false);
    expect(trust('10.0.0.0/8, 127.0.0.1 ,fd00::/8,::1,loopback')).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00::/8', '::1', 'loopback']);
    for (const bad of ['yes', '1.5', '-1', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/1', '300.1.1.1', 'nginx', '10.0.0.1,', '10.0.0.0/255.0.0.0']) {
      expect(() => trust(bad), bad).toThrow(/TRUST_PROXY/);
    }
  });

  it('converts token lifetimes', () => {
    expect(durationToMs('-1')).toBeNull();
    expect(durationToMs('30m')).toBe(30 * 60_000);
    expect(durationToMs('7d')).toBe(7 * 86_400_000);
  });

  it('documents every variable in the README configuration table', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const missing = Object.keys(configSchema.shape).filter((name) => !readme.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
  });
});
