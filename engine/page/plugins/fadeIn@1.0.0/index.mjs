// fadeIn (channel): opacity = 1 - (1 - p)^3 over the plugin window.
// A pure function of the progress p; motionrender standard plugin pack.

export const name = 'fadeIn';
export const version = '1.0.0';

function progress(p) {
  const v = Number(p);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

export function evalChannels(spec, p) {
  const q = progress(p);
  return { opacity: 1 - Math.pow(1 - q, 3) };
}
