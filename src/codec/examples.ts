// Seeded example events for the shipped input schemas: for tests, benchmarks and demos.
import type { DecodedRecord } from './types.js';

/** mulberry32: a tiny, fast, seedable PRNG (not cryptographic). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const hex = (r: () => number, n: number): string =>
  Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
const BASE_TIME = Date.UTC(2026, 0, 5, 0, 0, 0);

export function examplePayment(r: () => number, i: number): DecodedRecord {
  const intl = r() < 0.1;
  return {
    event_id: `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`,
    event_time: BASE_TIME + i * 1000 + Math.floor(r() * 1000),
    card_id: `card-${Math.floor(r() * 500)}`,
    merchant_id: `m-${Math.floor(r() * 2000)}`,
    merchant_category: pick(r, [
      'GROCERY',
      'FUEL',
      'TRAVEL',
      'ELECTRONICS',
      'RESTAURANT',
      'ONLINE',
      'ATM',
      'OTHER',
    ]),
    mcc: pick(r, [5411, 5541, 4511, 5732, 5812, 5999, 6011]),
    amount: Math.round(Math.exp(3 + r() * 2.5) * 100) / 100,
    currency: intl ? pick(r, ['USD', 'GBP', 'JPY', 'CHF']) : 'EUR',
    country: intl ? pick(r, ['US', 'GB', 'JP', 'CH', 'BR']) : pick(r, ['DE', 'FR', 'NL']),
    channel: pick(r, ['POS', 'ECOM', 'ATM', 'MOTO']),
    entry_mode: pick(r, ['CHIP', 'SWIPE', 'CONTACTLESS', 'MANUAL', 'ONLINE']),
    card_present: r() < 0.7,
    is_international: intl,
    device_id: r() < 0.4 ? `dev-${hex(r, 6)}` : null,
    ip_risk_score: r() < 0.5 ? Math.round(r() * 1000) / 10 : null,
    account_age_days: Math.floor(r() * 3000),
    txn_count_24h: Math.floor(r() * 12),
    amount_avg_30d: r() < 0.9 ? Math.round(Math.exp(3 + r() * 2) * 100) / 100 : null,
    distance_from_home_km: Math.round(r() * r() * 5000 * 10) / 10,
    auth_result: pick(r, ['APPROVED', 'APPROVED', 'APPROVED', 'DECLINED', 'REVIEW']),
  };
}

export function exampleHostMetric(r: () => number, i: number): DecodedRecord {
  const f = (x: number) => Math.fround(x);
  return {
    ts: BASE_TIME + i * 10_000,
    host: `web-${Math.floor(r() * 40)}`,
    datacenter: pick(r, ['fra1', 'ams2', 'iad1']),
    service: pick(r, ['api', 'web', 'worker', 'cache']),
    cpu_user_pct: f(r() * 80),
    cpu_system_pct: f(r() * 15),
    cpu_iowait_pct: f(r() * 5),
    mem_used_pct: f(30 + r() * 60),
    load1: f(r() * 8),
    disk_read_bytes: Math.floor(r() * 1e8),
    disk_write_bytes: Math.floor(r() * 1e8),
    net_rx_bytes: Math.floor(r() * 1e9),
    net_tx_bytes: Math.floor(r() * 1e9),
    tcp_retransmits: Math.floor(r() * 20),
    open_fds: 100 + Math.floor(r() * 5000),
    gc_pause_ms: r() < 0.5 ? r() * 50 : null,
    healthy: r() < 0.98,
  };
}

export function exampleHttpAccess(r: () => number, i: number): DecodedRecord {
  return {
    ts: BASE_TIME + i * 50,
    client_ip: `10.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
    vhost: pick(r, ['shop.example.com', 'api.example.com', 'static.example.com']),
    method: pick(r, ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'HEAD']),
    route: pick(r, ['/', '/users/{id}', '/cart', '/checkout', '/static/{file}', '/api/v1/items']),
    status: pick(r, [200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 503]),
    bytes_sent: Math.floor(r() * 200_000),
    request_time_ms: r() * 300,
    upstream_time_ms: r() < 0.8 ? r() * 250 : null,
    user_agent: pick(r, [
      'Mozilla/5.0 (X11; Linux x86_64)',
      'curl/8.5.0',
      'Go-http-client/2.0',
      'Mozilla/5.0 (iPhone)',
    ]),
    referer: r() < 0.3 ? pick(r, ['https://www.google.com/', 'https://shop.example.com/cart']) : null,
    tls: r() < 0.95,
    http_version: pick(r, ['HTTP_1_1', 'HTTP_2', 'HTTP_2', 'HTTP_3']),
  };
}

export const EXAMPLE_GENERATORS = {
  payment: examplePayment,
  host_metric: exampleHostMetric,
  http_access: exampleHttpAccess,
} as const;
