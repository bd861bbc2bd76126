// A dependency-free SVG line chart of L_q, L_OLS and V per epoch (one DDCL run).
import type { CurveRow } from './curves.js';

const SERIES: { key: 'Lq' | 'Lols' | 'V'; label: string; color: string }[] = [
  { key: 'Lq', label: 'L_q', color: '#1f77b4' },
  { key: 'Lols', label: 'L_OLS', color: '#ff7f0e' },
  { key: 'V', label: 'V', color: '#2ca02c' },
];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 100 || a < 0.01 ? v.toExponential(1) : v.toPrecision(3);
}

/** The chart as an SVG document; an empty curve gives a chart that says so. */
export function lossCurveSvg(curve: readonly CurveRow[], title: string, width = 640, height = 360): string {
  const pad = { l: 64, r: 110, t: 36, b: 44 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  const values = curve.flatMap((r) => SERIES.map((s) => r[s.key])).filter((v) => Number.isFinite(v));
  if (curve.length === 0 || values.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no DDCL epochs recorded</text>`,
      '</svg>',
    );
    return parts.join('\n') + '\n';
  }
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values) || 1;
  const e0 = curve[0]!.epoch;
  const e1 = Math.max(curve[curve.length - 1]!.epoch, e0 + 1);
  const x = (e: number): number => pad.l + ((e - e0) / (e1 - e0)) * w;
  const y = (v: number): number => pad.t + h - ((v - lo) / (hi - lo)) * h;
  // Axes, ticks and grid.
  parts.push(`<rect x="${pad.l}" y="${pad.t}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${pad.l}" x2="${pad.l + w}" y1="${yy}" y2="${yy}" stroke="#eee"/>`);
    parts.push(
      `<text x="${pad.l - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`,
    );
    const e = e0 + ((e1 - e0) * t) / 4;
    parts.push(
      `<text x="${x(e).toFixed(1)}" y="${pad.t + h + 16}" text-anchor="middle">${Math.round(e)}</text>`,
    );
  }
  parts.push(`<text x="${pad.l + w / 2}" y="${height - 8}" text-anchor="middle">epoch</text>`);
  parts.push(
    `<text x="14" y="${pad.t + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${pad.t + h / 2})">loss (units of D / median D)</text>`,
  );
  SERIES.forEach((s, i) => {
    const pts = curve
      .filter((r) => Number.isFinite(r[s.key]))
      .map((r) => `${x(r.epoch).toFixed(1)},${y(r[s.key]).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    const ly = pad.t + 12 + i * 18;
    parts.push(
      `<line x1="${pad.l + w + 12}" x2="${pad.l + w + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${pad.l + w + 38}" y="${ly}" dominant-baseline="middle">${s.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
