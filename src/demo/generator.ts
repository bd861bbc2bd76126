// A generator of realistic payment events with injected anomalies, for `ddcl demo`, the
// throughput benchmark and the end-to-end tests. Cards belong to customer segments with their own
// spending habits; merchants have categories with their own amount distributions; traffic and
// amounts follow a daily rhythm. Anomalies of several kinds are injected at a known rate and
// reported out of band (never inside the event), so alerts can be checked against them.
import { Rng } from '../model/rng.js';

export interface PaymentEvent {
  event_id: string;
  /** Event time, epoch milliseconds. */
  ts: number;
  card_id: string;
  card_type: 'credit' | 'debit' | 'prepaid';
  merchant_id: string;
  merchant_category: string;
  channel: 'pos' | 'online' | 'atm';
  country: string;
  currency: string;
  amount: number;
  card_present: boolean;
  international: boolean;
  /** Authorisation latency at the processor, ms. */
  auth_latency_ms: number;
  /** Failed PIN or CVV attempts before this one. */
  prior_failures: number;
}

export type AnomalyKind = 'amount_spike' | 'foreign_night' | 'latency_outage' | 'card_testing' | 'category_mismatch';

export interface GeneratedEvent {
  event: PaymentEvent;
  /** The injected anomaly, or null for a normal event. Never part of the event itself. */
  anomaly: AnomalyKind | null;
}

export interface GeneratorOptions {
  seed?: number;
  cards?: number;
  merchants?: number;
  /** Fraction of events that carry an injected anomaly. */
  anomalyRate?: number;
  /** Simulated time at the first event (epoch ms). */
  startTime?: number;
  /** Mean events per simulated hour at the daily peak. */
  peakPerHour?: number;
  /** No anomalies before this many events (a clean first training window). */
  warmupEvents?: number;
}

const CATEGORIES = [
  { name: 'grocery', mean: 45, sd: 0.6, online: 0.05 },
  { name: 'fuel', mean: 55, sd: 0.35, online: 0.0 },
  { name: 'restaurant', mean: 32, sd: 0.5, online: 0.1 },
  { name: 'electronics', mean: 240, sd: 0.8, online: 0.5 },
  { name: 'travel', mean: 420, sd: 0.7, online: 0.7 },
  { name: 'online_retail', mean: 70, sd: 0.8, online: 1.0 },
  { name: 'pharmacy', mean: 25, sd: 0.5, online: 0.1 },
] as const;

const HOME = { country: 'DE', currency: 'EUR' };
const ABROAD = [
  { country: 'FR', currency: 'EUR' },
  { country: 'US', currency: 'USD' },
  { country: 'GB', currency: 'GBP' },
];
const FAR = [
  { country: 'BR', currency: 'BRL' },
  { country: 'NG', currency: 'NGN' },
  { country: 'VN', currency: 'VND' },
];

interface Card {
  id: string;
  type: PaymentEvent['card_type'];
  /** Spending level multiplier (log-normal across customers). */
  level: number;
  /** Preferred categories (indices). */
  prefs: number[];
  travels: boolean;
}

/** Relative traffic by hour of day: quiet at night, peaks at lunch and early evening. */
export function dailyRhythm(hour: number): number {
  const lunch = Math.exp(-((hour - 12.5) ** 2) / 4);
  const evening = Math.exp(-((hour - 18.5) ** 2) / 5);
  return 0.06 + 0.7 * lunch + 0.9 * evening;
}

export class PaymentGenerator {
  private readonly rng: Rng;
  private readonly cards: Card[];
  private readonly merchants: { id: string; cat: number }[];
  private readonly merchantsByCategory: { id: string; cat: number }[][];
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
    const nCards = opts.cards ?? 2000;
    const nMerchants = opts.merchants ?? 300;
    this.merchants = Array.from({ length: nMerchants }, (_, i) => ({
      id: `m${String(i).padStart(4, '0')}`,
      cat: this.weightedCategory(),
    }));
    this.merchantsByCategory = CATEGORIES.map((_, c) => this.merchants.filter((m) => m.cat === c));
    this.cards = Array.from({ length: nCards }, (_, i) => {
      const u = this.rng.next();
      const type: Card['type'] = u < 0.55 ? 'debit' : u < 0.93 ? 'credit' : 'prepaid';
      const nPrefs = 2 + this.rng.int(3);
      const prefs = Array.from({ length: nPrefs }, () => this.weightedCategory());
      return {
        id: `c${String(i).padStart(6, '0')}`,
        type,
        level: Math.exp(0.5 * this.rng.normal()) * (type === 'credit' ? 1.4 : type === 'prepaid' ? 0.5 : 1),
        prefs,
        travels: this.rng.next() < 0.08,
      };
    });
  }

  private weightedCategory(): number {
    const w = [0.3, 0.15, 0.2, 0.05, 0.04, 0.18, 0.08];
    let u = this.rng.next();
    for (let i = 0; i < w.length; i++) {
      u -= w[i]!;
      if (u <= 0) return i;
    }
    return 0;
  }

  private lognormal(mean: number, sd: number): number {
    return mean * Math.exp(sd * this.rng.normal() - (sd * sd) / 2);
  }

  /** Simulated time advances by an exponential gap whose rate follows the daily rhythm. */
  private advance(): void {
    const hour = new Date(this.time).getUTCHours() + new Date(this.time).getUTCMinutes() / 60;
    const perMs = (this.peakPerHour * dailyRhythm(hour)) / 3600_000;
    this.time += Math.max(1, Math.round(-Math.log(1 - this.rng.next()) / perMs));
  }

  next(): GeneratedEvent {
    this.advance();
    const card = this.cards[this.rng.int(this.cards.length)]!;
    const inject = this.seq >= this.warmup && this.rng.next() < this.anomalyRate;
    const ev = this.normalEvent(card);
    let anomaly: AnomalyKind | null = null;
    if (inject) {
      const kinds: AnomalyKind[] = ['amount_spike', 'foreign_night', 'latency_outage', 'card_testing', 'category_mismatch'];
      anomaly = kinds[this.rng.int(kinds.length)]!;
      this.inject(ev, anomaly);
    }
    this.seq++;
    return { event: ev, anomaly };
  }

  private normalEvent(card: Card): PaymentEvent {
    const catIdx = this.rng.next() < 0.8 ? card.prefs[this.rng.int(card.prefs.length)]! : this.weightedCategory();
    const cat = CATEGORIES[catIdx]!;
    const candidates = this.merchantsByCategory[catIdx]!;
    const merchant = candidates.length ? candidates[this.rng.int(candidates.length)]! : this.merchants[0]!;
    const online = this.rng.next() < cat.online;
    const abroad = card.travels && this.rng.next() < 0.3;
    const place = abroad ? ABROAD[this.rng.int(ABROAD.length)]! : HOME;
    const hour = new Date(this.time).getUTCHours();
    // Evening purchases are a little larger.
    const amount = this.lognormal(cat.mean * card.level * (hour >= 17 && hour <= 21 ? 1.15 : 1), cat.sd);
    const channel: PaymentEvent['channel'] = online ? 'online' : catIdx === 0 && this.rng.next() < 0.03 ? 'atm' : 'pos';
    return {
      event_id: `e${String(this.seq).padStart(9, '0')}`,
      ts: this.time,
      card_id: card.id,
      card_type: card.type,
      merchant_id: merchant.id,
      merchant_category: cat.name,
      channel,
      country: place.country,
      currency: place.currency,
      amount: Math.round(amount * 100) / 100,
      card_present: !online,
      international: place !== HOME,
      auth_latency_ms: Math.round(this.lognormal(online ? 180 : 120, 0.3)),
      prior_failures: this.rng.next() < 0.03 ? 1 : 0,
    };
  }

  private inject(ev: PaymentEvent, kind: AnomalyKind): void {
    switch (kind) {
      case 'amount_spike':
        ev.amount = Math.round(ev.amount * (25 + 40 * this.rng.next()) * 100) / 100;
        break;
      case 'foreign_night': {
        const far = FAR[this.rng.int(FAR.length)]!;
        ev.country = far.country;
        ev.currency = far.currency;
        ev.international = true;
        ev.card_present = false;
        ev.channel = 'online';
        ev.merchant_category = 'electronics';
        ev.amount = Math.round(this.lognormal(900, 0.3) * 100) / 100;
        // Move the event to 02:00-04:59 of its day.
        const d = new Date(ev.ts);
        d.setUTCHours(2 + this.rng.int(3));
        ev.ts = d.getTime();
        break;
      }
      case 'latency_outage':
        ev.auth_latency_ms = Math.round(this.lognormal(6000, 0.4));
        break;
      case 'card_testing':
        ev.amount = Math.round((0.5 + this.rng.next()) * 100) / 100;
        ev.prior_failures = 4 + this.rng.int(6);
        ev.channel = 'online';
        ev.card_present = false;
        break;
      case 'category_mismatch':
        ev.channel = 'atm';
        ev.merchant_category = 'travel';
        ev.card_present = true;
        ev.amount = Math.round(this.lognormal(1500, 0.2) * 100) / 100;
        break;
    }
  }

  /** n events at once. */
  take(n: number): GeneratedEvent[] {
    return Array.from({ length: n }, () => this.next());
  }
}
