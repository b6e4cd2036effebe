/**
 * The one way Benchline connects to a host a user named (registries, the token services they name,
 * webhooks): http(s) only; the name resolved once, every address it resolves to checked, and the
 * connection pinned to the checked address (so a second lookup cannot rebind it to 169.254.169.254);
 * no redirects (a caller that must follow some checks every hop); a deadline; bounded reads. Errors say what was refused, never what answered.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Transform, type Readable } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { envBool, envList } from '../common/env';
import { DeadlinePassed, within } from '../common/within';

/** Cloud metadata services: refused even in development, where private networks are allowed. */
const METADATA = ['169.254.169.254', 'fd00:ec2::254'];
/** Ranges a development server may reach (its registry on loopback or the LAN); see ipaddr.js's range names. */
const DEVELOPMENT_RANGES = new Set(['loopback', 'private', 'uniqueLocal']);
/** Public IPv6 is global unicast (2000::/3); anything outside it (e.g. IPv4-compatible ::7f00:1) is not. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

const DEFAULT_TIMEOUT_MS = 15000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

export interface OutboundPolicy {
  /** Loopback and private addresses allowed: development servers and tests only. */
  allowPrivateNetworks: boolean;
  /**
   * host[:port] entries the operator runs itself (BENCHLINE_OWN_REGISTRY, e.g. `registry:5000` on a
   * compose network): private addresses allowed for exactly these; metadata addresses never.
   */
  ownHosts?: string[];
  /**
   * host[:port] of registries spoken to over plain HTTP (BENCHLINE_INSECURE_REGISTRIES); loopback
   * registries always are.
   */
  insecureRegistries?: string[];
  /** Name → addresses; the system resolver unless a test injects one. */
  resolve?: (host: string) => Promise<string[]>;
}

/** Read once at process start and passed down; BENCHLINE_ALLOW_PRIVATE_NETWORKS=1 is for development. */
export function outboundPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): OutboundPolicy {
  return {
    allowPrivateNetworks: env.BENCHLINE_ALLOW_PRIVATE_NETWORKS === '1' || env.BENCHLINE_ALLOW_PRIVATE_NETWORKS === 'true',
    ownHosts: ownRegistriesFromEnv(env),
    insecureRegistries: hostList(env.BENCHLINE_INSECURE_REGISTRIES),
  };
}

/** The variables outboundPolicyFromEnv reads, for a process's parseEnv: a typo fails the start. */
export const outboundEnv = { BENCHLINE_ALLOW_PRIVATE_NETWORKS: envBool(), BENCHLINE_OWN_REGISTRY: envList(), BENCHLINE_INSECURE_REGISTRIES: envList() };

/** BENCHLINE_OWN_REGISTRY: the registries (host[:port], comma-separated) the server runs itself. */
export function ownRegistriesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return hostList(env.BENCHLINE_OWN_REGISTRY);
}

function hostList(setting: string | undefined): string[] {
  return (setting ?? '').split(',').map((r) => r.trim()).filter(Boolean);
}

export type OutboundFailure = 'refused' | 'unreachable' | 'redirect' | 'too-large';

/**
 * A connection the guard refused or that failed. The message names only the host the user gave;
 * `detail` (resolved address, socket error, status) is for logs, never for users.
 */
export class OutboundError extends Error {
  constructor(
    readonly failure: OutboundFailure,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export interface CheckedTarget {
  host: string;
  port: number;
  /** The address the connection must go to: the one that was checked (the first the name resolved to). */
  address: string;
  family: 4 | 6;
  /** Every address the name resolved to, all checked: a connection may fall back among these only. */
  all: { address: string; family: 4 | 6 }[];
}

export interface GuardedRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole exchange, from the name lookup to the last byte (default 15 s). */
  timeoutMs?: number;
  /** The response body is cut off (an error) past this many bytes (default 1 MiB). */
  maxBytes?: number;
  /** 'error' (the default): a 3xx is an OutboundError. 'manual': it is returned, for a caller that checks each hop. */
  redirect?: 'error' | 'manual';
}

export interface GuardedResponse {
  status: number;
  /** Response header, case-insensitive; the first value of a repeated one. */
  header(name: string): string | undefined;
  body: Buffer;
}

export interface GuardedStream extends Omit<GuardedResponse, 'body'> {
  /** Errors only with OutboundErrors (too-large, unreachable: timed out or cut off). */
  body: Readable;
}

/** Why an address may not be connected to under `policy`; undefined when it may. */
export function refusalReason(address: string, policy: Pick<OutboundPolicy, 'allowPrivateNetworks'>): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let parsed = ipaddr.parse(address);
  // ::ffff:a.b.c.d reaches a.b.c.d: judge it as that.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const normalized = parsed.toNormalizedString();
  if (METADATA.some((m) => ipaddr.parse(m).toNormalizedString() === normalized)) return 'metadata';
  const range = parsed.range();
  if (range === 'unicast') {
    if (parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return 'reserved';
    return undefined;
  }
  if (policy.allowPrivateNetworks && DEVELOPMENT_RANGES.has(range)) return undefined;
  return range;
}

/**
 * Builds the guard for one process from its policy. Every connection goes through `stream` (or
 * `fetch`); `checkTarget` is the check they make first, public for a caller that must connect by
 * other means (it must then connect to the returned address only).
 */
export class OutboundGuard {
  constructor(private readonly policy: OutboundPolicy) {}

  /** Whether `registry` (host[:port]) is spoken to over plain HTTP: a loopback one, or one the policy lists. */
  isInsecureRegistry(registry: string): boolean {
    const host = registry.replace(/:\d+$/, '');
    if (host === 'localhost' || host === '127.0.0.1' || host === '[::1]') return true;
    return (this.policy.insecureRegistries ?? []).includes(registry);
  }

  /**
   * Resolves `host` once and checks every address it resolves to; the first is the one to use. The
   * lookup gets at most `timeoutMs`: the system resolver is otherwise bounded only by resolv.conf.
   */
  async checkTarget(host: string, port: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CheckedTarget> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    let addresses: string[];
    if (isIP(bare)) addresses = [bare];
    else {
      try {
        // A system lookup past its deadline still runs to its end in libuv's thread pool
        // (getaddrinfo cannot be cancelled); only its answer is dropped.
        addresses = await within((this.policy.resolve ?? systemResolve)(bare), timeoutMs, 'the lookup');
      } catch (err) {
        if (err instanceof DeadlinePassed) throw new OutboundError('unreachable', `${host} could not be resolved in time`, err.message);
        throw new OutboundError('unreachable', `${host} could not be resolved`, (err as Error).message);
      }
      if (addresses.length === 0) throw new OutboundError('unreachable', `${host} could not be resolved`);
    }
    const own = this.policy.ownHosts ?? [];
    const allowPrivateNetworks = this.policy.allowPrivateNetworks || own.includes(host) || own.includes(`${host}:${port}`);
    // All of them: a name that also resolves to a private address is refused, whichever one a connection would pick.
    for (const address of addresses) {
      const reason = refusalReason(address, { allowPrivateNetworks });
      if (reason) throw new OutboundError('refused', `${host} is not an allowed destination (it resolves to a private or reserved address)`, `${address}: ${reason}`);
    }
    const all = addresses.map((address) => ({ address, family: isIP(address) === 6 ? (6 as const) : (4 as const) }));
    return { host: bare, port, ...all[0], all };
  }

  /** One request, pinned to the checked address, its body read whole (bounded by `maxBytes`). */
  async fetch(url: string | URL, request: GuardedRequest = {}): Promise<GuardedResponse> {
    const { body, ...response } = await this.stream(url, request);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return { ...response, body: Buffer.concat(chunks) };
  }

  /**
   * One request, pinned to the checked address, its body streamed (bounded by `maxBytes`, within the
   * deadline). A 3xx is an error unless `redirect: 'manual'`: then the caller gets it (its body
   * dropped) and must put any hop it follows through the guard again.
   */
  async stream(url: string | URL, request: GuardedRequest = {}): Promise<GuardedStream> {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new OutboundError('refused', `only http and https URLs are allowed, not ${target.protocol}`);
    }
    const port = target.port ? Number(target.port) : target.protocol === 'https:' ? 443 : 80;
    // One deadline for the whole exchange, the lookup included: the request gets what the lookup left.
    const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = performance.now();
    const checked = await this.checkTarget(target.hostname, port, timeoutMs);
    const response = await open(target, checked, { ...request, timeoutMs: Math.max(1, timeoutMs - (performance.now() - started)) });
    if (response.status >= 300 && response.status < 400) {
      response.body.destroy();
      if (request.redirect === 'manual') return response;
      throw new OutboundError('redirect', `${target.host} answered with a redirect, which is not followed`, `HTTP ${response.status}`);
    }
    return response;
  }
}

/** A `lookup` for node's http/net that never looks the name up again: it answers with the checked addresses. */
export function pinnedLookup(checked: CheckedTarget): LookupFunction {
  return (_hostname, options, callback) => {
    // `all` is asked for when node tries addresses in turn (autoSelectFamily).
    if (options.all) (callback as unknown as (err: null, addresses: { address: string; family: number }[]) => void)(null, checked.all);
    else callback(null, checked.address, checked.family);
  };
}

async function systemResolve(host: string): Promise<string[]> {
  return (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/**
 * One request to the checked address; resolves once the response headers are in, with a body whose
 * reads are bounded and whose errors are all OutboundErrors. The deadline covers the whole exchange,
 * to the body's last byte.
 */
function open(url: URL, checked: CheckedTarget, request: GuardedRequest): Promise<GuardedStream> {
  const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
  const unreachable = (detail: string) => new OutboundError('unreachable', `${url.host} could not be reached`, detail);
  return new Promise((resolve, reject) => {
    let body: Transform | undefined;
    const fail = (err: Error) => {
      clearTimeout(deadline);
      req.destroy();
      const error = err instanceof OutboundError ? err : unreachable(err.message);
      if (body) body.destroy(error);
      else reject(error);
    };
    const req = (url.protocol === 'https:' ? https : http).request({
      host: checked.host,
      port: checked.port,
      path: `${url.pathname}${url.search}`,
      method: request.method ?? 'GET',
      headers: request.headers,
      lookup: pinnedLookup(checked),
      // No pooled sockets: each request is checked and pinned on its own.
      agent: false,
    });
    const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = setTimeout(() => fail(unreachable(`timed out after ${Math.round(timeoutMs)} ms`)), timeoutMs);
    req.on('error', fail);
    req.on('response', (res) => {
      let size = 0;
      body = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > maxBytes) fail(new OutboundError('too-large', `${url.host} sent a response larger than ${maxBytes} bytes`));
          else callback(null, chunk);
        },
      });
      // The body may fail before the caller starts reading it: the error is kept (`errored`) and
      // reaches the reader then, so it must not count as unhandled now.
      body.on('error', () => undefined);
      // However the body ends (read to the end, cut off, or dropped by the caller), the deadline and socket go with it.
      body.on('close', () => {
        clearTimeout(deadline);
        req.destroy();
      });
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(unreachable('connection closed before the response was complete'));
      });
      res.pipe(body);
      resolve({
        status: res.statusCode ?? 0,
        header: (name) => {
          const value = res.headers[name.toLowerCase()];
          return Array.isArray(value) ? value[0] : value;
        },
        body,
      });
    });
    req.end(request.body);
  });
}
