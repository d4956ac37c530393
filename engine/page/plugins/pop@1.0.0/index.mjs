// pop (channel): scale = 1 + (maxScale - 1) * backOut(p), with
// backOut(x) = (x - 1)^2 * (2.7 (x - 1) + 1.7) + 1, so the scale overshoots
// and settles at maxScale at p = 1. Params: maxScale (default 1.2).

export const name = 'pop';
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

function backOut(x) {
  const u = x - 1;
  return u * u * (2.7 * u + 1.7) + 1;
}

export function evalChannels(spec, p) {
  const params = (spec && spec.params) || {};
  const max = param(params, ['maxScale', 'scale', 'max'], 1.2);
  const s = 1 + (max - 1) * backOut(progress(p));
  return { sx: s, sy: s };
}
