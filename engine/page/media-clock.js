// media-clock.js: animated images and videos inside captions follow the
// render's frame time, not the browser's clock, so a render is a function of
// its inputs (the same job rendered twice gives the same frames).
//
// Animated images (GIF, animated WebP/PNG): the first time an <img> on the
// stage shows an animated image, its bytes are fetched and decoded with the
// WebCodecs ImageDecoder, every frame is turned into a still PNG data: URL
// (data URLs load synchronously, so a swap is drawn in the very next frame),
// and from then on each seek(t) sets the <img>'s src to the still frame for
// t: frame time = t − the media time at which this <img> was first seen on
// the stage, looped over the image's total duration (or held on the last
// frame once a finite repetition count is used up). The original URL is kept
// in `data-motionrender-src`; a plugin that sets a new src starts over.
//
// Videos: every <video> on the stage is paused and seeked to the same frame
// time (looped when it has `loop`), and seek(t) waits for `seeked`.

const MAX_FRAMES = 1000;
const VIDEO_WAIT_MS = 3000;
/// Longest a decoding step may take before the image is left to the browser.
const STEP_WAIT_MS = 3000;

// `promise`, or a rejection naming `step` after STEP_WAIT_MS.
function step(promise, name) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} took longer than ${STEP_WAIT_MS} ms`)), STEP_WAIT_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const animations = new Map(); // absolute URL -> Promise<{frames, total, repeat} | null>
const firstSeen = new WeakMap(); // element -> media time it was first seen
const swapped = new WeakMap(); // img -> the still-frame URL this module set
const warnings = new Set();

/// Warnings collected so far (an image that could not be decoded, ...).
export function mediaWarnings() {
  return [...warnings];
}

/// Brings every animated image and video on `stage` to media time t.
/// Returns null when that was done synchronously, else a Promise (a new
/// image had to be decoded, or a video had to seek).
export function syncMedia(stage, t) {
  const waits = [];
  for (const img of stage.querySelectorAll('img')) {
    const p = syncImage(img, t);
    if (p) waits.push(p);
  }
  for (const video of stage.querySelectorAll('video')) {
    const p = syncVideo(video, t);
    if (p) waits.push(p);
  }
  if (waits.length === 0) return null;
  // A decode finishing lets the image be set on the second pass.
  return Promise.all(waits).then(() => {
    for (const img of stage.querySelectorAll('img')) syncImage(img, t);
  });
}

function original(img) {
  const set = swapped.get(img);
  const src = img.getAttribute('src');
  if (!src) return null;
  if (set && src === set) return img.dataset.motionrenderSrc || null;
  // A new source (first sight, or a plugin changed it).
  if (set) { swapped.delete(img); firstSeen.delete(img); }
  return new URL(src, location.href).href;
}

function syncImage(img, t) {
  const url = original(img);
  if (!url || url.startsWith('data:')) return null;
  if (!animations.has(url)) animations.set(url, decodeAnimation(url));
  const entry = animations.get(url);
  if (!entry.settled) return entry.promise;
  const anim = entry.value;
  if (!anim) return null; // a still image: the browser's own drawing is exact
  if (!firstSeen.has(img)) firstSeen.set(img, t);
  const frame = frameAt(anim, (t - firstSeen.get(img)) * 1000);
  if (img.getAttribute('src') !== frame.url) {
    img.dataset.motionrenderSrc = url;
    img.setAttribute('src', frame.url);
    swapped.set(img, frame.url);
  }
  return null;
}

// The frame showing `ms` after the animation started.
function frameAt(anim, ms) {
  const { frames, total, repeat } = anim;
  let local = Math.max(0, ms);
  if (total > 0) {
    const plays = Number.isFinite(repeat) ? repeat + 1 : Infinity;
    local = local >= total * plays ? total - 1e-6 : local % total;
  }
  let lo = 0, hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].end > local) hi = mid; else lo = mid + 1;
  }
  return frames[lo];
}

// {settled, value, promise}: the decoded animation of `url`, or null when
// it is a still image or cannot be decoded (then the browser draws it).
function decodeAnimation(url) {
  const entry = { settled: false, value: null, promise: null };
  entry.promise = (async () => {
    try {
      if (typeof ImageDecoder === 'undefined') {
        warnings.add('ImageDecoder is not available: animated images run on the browser clock');
        return null;
      }
      const res = await step(fetch(url, { cache: 'no-store' }), 'fetch');
      if (!res.ok) return null;
      const type = (res.headers.get('content-type') || '').split(';')[0].trim();
      if (!type.startsWith('image/') || !(await step(ImageDecoder.isTypeSupported(type), 'isTypeSupported'))) return null;
      const decoder = new ImageDecoder({ data: await step(res.arrayBuffer(), 'read'), type });
      await step(decoder.tracks.ready, 'tracks.ready');
      const track = decoder.tracks.selectedTrack;
      if (!track || !track.animated || track.frameCount < 2) { decoder.close(); return null; }
      await step(decoder.completed, 'completed');
      const count = Math.min(track.frameCount, MAX_FRAMES);
      if (track.frameCount > MAX_FRAMES) warnings.add(`animated image ${url}: only its first ${MAX_FRAMES} frames are used`);
      const frames = [];
      let end = 0;
      for (let i = 0; i < count; i++) {
        const { image } = await step(decoder.decode({ frameIndex: i }), 'decode');
        // Browsers draw frames shorter than 20 ms for 100 ms (GIF convention).
        let ms = (image.duration ?? 0) / 1000;
        if (!(ms >= 20)) ms = 100;
        end += ms;
        frames.push({ url: stillUrl(image), end });
        image.close();
      }
      decoder.close();
      return { frames, total: end, repeat: track.repetitionCount };
    } catch (e) {
      warnings.add(`animated image ${url} could not be decoded (${e && e.message ? e.message : e}); it runs on the browser clock`);
      return null;
    }
  })().then((value) => { entry.value = value; entry.settled = true; });
  return entry;
}

// A PNG data: URL of one decoded frame. A detached <canvas> and its
// synchronous toDataURL: OffscreenCanvas.convertToBlob waits about a second
// per call under begin-frame control.
function stillUrl(frame) {
  const canvas = document.createElement('canvas');
  canvas.width = frame.displayWidth;
  canvas.height = frame.displayHeight;
  canvas.getContext('2d').drawImage(frame, 0, 0);
  return canvas.toDataURL('image/png');
}

function syncVideo(video, t) {
  if (!video.currentSrc && !video.getAttribute('src') && !video.querySelector('source')) return null;
  video.autoplay = false;
  if (!video.paused) video.pause();
  if (!firstSeen.has(video)) firstSeen.set(video, t);
  const wanted = Math.max(0, t - firstSeen.get(video));
  const settle = async () => {
    if (video.readyState < 1) await eventOrTimeout(video, 'loadedmetadata');
    const d = video.duration;
    let at = wanted;
    if (Number.isFinite(d) && d > 0) at = video.loop ? wanted % d : Math.min(wanted, d);
    if (Math.abs(video.currentTime - at) > 1e-4) {
      const done = eventOrTimeout(video, 'seeked');
      video.currentTime = at;
      await done;
    }
    if (video.readyState < 2) await eventOrTimeout(video, 'loadeddata');
  };
  if (video.readyState >= 2 && Math.abs(video.currentTime - wantedTime(video, wanted)) <= 1e-4) return null;
  return settle();
}

function wantedTime(video, wanted) {
  const d = video.duration;
  if (Number.isFinite(d) && d > 0) return video.loop ? wanted % d : Math.min(wanted, d);
  return wanted;
}

function eventOrTimeout(el, name) {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); el.removeEventListener(name, done); resolve(); };
    const timer = setTimeout(() => {
      warnings.add(`a video did not answer '${name}' within ${VIDEO_WAIT_MS} ms`);
      done();
    }, VIDEO_WAIT_MS);
    el.addEventListener(name, done);
  });
}
