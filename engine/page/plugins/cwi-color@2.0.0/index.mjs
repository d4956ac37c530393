// cwi-color (DOM): letter i of N takes mix(white, target,
// easeOutCubic(clamp(p * N - i))); every letter is at the target once
// p >= 0.985. target = params.color when it is a non-empty colour, else
// params.palette[params.speaker], else #FFD400. A pure function of p.

export const name = 'cwi-color';
export const version = '2.0.0';

const DEFAULT_COLOR = '#FFD400';

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

function easeOutCubic(t) {
  return 1 - Math.pow(1 - t, 3);
}

function isColor(v) {
  if (typeof v !== 'string' || v.trim() === '') return false;
  return typeof CSS === 'undefined' || typeof CSS.supports !== 'function' || CSS.supports('color', v.trim());
}

function targetColor(params) {
  if (isColor(params.color)) return params.color.trim();
  const palette = params.palette;
  const speaker = params.speaker;
  if (palette && typeof palette === 'object' && typeof speaker === 'string' && isColor(palette[speaker])) {
    return palette[speaker].trim();
  }
  return DEFAULT_COLOR;
}

// {r, g, b, a} from #rgb, #rgba, #rrggbb, #rrggbbaa, rgb() or rgba(); else null.
function parseColor(s) {
  let m = /^#([0-9a-f]{3,8})$/i.exec(s);
  if (m) {
    let h = m[1];
    if (h.length === 3 || h.length === 4) h = h.split('').map((c) => c + c).join('');
    if (h.length !== 6 && h.length !== 8) return null;
    const n = (i) => parseInt(h.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), a: h.length === 8 ? n(6) / 255 : 1 };
  }
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)$/i.exec(s);
  if (m) {
    let a = m[4] === undefined ? 1 : Number(m[4]);
    if (m[5] === '%') a /= 100;
    return { r: Number(m[1]), g: Number(m[2]), b: Number(m[3]), a };
  }
  return null;
}

function mixer(target) {
  const c = parseColor(target);
  if (!c) {
    return (k) => (k >= 1 ? target : `color-mix(in srgb, ${target} ${(k * 100).toFixed(3)}%, white)`);
  }
  return (k) => {
    const ch = (v) => Math.round(255 + (v - 255) * k);
    const a = 1 + (c.a - 1) * k;
    return a >= 1 ? `rgb(${ch(c.r)}, ${ch(c.g)}, ${ch(c.b)})` : `rgba(${ch(c.r)}, ${ch(c.g)}, ${ch(c.b)}, ${a.toFixed(4)})`;
  };
}

export function animate(el, params = {}) {
  const ls = letters(el);
  const mix = mixer(targetColor(params || {}));
  return (p) => {
    const q = progress(p);
    const n = ls.length;
    for (let i = 0; i < n; i++) {
      const k = q >= 0.985 ? 1 : easeOutCubic(clamp01(q * n - i));
      ls[i].style.color = mix(k);
    }
  };
}

export function cleanup(el) {
  unsplit(el);
}
