import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { fieldError } from '../../lib/errors.js';

// The SSRF guard: a webhook target must be a public http(s) address. Checked when a subscription is
// written (a literal private address or a name resolving to one is refused) and again on every
// connection (the resolved address is checked by the lookup the request itself uses), so a name
// that later resolves to a private address (DNS rebinding) is not reached either.

/** Private, loopback, link-local, unique-local, carrier-grade NAT, multicast, reserved, unspecified: anything but unicast. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let a = ipaddr.parse(address);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  return a.range() === 'unicast';
}

const refused = (message: string) => fieldError('WEBHOOK_URL_NOT_ALLOWED', 'url', message);

/** The URL's syntax and scheme (400 belongs to the schema; these are the rule's refusals, 422). */
export function parseTarget(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw fieldError('VALIDATION_FAILED', 'url', 'must be an absolute http or https URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw refused('must be an http or https URL');
  if (u.username || u.password) throw refused('must not carry credentials');
  return u;
}

const lookupAll = (host: string): Promise<LookupAddress[]> =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

/** Refuses a target that is, or resolves to, a non-public address. A name that does not resolve now is let through (the connection is checked again). */
export async function checkTarget(url: string, allowPrivate: boolean): Promise<void> {
  const u = parseTarget(url);
  if (allowPrivate) return;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    if (!isPublicAddress(host)) throw refused('resolves to a private, loopback or link-local address');
    return;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) throw refused('resolves to a private, loopback or link-local address');
  let addrs: LookupAddress[] = [];
  try {
    addrs = await lookupAll(host);
  } catch {
    return;
  }
  if (addrs.some((a) => !isPublicAddress(a.address))) throw refused('resolves to a private, loopback or link-local address');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** The lookup every delivery connects through: a non-public answer fails the connection. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addrs) => {
      if (err) return callback(err, []);
      const list = addrs as LookupAddress[];
      const bad = !allowPrivate && list.some((a) => !isPublicAddress(a.address));
      if (bad) return callback(Object.assign(new Error('target resolves to a private address'), { code: 'EPRIVATE' }), []);
      const all = (options as { all?: boolean }).all;
      if (all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
