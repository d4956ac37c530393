// cwi-loud (channel): the word grows during the first 12% of the window
// (easeOutCubic) to scale pulse.scale (default 2.15) lifted pulse.lift px
// (default 12), holds with a small horizontal tremble (tremble.ampPx, default
// 1.5 px, tremble.freq, default 12 cycles per window, faded in and out over
// the hold so it never jumps), and falls back during the last 12% (the mirror
// of the rise). A pure function of p.

export const name = 'cwi-loud';
export const version = '2.0.0';

const RAMP = 0.12;

function progress(p) {
  const v = Number(p);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

function clamp01(x) {
  return x <= 0 ? 0 : x >= 1 ? 1 : x;
}

function param(params, keys, fallback) {
  for (const k of keys) {
    const v = params && params[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  return fallback;
}

function easeOutCubic(t) {
  return 1 - Math.pow(1 - t, 3);
}

function sub(params, key) {
  const v = params && params[key];
  return v && typeof v === 'object' ? v : {};
}

// 0 -> 1 over the first RAMP, 1 while holding, 1 -> 0 over the last RAMP.
function envelope(q) {
  if (q < RAMP) return easeOutCubic(q / RAMP);
  if (q > 1 - RAMP) return easeOutCubic((1 - q) / RAMP);
  return 1;
}

// A sine of `freq` cycles per window, only while holding, faded at both ends.
function hold(q, freq) {
  if (q <= RAMP || q >= 1 - RAMP) return 0;
  const u = (q - RAMP) / (1 - 2 * RAMP);
  return Math.sin(2 * Math.PI * freq * (q - RAMP)) * Math.sin(Math.PI * u);
}

export function evalChannels(spec, p) {
  const params = (spec && spec.params) || {};
  const pulse = sub(params, 'pulse');
  const tremble = sub(params, 'tremble');
  const scale = param(pulse, ['scale'], param(params, ['scale', 'maxScale'], 2.15));
  const lift = param(pulse, ['lift'], param(params, ['lift', 'liftPx'], 12));
  const amp = param(tremble, ['ampPx', 'amp'], param(params, ['trembleAmpPx'], 1.5));
  const freq = param(tremble, ['freq', 'cycles'], param(params, ['trembleFreq'], 12));
  const q = progress(p);
  const env = envelope(q);
  const s = 1 + (scale - 1) * env;
  return { tx: amp * hold(q, freq), ty: -lift * env, sx: s, sy: s };
}
