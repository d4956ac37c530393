// adapter.js: motionrender's page runtime. It puts the MotionText renderer
// (npm motiontext-renderer, pinned in package-lock.json) on a stage of exactly
// the output size and exposes `window.motionrender`, which the engine calls
// through CDP `Runtime.evaluate` (awaitPromise, returnByValue):
//
//   await load({scenario, width, height, fps, fonts}) -> {ok, width, height, devicePixelRatio, plugins, fonts, warnings}
//   seek(t)                                    -> {fingerprint, bbox, alpha} (a Promise while media catch up)
//   seekMany(times)                            -> [seek(t) for each t, in order] (a Promise); the page stays at the last
//   fontProbes() / clearFontProbes()           -> elements the engine asks Chromium which fonts drew
//   fingerprint()                              -> string ("" when nothing is visible)
//   setOpaque(on)                              -> elements lifted to opacity 1
//   configurePlugins({serverBase} | {pluginBase}) -> {pluginBase}
//   dispose()
//
// README.md defines the fingerprint and the plugin URL layout.

import { syncMedia, mediaWarnings } from './media-clock.js';

const PACKAGE_URL = './node_modules/motiontext-renderer/dist/index.js';
// A plugin named without a version is version 1.0.0, as in the package's loader.
const DEFAULT_PLUGIN_VERSION = '1.0.0';
// Plugin ids and versions become URL path segments: keep them plain.
const PLUGIN_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_STAGE_SIDE = 16384;

const api = { ready: false, error: null };
window.motionrender = api;

let mt; // the package's module namespace
try {
  if (!window.gsap) {
    throw new Error('window.gsap is missing (node_modules/gsap/dist/gsap.min.js did not load)');
  }
  mt = await import(PACKAGE_URL);
} catch (e) {
  api.error = `motionrender page failed to start: ${e && e.message ? e.message : e}` +
    ' (is engine/page/node_modules installed? run `npm ci` there)';
  throw e;
}

// ---------------------------------------------------------------------------
// State of the current job. One scenario per page at a time.

let current = null; // {renderer, stage, video, width, height}
let pluginBase = null; // URL of the folder holding `<name>@<version>/` plugin folders
const pluginCache = new Map(); // `${pluginBase}|${key}` -> {module, manifest, baseUrl}

// ---------------------------------------------------------------------------
// load

async function load({ scenario, width, height, fps = 30, fonts = [] } = {}) {
  if (typeof scenario === 'string') scenario = JSON.parse(scenario);
  if (!isSide(width) || !isSide(height)) {
    throw new Error(`load: width and height must be integers in 1..${MAX_STAGE_SIDE}, got ${width}x${height}`);
  }
  if (!(typeof fps === 'number' && Number.isFinite(fps) && fps > 0)) {
    throw new Error(`load: fps must be a positive number, got ${fps}`);
  }
  dispose();

  const host = document.getElementById('host');
  host.style.width = `${width}px`;
  host.style.height = `${height}px`;

  // The stage starts at the output size, so the package never measures a
  // zero-sized container (it would fall back to a 400px minimum height).
  const stage = document.createElement('div');
  stage.id = 'stage';
  Object.assign(stage.style, {
    position: 'absolute', left: '0px', top: '0px',
    width: `${width}px`, height: `${height}px`,
  });
  host.appendChild(stage);

  // The package lays the stage out over the attached video's letterboxed
  // content box, using videoWidth/videoHeight, which stay 0 for a video without
  // a source (it then letterboxes to stage.baseAspect instead). This muted,
  // hidden, source-less video reports the output's size, so the content box is
  // the whole host: the stage is exactly width x height whatever the scenario's
  // baseAspect, just as in an editor previewing a video of the output's size.
  const video = document.createElement('video');
  video.muted = true;
  video.hidden = true;
  video.preload = 'none';
  video.width = width;
  video.height = height;
  Object.defineProperty(video, 'videoWidth', { value: width });
  Object.defineProperty(video, 'videoHeight', { value: height });
  host.appendChild(video);

  const renderer = new mt.MotionTextRenderer(stage, { fps, snapToFrame: false });
  current = { renderer, stage, video, width, height };
  renderer.attachMedia(video); // paused and source-less: it never drives time

  try {
    // The package's own v2.0 validation runs here; its message is kept as is.
    // As written: the package's output is the reference, array positions
    // included (it ignores them; the engine's validate and QC say so).
    await renderer.loadConfig(scenario);
  } catch (e) {
    dispose();
    throw new Error(e && e.message ? e.message : String(e));
  }

  const plugins = await loadPlugins(scenario);
  const fontReport = await loadFonts(fonts);
  await Promise.race([document.fonts.ready, sleep(2000)]);
  requestedFamilies = fontFamilies(scenario);
  probeText = sampleText(scenario);

  const r = stage.getBoundingClientRect();
  if (r.left !== 0 || r.top !== 0 || r.width !== width || r.height !== height ||
      stage.clientHeight !== height) {
    dispose();
    throw new Error(`load: stage geometry is ${r.left},${r.top} ${r.width}x${r.height}, expected 0,0 ${width}x${height}`);
  }

  const warnings = [];
  if (window.devicePixelRatio !== 1) {
    warnings.push(`devicePixelRatio is ${window.devicePixelRatio}, expected 1`);
  }
  if (window.innerWidth < width || window.innerHeight < height) {
    warnings.push(`viewport ${window.innerWidth}x${window.innerHeight} is smaller than the stage ${width}x${height}`);
  }
  for (const f of plugins.substituted) warnings.push(`plugin ${f.wanted} not found; using ${f.using} from the pack`);
  for (const m of plugins.missing) warnings.push(`plugin ${m.name} not loaded: ${m.reason}`);
  for (const f of fontReport.failed) warnings.push(`font ${f.family} (${f.url}) not loaded: ${f.reason}`);
  return { ok: true, width, height, devicePixelRatio: window.devicePixelRatio, plugins, fonts: fontReport, warnings };
}

function isSide(v) {
  return Number.isInteger(v) && v >= 1 && v <= MAX_STAGE_SIDE;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function dispose() {
  if (!current) return;
  try { current.renderer.dispose(); } catch (_) { /* the page is being reset anyway */ }
  current.stage.remove();
  current.video.remove();
  current = null;
}

// ---------------------------------------------------------------------------
// seek and fingerprint

function seek(t) {
  if (!current) throw new Error('seek: no scenario loaded (call load first)');
  if (!(typeof t === 'number' && Number.isFinite(t))) {
    throw new Error(`seek: time must be a finite number of seconds, got ${t}`);
  }
  current.renderer.seek(t); // synchronous re-render at media time t
  // Animated images and videos are set to t too; when one needs decoding
  // or seeking first, the answer is a Promise (the engine awaits it).
  const pending = syncMedia(current.stage, t);
  return pending ? pending.then(() => measure(false)) : measure(false);
}

// The states of many times in one call (one round trip, no frame drawn in
// between); the stage is left at the last of them.
async function seekMany(times) {
  if (!Array.isArray(times)) throw new Error(`seekMany: expected an array of times, got ${typeof times}`);
  const states = [];
  for (const t of times) states.push(await seek(t));
  return states;
}

// Elements whose opacity setOpaque(true) lifted to 1, with their inline value.
let lifted = [];

// setOpaque(true) draws the stage as if no element were faded (for a
// capture the engine then fades itself); setOpaque(false) undoes it.
function setOpaque(on) {
  if (!current) throw new Error('setOpaque: no scenario loaded (call load first)');
  if (on) {
    for (const el of current.stage.querySelectorAll('*')) {
      if (getComputedStyle(el).opacity !== '1') {
        lifted.push([el, el.style.opacity]);
        el.style.opacity = '1';
      }
    }
  } else {
    for (const [el, value] of lifted) el.style.opacity = value;
    lifted = [];
  }
  return lifted.length;
}

function fingerprint() {
  return current ? measure(false).fingerprint : '';
}

// Reads the visible overlay state in one pass over the stage's elements.
// Returns {fingerprint, bbox}; with raw=true also the unhashed description.
function measure(raw) {
  const { stage, width, height } = current;
  const origin = stage.getBoundingClientRect();
  const acc = {
    ox: origin.left, oy: origin.top,
    parts: [],
    faded: [], // elements with opacity below 1: {el, opacity, at}
    drawn: [], // elements that put pixels on the stage
    x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity,
  };
  visit(stage, 0, acc);

  // CSS animations and transitions run on the wall clock, not on seek(t):
  // while any exists the overlay is not a function of t alone.
  for (const a of document.getAnimations()) {
    acc.parts.push(`anim|${a.playState}|${a.currentTime}`);
  }

  const x0 = Math.max(0, Math.floor(acc.x0 - acc.ox));
  const y0 = Math.max(0, Math.floor(acc.y0 - acc.oy));
  const x1 = Math.min(width, Math.ceil(acc.x1 - acc.ox));
  const y1 = Math.min(height, Math.ceil(acc.y1 - acc.oy));
  if (!(x1 > x0 && y1 > y0)) {
    return raw ? { fingerprint: '', bbox: null, raw: '' } : { fingerprint: '', bbox: null };
  }
  // One faded element holding everything drawn fades it all as a group:
  // the overlay is the opaque one times `alpha`, so the fingerprint leaves
  // that opacity out and the engine reuses the opaque capture.
  let alpha = 1;
  const faded = acc.faded;
  if (faded.length === 1 && acc.drawn.every((d) => faded[0].el === d || faded[0].el.contains(d))) {
    alpha = faded[0].opacity;
  } else if (faded.length > 0) {
    acc.parts.push('opacity|' + faded.map((f) => `${f.at}=${f.opacity}`).join(','));
  }
  const text = acc.parts.join('\n');
  const out = { fingerprint: hash(text), bbox: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, alpha };
  if (raw) out.raw = text;
  return out;
}

// Elements whose children are not rendered as boxes of their own.
const REPLACED = new Set(['IMG', 'VIDEO', 'CANVAS', 'svg', 'IFRAME', 'OBJECT', 'EMBED', 'AUDIO']);

// Adds el and its rendered descendants to acc. `pad` is how far (in the
// element's own px) ancestors' filters can spread its pixels.
function visit(el, pad, acc) {
  const cs = getComputedStyle(el);
  if (cs.display === 'none' || cs.opacity === '0') return; // nothing below is drawn

  const scale = elementScale(el);
  const ownPad = pad + filterExtent(cs.filter);
  const shown = cs.visibility === 'visible';
  if (cs.opacity !== '1') acc.faded.push({ el, opacity: parseFloat(cs.opacity), at: acc.parts.length });
  if (shown) {
    const r = el.getBoundingClientRect();
    const text = directText(el);
    acc.parts.push([
      el.tagName, JSON.stringify(text),
      q(r.left - acc.ox), q(r.top - acc.oy), q(r.width), q(r.height),
      cs.transform, cs.color, cs.zIndex, cs.mixBlendMode,
      `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize}/${cs.lineHeight} ${cs.fontFamily}`,
      cs.letterSpacing, cs.textAlign, cs.textDecoration,
      cs.textShadow, cs.webkitTextStrokeWidth, cs.webkitTextStrokeColor, cs.webkitTextFillColor,
      cs.filter, cs.clipPath, cs.backgroundColor, cs.backgroundImage,
      cs.borderWidth, cs.borderStyle, cs.borderColor, cs.borderRadius, cs.boxShadow,
      cs.outlineWidth, cs.outlineStyle, cs.outlineColor,
      replacedState(el),
    ].join('|'));

    if (text.trim()) {
      // Text: the union of its text runs, grown by shadow, stroke and glyph overhang.
      const range = document.createRange();
      const fontPx = parseFloat(cs.fontSize) || 0;
      const grow = (ownPad + shadowExtent(cs.textShadow) +
        (parseFloat(cs.webkitTextStrokeWidth) || 0) + 0.25 * fontPx + 1) * scale;
      for (const n of el.childNodes) {
        if (n.nodeType !== Node.TEXT_NODE || !n.nodeValue.trim()) continue;
        range.selectNodeContents(n);
        addRect(acc, range.getBoundingClientRect(), grow);
        acc.drawn.push(el);
      }
    }
    if (drawsBox(el, cs)) {
      const grow = (ownPad + shadowExtent(cs.boxShadow) + outlineExtent(cs)) * scale;
      addRect(acc, r, grow);
      acc.drawn.push(el);
    }
  }
  if (REPLACED.has(el.tagName)) return;
  for (const child of el.children) visit(child, ownPad, acc);
}

// Text of el's own text nodes (descendants report theirs).
function directText(el) {
  let s = '';
  for (const n of el.childNodes) if (n.nodeType === Node.TEXT_NODE) s += n.nodeValue;
  return s;
}

// What a replaced element shows, beyond its style.
function replacedState(el) {
  switch (el.tagName) {
    case 'IMG': return `${el.getAttribute('src') || ''}|${el.complete}|${el.naturalWidth}x${el.naturalHeight}`;
    case 'VIDEO': return `${el.currentSrc}|${el.currentTime}|${el.readyState}`;
    case 'CANVAS': try { return el.toDataURL(); } catch (_) { return `canvas|${Math.random()}`; }
    case 'svg': return el.outerHTML;
    default: return '';
  }
}

// Whether el paints anything of its own besides text.
function drawsBox(el, cs) {
  switch (el.tagName) {
    case 'IMG': return !!el.getAttribute('src');
    case 'VIDEO': return !!el.currentSrc;
    case 'CANVAS': case 'svg': case 'IFRAME': case 'OBJECT': case 'EMBED': return true;
    default: break;
  }
  if (!isTransparent(cs.backgroundColor) || cs.backgroundImage !== 'none') return true;
  if (cs.boxShadow !== 'none') return true;
  if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) return true;
  for (const side of ['Top', 'Right', 'Bottom', 'Left']) {
    if (cs[`border${side}Style`] !== 'none' && parseFloat(cs[`border${side}Width`]) > 0 &&
        !isTransparent(cs[`border${side}Color`])) return true;
  }
  return false;
}

function isTransparent(color) {
  return color === 'transparent' || /,\s*0\)$/.test(color) || /\/\s*0\)$/.test(color);
}

// How much larger than its layout box el appears (ancestor scale transforms).
function elementScale(el) {
  const w = el.offsetWidth, h = el.offsetHeight;
  if (!w || !h) return 1;
  const r = el.getBoundingClientRect();
  return Math.max(1, r.width / w, r.height / h);
}

// Largest distance a list of shadows ("color x y blur [spread], ...") reaches.
function shadowExtent(value) {
  if (!value || value === 'none') return 0;
  let max = 0;
  for (const shadow of splitTopLevel(value)) {
    const lengths = (shadow.replace(/[a-z-]+\([^)]*\)/gi, ' ').match(/-?[\d.]+px/g) || [])
      .map((v) => Math.abs(parseFloat(v)));
    const [x = 0, y = 0, blur = 0, spread = 0] = lengths;
    max = Math.max(max, x + y + blur + spread);
  }
  return max;
}

// How far a CSS filter spreads pixels beyond the element's box.
function filterExtent(value) {
  if (!value || value === 'none') return 0;
  let ext = 0;
  for (const m of value.matchAll(/blur\(([\d.]+)px\)/g)) ext += 3 * parseFloat(m[1]);
  for (const m of value.matchAll(/drop-shadow\(([^()]*(?:\([^)]*\)[^()]*)*)\)/g)) {
    ext += shadowExtent(m[1]) * 1.5;
  }
  return ext;
}

function outlineExtent(cs) {
  if (cs.outlineStyle === 'none') return 0;
  return (parseFloat(cs.outlineWidth) || 0) + Math.abs(parseFloat(cs.outlineOffset) || 0);
}

// Splits "a(b, c), d" at the commas outside parentheses.
function splitTopLevel(s) {
  const out = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out;
}

function addRect(acc, r, grow) {
  if (!(r.width > 0 && r.height > 0)) return;
  acc.x0 = Math.min(acc.x0, r.left - grow);
  acc.y0 = Math.min(acc.y0, r.top - grow);
  acc.x1 = Math.max(acc.x1, r.right + grow);
  acc.y1 = Math.max(acc.y1, r.bottom + grow);
}

// A length in hundredths of a pixel, as an integer string.
function q(v) {
  return String(Math.round(v * 100));
}

// 64-bit non-cryptographic hash of a string (two 32-bit FNV-1a style lanes,
// each finished with an avalanche step), as 16 hex digits plus the length.
function hash(s) {
  let a = 0x811c9dc5, b = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  a = avalanche(a ^ s.length);
  b = avalanche(b ^ Math.imul(s.length, 0x27d4eb2d));
  return hex(a) + hex(b) + '-' + s.length.toString(36);
}

function avalanche(h) {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hex(n) {
  return n.toString(16).padStart(8, '0');
}

// ---------------------------------------------------------------------------
// Plugins
//
// The published package (1.5.0) ships no plugin loader: configurePluginSource
// only stores {mode, serverBase, localBase}, and plugins are looked up at
// render time in its registry, filled by registerExternalPlugin. The registry
// answers both `name` and `name@version`, and the renderer asks for exactly
// the string the scenario wrote. So this page loads plugins itself, using the
// layout of the package's upstream server loader:
//
//   manifest: <pluginBase>/<name>@<version>/manifest.json
//   entry:    <pluginBase>/<name>@<version>/<manifest.entry>   (an ES module)
//   pluginBase = <serverBase>/plugins
//
// A bare name such as `fadeIn` means fadeIn@1.0.0. When the manifest has
// `integrity` (an SRI string such as "sha384-<base64>" for the entry, or an
// object mapping the entry's path to one), the entry's bytes are checked and
// exactly those bytes are imported; otherwise the entry URL is imported.

function configurePlugins({ serverBase, pluginBase: base } = {}) {
  let dir;
  if (typeof base === 'string' && base) dir = base;
  else if (typeof serverBase === 'string' && serverBase) dir = `${serverBase.replace(/\/+$/, '')}/plugins`;
  else throw new Error('configurePlugins: give serverBase (plugins under <serverBase>/plugins/) or pluginBase');
  pluginBase = new URL(dir.replace(/\/+$/, '') + '/', location.href).href;
  // Recorded for parity with the package's own setting; nothing in 1.5.0 reads it.
  mt.configurePluginSource({ mode: 'server', serverBase: serverBase || pluginBase });
  return { pluginBase };
}

// Loads and registers every plugin the scenario names. Never throws for a
// plugin: the ones it cannot load are listed in `missing`. When the folder
// `<name>@<version>` is absent (its manifest answers 404), the version is
// looked up in the plugin directory's `index.json` (`{"<name>": ["<version>", ...]}`,
// the list of the pack) and another version of the same name is used: the
// highest with the same major version, else the highest. Such a plugin is
// loaded (registered under the name the scenario wrote) and also listed in
// `substituted` as {name, wanted, using}.
async function loadPlugins(scenario) {
  const names = pluginNames(scenario);
  const loaded = [];
  const missing = [];
  const substituted = [];
  // Versioned names first, bare names last: registering `x@2.0.0` also claims
  // the bare key `x`, which must end up meaning x@1.0.0.
  const ordered = [...names].sort((a, b) => Number(!a.includes('@')) - Number(!b.includes('@')));
  for (const name of ordered) {
    const at = name.lastIndexOf('@');
    const id = at > 0 ? name.slice(0, at) : name;
    const version = at > 0 ? name.slice(at + 1) : DEFAULT_PLUGIN_VERSION;
    try {
      if (!PLUGIN_PART.test(id) || !PLUGIN_PART.test(version)) throw new Error('invalid plugin name');
      if (!pluginBase) throw new Error('no plugin directory configured');
      let p;
      try {
        p = await fetchPlugin(id, version);
      } catch (e) {
        if (!(e && e.absent)) throw e;
        const alt = await packVersion(id, version);
        if (!alt) throw e;
        p = await fetchPlugin(id, alt);
        substituted.push({ name, wanted: `${id}@${version}`, using: `${id}@${alt}` });
      }
      mt.registerExternalPlugin({ name: id, version, module: p.module, baseUrl: p.baseUrl, manifest: p.manifest });
      loaded.push(name);
    } catch (e) {
      missing.push({ name, reason: e && e.message ? e.message : String(e) });
    }
  }
  return { requested: [...names], loaded, missing, substituted };
}

const packIndexCache = new Map(); // pluginBase -> Promise<object|null>

// Another version of plugin `id` listed in <pluginBase>/index.json, or null:
// the highest with the same major version as `version`, else the highest.
async function packVersion(id, version) {
  if (!packIndexCache.has(pluginBase)) {
    packIndexCache.set(pluginBase, (async () => {
      try {
        const r = await fetch(new URL('index.json', pluginBase).href, { cache: 'no-store' });
        if (!r.ok) return null;
        const idx = await r.json();
        return idx && typeof idx === 'object' && !Array.isArray(idx) ? idx : null;
      } catch (_) {
        return null;
      }
    })());
  }
  const idx = await packIndexCache.get(pluginBase);
  const list = idx && Object.hasOwn(idx, id) && Array.isArray(idx[id]) ? idx[id] : [];
  const versions = list.filter((v) => typeof v === 'string' && PLUGIN_PART.test(v) && v !== version)
    .sort(compareVersions);
  if (versions.length === 0) return null;
  const major = (v) => v.split('.')[0];
  const same = versions.filter((v) => major(v) === major(version));
  return (same.length ? same : versions)[(same.length ? same : versions).length - 1];
}

// Orders "1.10.0" after "1.9.2": numeric parts numerically, others as text.
function compareVersions(a, b) {
  const pa = a.split(/[.-]/), pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '', y = pb[i] ?? '';
    const nx = /^\d+$/.test(x), ny = /^\d+$/.test(y);
    const c = nx && ny ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

async function fetchPlugin(id, version) {
  const key = `${id}@${version}`;
  const cacheKey = `${pluginBase}|${key}`;
  if (pluginCache.has(cacheKey)) return pluginCache.get(cacheKey);

  const baseUrl = new URL(`${key}/`, pluginBase).href;
  const res = await fetchOrExplain(new URL('manifest.json', baseUrl).href);
  if (!res.ok) {
    const err = new Error(`manifest ${baseUrl}manifest.json: HTTP ${res.status}`);
    err.absent = res.status === 404; // the folder is not there: loadPlugins may use another version
    throw err;
  }
  const manifest = await res.json();
  if (!manifest || typeof manifest.entry !== 'string') throw new Error('manifest has no entry');
  const entryUrl = new URL(manifest.entry, baseUrl).href;
  if (!entryUrl.startsWith(baseUrl)) throw new Error(`manifest entry ${manifest.entry} is outside the plugin folder`);

  let mod;
  const sri = entryIntegrity(manifest.integrity, manifest.entry);
  if (sri) {
    const r = await fetchOrExplain(entryUrl);
    if (!r.ok) throw new Error(`entry ${entryUrl}: HTTP ${r.status}`);
    const bytes = await r.arrayBuffer();
    if (!(await matchesIntegrity(bytes, sri))) throw new Error(`entry ${entryUrl} fails integrity ${sri}`);
    const blobUrl = URL.createObjectURL(new Blob([bytes], { type: 'text/javascript' }));
    try { mod = await import(blobUrl); } finally { URL.revokeObjectURL(blobUrl); }
  } else {
    mod = await import(entryUrl);
  }
  // Accept plugins that put their functions on a default export.
  const module = (mod.default && typeof mod.default === 'object') ? { ...mod.default, ...mod } : mod;
  if (typeof module.evalChannels !== 'function' && typeof module.animate !== 'function') {
    throw new Error('plugin module exports neither evalChannels nor animate');
  }
  const p = { module, manifest, baseUrl };
  pluginCache.set(cacheKey, p);
  return p;
}

// fetch, with a message that names the URL when the request never got an answer.
async function fetchOrExplain(url) {
  try {
    return await fetch(url, { cache: 'no-store' });
  } catch (e) {
    throw new Error(`${url}: request failed (server down, or blocked by CORS or the page's CSP)`);
  }
}

function entryIntegrity(integrity, entry) {
  if (typeof integrity === 'string') return integrity;
  if (integrity && typeof integrity === 'object') {
    const v = integrity[entry] ?? integrity[entry.replace(/^\.\//, '')] ?? integrity[`./${entry}`];
    return typeof v === 'string' ? v : null;
  }
  return null;
}

// SRI check: true when any of the listed hashes matches.
async function matchesIntegrity(bytes, sri) {
  const algos = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
  for (const token of sri.trim().split(/\s+/)) {
    const dash = token.indexOf('-');
    const algo = algos[token.slice(0, dash).toLowerCase()];
    if (!algo) continue;
    const digest = new Uint8Array(await crypto.subtle.digest(algo, bytes));
    const b64 = btoa(String.fromCharCode(...digest));
    if (b64 === token.slice(dash + 1).split('?')[0]) return true;
  }
  return false;
}

// Plugin names the scenario uses, with `define.` references followed.
function pluginNames(scenario) {
  const names = new Set();
  const deref = definesOf(scenario);
  eachNode(scenario, deref, (node) => {
    const chain = deref(node.pluginChain);
    if (!Array.isArray(chain)) return;
    for (const spec of chain) {
      const s = deref(spec);
      const name = s && typeof s === 'object' ? deref(s.name) : undefined;
      if (typeof name === 'string' && name) names.add(name);
    }
  });
  return names;
}

// ---------------------------------------------------------------------------
// Fonts
//
// The engine passes the faces to load: [{family, url, weight, style}], each
// url on the asset server (/fonts/...). Each is loaded with the FontFace API
// and added to document.fonts before the first capture. Which family each
// requested font-family list actually drew with is asked of Chromium itself
// (CSS.getPlatformFontsForNode) on probe elements: fontProbes() makes one per
// distinct `fontFamily` value of the scenario, outside the stage.

let requestedFamilies = [];
let probeText = '';

async function loadFonts(fonts) {
  const loaded = [];
  const failed = [];
  for (const f of Array.isArray(fonts) ? fonts : []) {
    if (!f || typeof f.family !== 'string' || typeof f.url !== 'string') continue;
    try {
      const face = new FontFace(f.family, `url(${JSON.stringify(new URL(f.url, location.href).href)})`,
        { weight: f.weight || 'normal', style: f.style || 'normal' });
      document.fonts.add(face);
      await face.load();
      loaded.push({ family: f.family, url: f.url });
    } catch (e) {
      failed.push({ family: f.family, url: f.url, reason: e && e.message ? e.message : String(e) });
    }
  }
  return { loaded, failed };
}

// Distinct `fontFamily` strings anywhere in the scenario (define included).
function fontFamilies(scenario) {
  const out = new Set();
  const deref = definesOf(scenario);
  const walk = (v, depth) => {
    if (!v || typeof v !== 'object' || depth > 64) return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'fontFamily') {
        const fam = deref(x);
        if (typeof fam === 'string' && fam.trim()) out.add(fam.trim());
      } else walk(x, depth + 1);
    }
  };
  walk(scenario, 0);
  return [...out];
}

// Up to 400 characters of the scenario's text, plus Latin letters and digits.
function sampleText(scenario) {
  let s = '';
  const deref = definesOf(scenario);
  eachNode(scenario, deref, (node) => {
    const t = deref(node.text ?? node.content);
    if (typeof t === 'string' && s.length < 400) s += t + ' ';
  });
  return (s.slice(0, 400) + ' AaBbGgQq 0123').trim();
}

function fontProbes() {
  clearFontProbes();
  return requestedFamilies.map((family, i) => {
    const el = document.createElement('div');
    el.id = `motionrender-font-probe-${i}`;
    Object.assign(el.style, { position: 'absolute', left: '0px', top: '0px', visibility: 'hidden',
      whiteSpace: 'pre', fontSize: '32px', pointerEvents: 'none' });
    // Laid out and painted (a hidden element reports no glyphs), but off
    // the page and outside the stage, so no capture ever shows it.
    el.style.left = '-100000px';
    el.style.visibility = 'visible';
    el.style.fontFamily = family;
    el.textContent = probeText;
    document.body.appendChild(el);
    void el.getBoundingClientRect(); // lay it out now: no frame may come before the query
    return { selector: `#${el.id}`, family };
  });
}

function clearFontProbes() {
  for (const el of document.querySelectorAll('[id^="motionrender-font-probe-"]')) el.remove();
}

// ---------------------------------------------------------------------------
// Scenario walking

// A function that follows `define.a.b` references through scenario.define
// (undefined when one does not resolve; the package reports those itself).
function definesOf(scenario) {
  const defs = (scenario && scenario.define) || {};
  const deref = (v, depth = 0) => {
    if (typeof v !== 'string' || !v.startsWith('define.') || depth > 64) return v;
    let cur = defs;
    for (const part of v.slice('define.'.length).split('.')) {
      if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
      cur = cur[part];
    }
    return deref(cur, depth + 1);
  };
  return deref;
}

// Calls fn(node) for every node object of every cue, depth first.
function eachNode(scenario, deref, fn) {
  const walk = (node, depth) => {
    if (!node || typeof node !== 'object' || Array.isArray(node) || depth > 256) return;
    fn(node);
    const children = deref(node.children);
    if (Array.isArray(children)) for (const c of children) walk(deref(c), depth + 1);
  };
  const cues = scenario && Array.isArray(scenario.cues) ? scenario.cues : [];
  for (const cue of cues) if (cue && typeof cue === 'object') walk(deref(cue.root), 0);
}

// ---------------------------------------------------------------------------

Object.assign(api, {
  ready: true,
  packageVersion: '1.5.0',
  load,
  seek,
  seekMany,
  fingerprint,
  setOpaque,
  fontProbes,
  clearFontProbes,
  mediaWarnings,
  // Debugging aid: the unhashed description behind the current fingerprint.
  describe: () => (current ? measure(true) : { fingerprint: '', bbox: null, raw: '' }),
  configurePlugins,
  dispose,
});
document.documentElement.dataset.motionrender = 'ready';
