// pulse (channel): scale = 1 + (maxScale - 1) * (0.5 - 0.5 cos(2 pi * cycles * p)).
// Params: maxScale (default 1.2), cycles (default 2, alias frequency).
// A pure function of the progress p; motionrender standard plugin pack.

export const name = 'pulse';
export const version = '1.0.0';

function progress(p) {
  const v = Number(p);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

function param(params, keys, fallback) {
  for (const k of keys) {
    const v = params && params[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  return fallback;
}

export function evalChannels(spec, p) {
  const params = (spec && spec.params) || {};
  const max = param(params, ['maxScale', 'scale', 'max'], 1.2);
  const cycles = param(params, ['cycles', 'frequency'], 2);
  const s = 1 + (max - 1) * (0.5 - 0.5 * Math.cos(2 * Math.PI * cycles * progress(p)));
  return { sx: s, sy: s };
}
