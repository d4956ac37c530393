// typewriter (DOM): shows the first floor(p * duration / typingSpeed)
// characters of the text (whitespace counts as a character); the others are
// laid out but hidden (visibility), so the caption's box does not move while
// it types. The package passes duration 1.0, so with the default typingSpeed
// 0.05 this is floor(p / 0.05). showCursor / cursorBlink are accepted and
// ignored (no cursor is drawn). A pure function of p.

export const name = 'typewriter';
export const version = '1.0.0';

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

export function animate(el, params = {}, ctx, duration = 1) {
  const all = cells(el);
  const speed = param(params, ['typingSpeed', 'speed', 'charDelay'], 0.05);
  const d = typeof duration === 'number' && Number.isFinite(duration) && duration > 0 ? duration : 1;
  return (p) => {
    const q = progress(p);
    const shown = speed > 0 ? Math.floor((q * d) / speed) : all.length;
    for (let i = 0; i < all.length; i++) all[i].style.visibility = i < shown ? '' : 'hidden';
  };
}

export function cleanup(el) {
  unsplit(el);
}
