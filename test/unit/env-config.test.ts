import { apiConfigFromEnv } from '../../api/config';
import { ConfigError } from '../../common/env';
import { generateSecretsKey } from '../../common/secret-box';
import { describeDatabaseUrl } from '../../db/config';
import { orchestratorEnv } from '../../orchestrator/worker';
import { runnerConfigFromEnv } from '../../runner/config';

const failure = (parse: () => unknown): ConfigError => {
  try {
    parse();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('parsed');
};

/** The one variable without a default (common/secret-box.ts): every api and orchestrator environment below has it. */
const BENCHLINE_SECRETS_KEY = generateSecretsKey();

/** Every process's settings parsed at start: a bad value fails it with one line naming the variable. */
describe('configuration from the environment', () => {
  it('the api: defaults when unset, values parsed when set', () => {
    const config = apiConfigFromEnv({ BENCHLINE_SECRETS_KEY });
    expect(config.secretsKey).toEqual(Buffer.from(BENCHLINE_SECRETS_KEY, 'base64'));
    expect(config).toMatchObject({ port: 8080, trustProxy: false, databaseUrl: 'postgres://postgres@127.0.0.1:5432/benchline', metricsToken: undefined });
    expect(config.database).toEqual({ url: config.databaseUrl, startupWaitMs: 15000, migrateOnStart: false, slowQueryMs: 1000, breaker: { threshold: 5, cooldownMs: 2000 } });
    const set = apiConfigFromEnv({ BENCHLINE_SECRETS_KEY, BENCHLINE_API_PORT: '9000', BENCHLINE_TRUST_PROXY: 'true', BENCHLINE_SLOW_QUERY_MS: '0', BENCHLINE_ALLOWED_REGISTRIES: 'a, b,', BENCHLINE_METRICS_TOKEN: '' });
    expect(set).toMatchObject({ port: 9000, trustProxy: true, allowedRegistries: ['a', 'b'], metricsToken: undefined, database: { slowQueryMs: 0 } });
  });

  it('every bad variable is named in one line, with what was expected', () => {
    const err = failure(() => apiConfigFromEnv({ BENCHLINE_API_PORT: '80a', BENCHLINE_TRUST_PROXY: 'yes', BENCHLINE_DB_BREAKER_THRESHOLD: '0', TEMPORAL_ADDRESS: 'temporal' }));
    expect(err.message).not.toContain('\n');
    expect(err.exitCode).toBe(2);
    for (const part of ['BENCHLINE_API_PORT: expected a whole number from 0 to 65535, got "80a"', 'BENCHLINE_TRUST_PROXY: expected true, false, 1 or 0, got "yes"', 'BENCHLINE_DB_BREAKER_THRESHOLD:', 'TEMPORAL_ADDRESS: expected host:port']) {
      expect(err.message).toContain(part);
    }
  });

  it('the sealing key is required by the api and the orchestrator, and must be 32 bytes of base64 (never echoed)', () => {
    for (const parse of [apiConfigFromEnv, orchestratorEnv]) {
      expect(failure(() => parse({})).message).toMatch(/^invalid configuration: BENCHLINE_SECRETS_KEY: is required \(32 random bytes in base64/);
      const short = Buffer.from('sixteen-byte-key').toString('base64');
      const err = failure(() => parse({ BENCHLINE_SECRETS_KEY: short }));
      expect(err.message).toBe('invalid configuration: BENCHLINE_SECRETS_KEY: expected 32 bytes in base64 (openssl rand -base64 32), got 16 bytes');
      expect(err.message).not.toContain(short);
    }
  });

  it('a bad DATABASE_URL is named but never echoed (it may hold a password)', () => {
    const err = failure(() => apiConfigFromEnv({ DATABASE_URL: 'mysql://u:hunter2@db/x' }));
    expect(err.message).toContain('DATABASE_URL: expected postgres://');
    expect(err.message).not.toContain('hunter2');
    expect(describeDatabaseUrl('postgres://app:hunter2@db.internal:6432/bench')).toBe('app@db.internal:6432/bench');
  });

  it('the orchestrator and the runner parse theirs too', () => {
    expect(orchestratorEnv({ BENCHLINE_SECRETS_KEY })).toMatchObject({ namespace: 'default', dbOutageWindowSeconds: 300 });
    expect(failure(() => orchestratorEnv({ BENCHLINE_SECRETS_KEY, BENCHLINE_DB_OUTAGE_WINDOW_SECONDS: '900' })).message).toContain('BENCHLINE_DB_OUTAGE_WINDOW_SECONDS: expected a whole number from 1 to 600');
    expect(failure(() => runnerConfigFromEnv({ BENCHLINE_RUNNER: 'r' })).message).toBe('invalid configuration: BENCHLINE_RUNNER_TOKEN: is required');
    expect(runnerConfigFromEnv({ BENCHLINE_RUNNER: 'r', BENCHLINE_RUNNER_TOKEN: 't', BENCHLINE_EXECUTOR: 'sandbox' })).toMatchObject({ executor: 'sandbox', shutdownGraceSeconds: 300, pingIntervalMs: undefined });
    expect(failure(() => runnerConfigFromEnv({ BENCHLINE_RUNNER: 'r', BENCHLINE_RUNNER_TOKEN: 't', BENCHLINE_EXECUTOR: 'vm' })).message).toContain('BENCHLINE_EXECUTOR: expected one of microvm, sandbox, got "vm"');
    // The image cache's budget: 20 GiB unless set; a budget of nothing (or not a number) is a mistake, not "no cache".
    expect(runnerConfigFromEnv({ BENCHLINE_RUNNER: 'r', BENCHLINE_RUNNER_TOKEN: 't' }).imageCacheMaxBytes).toBe(20 * 1024 ** 3);
    expect(runnerConfigFromEnv({ BENCHLINE_RUNNER: 'r', BENCHLINE_RUNNER_TOKEN: 't', BENCHLINE_IMAGE_CACHE_MAX_BYTES: '5000000000' }).imageCacheMaxBytes).toBe(5e9);
    for (const bad of ['0', '20G', '-1']) {
      expect(failure(() => runnerConfigFromEnv({ BENCHLINE_RUNNER: 'r', BENCHLINE_RUNNER_TOKEN: 't', BENCHLINE_IMAGE_CACHE_MAX_BYTES: bad })).message).toContain(`BENCHLINE_IMAGE_CACHE_MAX_BYTES: expected a whole number of at least 1, got "${bad}"`);
    }
  });
});
