// spin (channel): rotation = 360 deg * p * fullTurns.
// Params: fullTurns (default 1, alias turns). A pure function of the progress
// p; motionrender standard plugin pack.

export const name = 'spin';
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
  const turns = param(params, ['fullTurns', 'turns'], 1);
  return { rot: 360 * progress(p) * turns };
}
