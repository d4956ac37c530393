// shakeX (channel): tx = amplitudePx * sin(2 pi * cycles * p).
// Params: amplitudePx (default 6, alias amplitude), cycles (default 8, alias
// frequency). A pure function of the progress p; motionrender standard pack.

export const name = 'shakeX';
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
  const amp = param(params, ['amplitudePx', 'amplitude', 'amp'], 6);
  const cycles = param(params, ['cycles', 'frequency'], 8);
  return { tx: amp * Math.sin(2 * Math.PI * cycles * progress(p)) };
}
