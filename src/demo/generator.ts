// A generator of realistic card payments (schemas/payment.avsc) with injected anomalies, for
// `ddcl demo`, the throughput benchmark and the end-to-end tests. Cards belong to customers with
// their own spending level, habits, home and devices; merchants have categories with their own
// amount distributions; traffic and amounts follow a daily rhythm. Anomalies of several kinds are
// injected at a known rate and reported out of band (never inside the event), so that alerts can
// be checked against them.
import { Rng } from '../model/rng.js';

/** One record of schemas/payment.avsc (enums as their symbols). */
export interface PaymentEvent {
  event_id: string;
  /** Event time, epoch milliseconds. */
  event_time: number;
  card_id: string;
  merchant_id: string;
  merchant_category:
    'GROCERY' | 'FUEL' | 'TRAVEL' | 'ELECTRONICS' | 'RESTAURANT' | 'ONLINE' | 'ATM' | 'OTHER';
  mcc: number;
  amount: number;
  currency: string;
  country: string;
  channel: 'POS' | 'ECOM' | 'ATM' | 'MOTO';
  entry_mode: 'CHIP' | 'SWIPE' | 'CONTACTLESS' | 'MANUAL' | 'ONLINE';
  card_present: boolean;
  is_international: boolean;
  device_id: string | null;
  ip_risk_score: number | null;
  account_age_days: number;
  txn_count_24h: number;
  amount_avg_30d: number | null;
  distance_from_home_km: number;
  auth_result: 'APPROVED' | 'DECLINED' | 'REVIEW';
}

export const ANOMALY_KINDS = [
  'amount_spike',
  'foreign_night',
  'card_testing',
  'atm_cashout',
  'new_account_high_value',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface GeneratedEvent {
  event: PaymentEvent;
  /** The injected anomaly, or null for a normal event. Never part of the event itself. */
  anomaly: AnomalyKind | null;
}

export interface GeneratorOptions {
  seed?: number;
  cards?: number;
  merchants?: number;
  /** Fraction of events that carry an injected anomaly (default 0.002). */
  anomalyRate?: number;
  /** Simulated time of the first event (epoch ms). */
  startTime?: number;
  /** Mean events per simulated hour at the daily peak. */
  peakPerHour?: number;
  /** No anomalies among the first this many events (a clean first training window). */
  warmupEvents?: number;
}

type Category = PaymentEvent['merchant_category'];
const CATEGORIES: {
  name: Category;
  mcc: number[];
  mean: number;
  sd: number;
  online: number;
  weight: number;
}[] = [
  { name: 'GROCERY', mcc: [5411, 5422, 5499], mean: 45, sd: 0.6, online: 0.05, weight: 0.3 },
  { name: 'FUEL', mcc: [5541, 5542], mean: 55, sd: 0.35, online: 0, weight: 0.14 },
  { name: 'RESTAURANT', mcc: [5812, 5813, 5814], mean: 32, sd: 0.5, online: 0.1, weight: 0.2 },
  { name: 'ELECTRONICS', mcc: [5732, 5734], mean: 240, sd: 0.8, online: 0.5, weight: 0.05 },
  { name: 'TRAVEL', mcc: [4511, 7011, 4722], mean: 420, sd: 0.7, online: 0.7, weight: 0.04 },
  { name: 'ONLINE', mcc: [5969, 5964], mean: 70, sd: 0.8, online: 1, weight: 0.17 },
  { name: 'ATM', mcc: [6011], mean: 120, sd: 0.5, online: 0, weight: 0.04 },
  { name: 'OTHER', mcc: [5999, 7299], mean: 60, sd: 0.9, online: 0.3, weight: 0.06 },
];

const HOME = { country: 'DE', currency: 'EUR' };
const NEAR = [
  { country: 'FR', currency: 'EUR', km: 700 },
  { country: 'AT', currency: 'EUR', km: 500 },
  { country: 'GB', currency: 'GBP', km: 900 },
  { country: 'US', currency: 'USD', km: 6500 },
];
const FAR = [
  { country: 'BR', currency: 'BRL', km: 9800 },
  { country: 'NG', currency: 'NGN', km: 5200 },
  { country: 'VN', currency: 'VND', km: 9000 },
];

interface Card {
  id: string;
  level: number;
  prefs: number[];
  travels: boolean;
  ageDays: number;
  device: string;
  /** Event times of the last 24 h (simulated), for txn_count_24h. */
  recent: number[];
  avgAmount: number;
}

/** Relative traffic by hour of day: quiet at night, peaks at lunch and early evening. */
export function dailyRhythm(hour: number): number {
  const lunch = Math.exp(-((hour - 12.5) ** 2) / 4);
  const evening = Math.exp(-((hour - 18.5) ** 2) / 5);
  return 0.06 + 0.7 * lunch + 0.9 * evening;
}

const DAY = 86_400_000;

export class PaymentGenerator {
  private readonly rng: Rng;
  private readonly cards: Card[];
  private readonly merchantsByCategory: string[][];
  private readonly anomalyRate: number;
  private readonly peakPerHour: number;
  private readonly warmup: number;
  private time: number;
  private seq = 0;

  constructor(opts: GeneratorOptions = {}) {
    this.rng = new Rng(opts.seed ?? 7);
    this.anomalyRate = opts.anomalyRate ?? 0.002;
    this.peakPerHour = opts.peakPerHour ?? 3600;
    this.warmup = opts.warmupEvents ?? 0;
    this.time = opts.startTime ?? Date.UTC(2026, 0, 5, 0, 0, 0);
    const nMerchants = opts.merchants ?? 300;
    this.merchantsByCategory = CATEGORIES.map(() => []);
    for (let i = 0; i < nMerchants; i++)
      this.merchantsByCategory[i < CATEGORIES.length ? i : this.category()]!.push(
        `m${String(i).padStart(4, '0')}`,
      );
    this.cards = Array.from({ length: opts.cards ?? 2000 }, (_, i) => ({
      id: `c${String(i).padStart(6, '0')}`,
      level: Math.exp(0.5 * this.rng.normal()),
      prefs: Array.from({ length: 2 + this.rng.int(3) }, () => this.category()),
      travels: this.rng.next() < 0.08,
      ageDays: 30 + Math.floor(-Math.log(1 - this.rng.next()) * 900),
      device: `d${this.rng.int(1 << 30).toString(16)}`,
      recent: [],
      avgAmount: 0,
    }));
    for (const c of this.cards) c.avgAmount = 60 * c.level;
    // Burn in one simulated day so that per-card history (txn_count_24h, amount_avg_30d) starts
    // in its steady state instead of drifting upwards through the first window.
    const end = this.time + DAY;
    while (this.time < end) {
      this.advance();
      this.normalEvent(this.cards[this.rng.int(this.cards.length)]!);
    }
  }

  private category(): number {
    let u = this.rng.next();
    for (let i = 0; i < CATEGORIES.length; i++) {
      u -= CATEGORIES[i]!.weight;
      if (u <= 0) return i;
    }
    return 0;
  }

  private lognormal(mean: number, sd: number): number {
    return mean * Math.exp(sd * this.rng.normal() - (sd * sd) / 2);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.rng.int(xs.length)]!;
  }

  /** Simulated time advances by an exponential gap whose rate follows the daily rhythm. */
  private advance(): void {
    const d = new Date(this.time);
    const perMs = (this.peakPerHour * dailyRhythm(d.getUTCHours() + d.getUTCMinutes() / 60)) / 3600_000;
    this.time += Math.max(1, Math.round(-Math.log(1 - this.rng.next()) / perMs));
  }

  next(): GeneratedEvent {
    this.advance();
    const card = this.cards[this.rng.int(this.cards.length)]!;
    const ev = this.normalEvent(card);
    let anomaly: AnomalyKind | null = null;
    if (this.seq >= this.warmup && this.rng.next() < this.anomalyRate) {
      anomaly = this.pick(ANOMALY_KINDS);
      this.inject(ev, anomaly);
    }
    this.seq++;
    return { event: ev, anomaly };
  }

  private normalEvent(card: Card): PaymentEvent {
    const catIdx = this.rng.next() < 0.8 ? this.pick(card.prefs) : this.category();
    const cat = CATEGORIES[catIdx]!;
    const online = this.rng.next() < cat.online;
    const abroad = card.travels && this.rng.next() < 0.3 ? this.pick(NEAR) : null;
    const hour = new Date(this.time).getUTCHours();
    const amount = this.lognormal(cat.mean * card.level * (hour >= 17 && hour <= 21 ? 1.15 : 1), cat.sd);
    let drop = 0;
    while (drop < card.recent.length && card.recent[drop]! <= this.time - DAY) drop++;
    if (drop) card.recent.splice(0, drop);
    card.recent.push(this.time);
    card.avgAmount = 0.97 * card.avgAmount + 0.03 * amount;
    const channel: PaymentEvent['channel'] = cat.name === 'ATM' ? 'ATM' : online ? 'ECOM' : 'POS';
    const u = this.rng.next();
    const entry: PaymentEvent['entry_mode'] = online
      ? 'ONLINE'
      : channel === 'ATM'
        ? 'CHIP'
        : u < 0.55
          ? 'CONTACTLESS'
          : u < 0.95
            ? 'CHIP'
            : 'SWIPE';
    return {
      event_id: this.uuid(),
      event_time: this.time,
      card_id: card.id,
      merchant_id: this.pick(
        this.merchantsByCategory[catIdx]!.length ? this.merchantsByCategory[catIdx]! : ['m0000'],
      ),
      merchant_category: cat.name,
      mcc: this.pick(cat.mcc),
      amount: Math.round(amount * 100) / 100,
      currency: abroad?.currency ?? HOME.currency,
      country: abroad?.country ?? HOME.country,
      channel,
      entry_mode: entry,
      card_present: !online,
      is_international: abroad !== null,
      device_id: online ? card.device : null,
      ip_risk_score: online
        ? Math.round(Math.min(1, Math.abs(0.08 * this.rng.normal())) * 1000) / 1000
        : null,
      account_age_days: card.ageDays + Math.floor((this.time - Date.UTC(2026, 0, 5)) / DAY),
      txn_count_24h: card.recent.length,
      amount_avg_30d: card.ageDays > 30 ? Math.round(card.avgAmount * 100) / 100 : null,
      distance_from_home_km: abroad
        ? Math.round(this.lognormal(abroad.km, 0.1))
        : Math.round(this.lognormal(8, 0.9) * 10) / 10,
      auth_result: this.rng.next() < 0.97 ? 'APPROVED' : 'DECLINED',
    };
  }

  private uuid(): string {
    const h = (n: number) =>
      this.rng
        .int(16 ** n)
        .toString(16)
        .padStart(n, '0');
    return `${h(8)}-${h(4)}-4${h(3)}-${'89ab'[this.rng.int(4)]}${h(3)}-${h(6)}${h(6)}`;
  }

  private inject(ev: PaymentEvent, kind: AnomalyKind): void {
    switch (kind) {
      case 'amount_spike':
        ev.amount = Math.round(ev.amount * (25 + 40 * this.rng.next()) * 100) / 100;
        break;
      case 'foreign_night': {
        const far = this.pick(FAR);
        const d = new Date(ev.event_time);
        d.setUTCHours(2 + this.rng.int(3));
        Object.assign(ev, {
          event_time: d.getTime(),
          country: far.country,
          currency: far.currency,
          is_international: true,
          card_present: false,
          channel: 'ECOM',
          entry_mode: 'MANUAL',
          merchant_category: 'ELECTRONICS',
          mcc: 5732,
          device_id: `d${this.rng.int(1 << 30).toString(16)}`,
          ip_risk_score: Math.round((0.7 + 0.3 * this.rng.next()) * 1000) / 1000,
          distance_from_home_km: Math.round(this.lognormal(far.km, 0.05)),
          amount: Math.round(this.lognormal(900, 0.3) * 100) / 100,
        } satisfies Partial<PaymentEvent>);
        break;
      }
      case 'card_testing':
        Object.assign(ev, {
          amount: Math.round((0.5 + this.rng.next()) * 100) / 100,
          txn_count_24h: 40 + this.rng.int(80),
          channel: 'ECOM',
          entry_mode: 'MANUAL',
          card_present: false,
          merchant_category: 'ONLINE',
          auth_result: this.rng.next() < 0.6 ? 'DECLINED' : 'APPROVED',
          ip_risk_score: Math.round((0.4 + 0.4 * this.rng.next()) * 1000) / 1000,
          device_id: `d${this.rng.int(1 << 30).toString(16)}`,
        } satisfies Partial<PaymentEvent>);
        break;
      case 'atm_cashout':
        Object.assign(ev, {
          channel: 'ATM',
          merchant_category: 'ATM',
          mcc: 6011,
          entry_mode: 'SWIPE',
          card_present: true,
          amount: Math.round(this.lognormal(2500, 0.2) * 100) / 100,
          txn_count_24h: ev.txn_count_24h + 6 + this.rng.int(10),
        } satisfies Partial<PaymentEvent>);
        break;
      case 'new_account_high_value':
        Object.assign(ev, {
          account_age_days: this.rng.int(3),
          amount_avg_30d: null,
          amount: Math.round(this.lognormal(3000, 0.3) * 100) / 100,
          merchant_category: 'TRAVEL',
          mcc: 4511,
          channel: 'ECOM',
          entry_mode: 'ONLINE',
          card_present: false,
          ip_risk_score: Math.round((0.5 + 0.4 * this.rng.next()) * 1000) / 1000,
        } satisfies Partial<PaymentEvent>);
        break;
    }
  }

  take(n: number): GeneratedEvent[] {
    return Array.from({ length: n }, () => this.next());
  }
}
