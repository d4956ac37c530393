// cwi-whisper (channel): the mirror image of cwi-loud. The word shrinks
// during the first 12% of the window (easeOutCubic) to scale shrink.scale
// (default 0.6) dropped shrink.drop px (default 6), holds with a small scale
// flutter (flutter.amp, default 0.02, flutter.freq, default 8 cycles per
// window, faded in and out over the hold), and comes back during the last
// 12%. A pure function of p.

export const name = 'cwi-whisper';
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

function envelope(q) {
  if (q < RAMP) return easeOutCubic(q / RAMP);
  if (q > 1 - RAMP) return easeOutCubic((1 - q) / RAMP);
  return 1;
}

function hold(q, freq) {
  if (q <= RAMP || q >= 1 - RAMP) return 0;
  const u = (q - RAMP) / (1 - 2 * RAMP);
  return Math.sin(2 * Math.PI * freq * (q - RAMP)) * Math.sin(Math.PI * u);
}

export function evalChannels(spec, p) {
  const params = (spec && spec.params) || {};
  const shrink = sub(params, 'shrink');
  const flutter = sub(params, 'flutter');
  const scale = param(shrink, ['scale'], param(params, ['scale', 'minScale'], 0.6));
  const drop = param(shrink, ['drop'], param(params, ['drop', 'dropPx'], 6));
  const amp = param(flutter, ['amp'], param(params, ['flutterAmp'], 0.02));
  const freq = param(flutter, ['freq', 'cycles'], param(params, ['flutterFreq'], 8));
  const q = progress(p);
  const env = envelope(q);
  const s = 1 - (1 - scale) * env + amp * hold(q, freq);
  return { ty: drop * env, sx: s, sy: s };
}
