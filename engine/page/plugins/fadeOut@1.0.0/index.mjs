// fadeOut (channel): opacity = 1 - p over the plugin window.
// A pure function of the progress p; motionrender standard plugin pack.

export const name = 'fadeOut';
export const version = '1.0.0';

function progress(p) {
  const v = Number(p);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

export function evalChannels(spec, p) {
  return { opacity: 1 - progress(p) };
}
