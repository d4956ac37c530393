// cwi-bouncing (hybrid): a wave through the letters of a word.
// Each letter's motion lasts letterDuration (L, default 0.6) of the window;
// letter i of N starts at i * (1 - L) / (N - 1). With e = easeInOutCubic of
// the letter's local progress: ty = -H sin(pi e), tx = 0.05 H sin(2 pi e)
// (H = waveHeight, default 12, so 0.6 px). The whole word (channels), with
// e = easeInOutCubic(p): ty = -0.3 H sin(pi e) (-3.6 px at H 12), scale
// 1 + 0.05 sin(pi e). A pure function of p.

export const name = 'cwi-bouncing';
export const version = '2.0.0';

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

// --- letter cells (the same code in every text-splitting plugin of the pack) ---
// The element's own text nodes are replaced, once, by one span per grapheme,
// built with textContent only. Letters are inline-block spans (so they can be
// transformed) grouped per word in a nowrap span (so a word never breaks
// inside); whitespace stays inline text in its own span. A plugin that finds
// the element already split reuses the same spans, so cwi-color and
// cwi-bouncing (or typewriter) can run on one word together.

const SPLIT_ATTR = 'data-mr-split';
const CELL_ATTR = 'data-mr-cell'; // "ch" (letter) or "ws" (whitespace)
const CELL_QUERY = ':scope > [data-mr-cell], :scope > [data-mr-word] > [data-mr-cell]';

function graphemes(s) {
  if (typeof Intl !== 'undefined' && typeof Intl.Segmenter === 'function') {
    return Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s), (x) => x.segment);
  }
  return Array.from(s);
}

function cells(el) {
  if (!el || !el.ownerDocument) return [];
  if (el.hasAttribute(SPLIT_ATTR)) return Array.from(el.querySelectorAll(CELL_QUERY));
  const texts = Array.from(el.childNodes).filter((n) => n.nodeType === 3 && n.nodeValue !== '');
  if (texts.length === 0) return [];
  const doc = el.ownerDocument;
  el.setAttribute(SPLIT_ATTR, '');
  for (const t of texts) {
    const frag = doc.createDocumentFragment();
    let word = null;
    for (const g of graphemes(t.nodeValue)) {
      const span = doc.createElement('span');
      span.textContent = g;
      if (/^\s+$/.test(g)) {
        span.setAttribute(CELL_ATTR, 'ws');
        frag.appendChild(span);
        word = null;
      } else {
        if (!word) {
          word = doc.createElement('span');
          word.setAttribute('data-mr-word', '');
          word.style.whiteSpace = 'nowrap';
          frag.appendChild(word);
        }
        span.setAttribute(CELL_ATTR, 'ch');
        span.style.display = 'inline-block';
        word.appendChild(span);
      }
    }
    el.replaceChild(frag, t);
  }
  return Array.from(el.querySelectorAll(CELL_QUERY));
}

function letters(el) {
  return cells(el).filter((c) => c.getAttribute(CELL_ATTR) === 'ch');
}

// Puts the text back as a single text node.
function unsplit(el) {
  if (!el || typeof el.hasAttribute !== 'function' || !el.hasAttribute(SPLIT_ATTR)) return;
  const text = el.textContent;
  el.textContent = text;
  el.removeAttribute(SPLIT_ATTR);
}

function easeInOutCubic(t) {
  return t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2;
}

function height(params) {
  return param(params || {}, ['waveHeight', 'amplitudePx', 'height'], 12);
}

export function evalChannels(spec, p) {
  const h = height(spec && spec.params);
  const s = Math.sin(Math.PI * easeInOutCubic(progress(p)));
  return { ty: -0.3 * h * s, sx: 1 + 0.05 * s, sy: 1 + 0.05 * s };
}

export function animate(el, params = {}) {
  const ls = letters(el);
  const h = height(params);
  let l = param(params || {}, ['letterDuration'], 0.6);
  if (!(l > 0)) l = 0.6;
  if (l > 1) l = 1;
  return (p) => {
    const q = progress(p);
    const n = ls.length;
    for (let i = 0; i < n; i++) {
      const start = n > 1 ? (i * (1 - l)) / (n - 1) : 0;
      const e = easeInOutCubic(clamp01((q - start) / l));
      const tx = 0.05 * h * Math.sin(2 * Math.PI * e);
      const ty = -h * Math.sin(Math.PI * e);
      ls[i].style.transform = `translate(${tx.toFixed(3)}px, ${ty.toFixed(3)}px)`;
    }
  };
}

export function cleanup(el) {
  unsplit(el);
}
