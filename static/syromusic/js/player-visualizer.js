// The visualizer panel of the player: the music playing now, drawn from a Web Audio AnalyserNode in one of
// four styles (bars, waveform, circles, spectrum). The chosen style is remembered in localStorage.
// It talks to player.js only through window.syroPlayer and the syro:* events (modules never import each other).
//
// Web Audio takes over the audio elements' output for good: once an element feeds a MediaElementSource, it is
// heard only through the AudioContext, and a suspended context silences it. So the context is made only after
// the listener has interacted with the page (a browser starts such a context running), and the elements are
// routed through it only once it runs. Until the panel is first used, nothing of this exists.
//
// It draws only while music plays, the panel is open and the page is visible; otherwise the canvas is blank.
// With prefers-reduced-motion it draws a still picture every two seconds instead of an animation.

const STYLES = [
  { name: "bars", label: "Bars" },
  { name: "waveform", label: "Waveform" },
  { name: "circles", label: "Circles" },
  { name: "spectrum", label: "Spectrum" },
];
const STYLE_KEY = "syro:visualizer-style";
const STILL_EVERY_MS = 2000; // reduced motion: one still frame this often
// The frequencies drawn (log scale): below the low end is rumble, above the high end most music is quiet.
const LOW_HZ = 40;
const HIGH_HZ = 12000;
const BAR_COUNT = 48;
const DOT_COUNT = 40;
const RESUME_WAIT_MS = 1000;

const root = document.querySelector("[data-visualizer-root]");
const panel = root?.closest(".player-panel");
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
const darkScheme = window.matchMedia("(prefers-color-scheme: dark)");

let style = loadStyle();
let canvas = null;
let context2d = null;
let note = null;
let audioContext = null;
let analyser = null; // set once both elements feed it
let analyserNode = null;
const routed = new WeakSet(); // the audio elements already going through the context
let frequencies = null; // Uint8Array, reused every frame
let samples = null; // Uint8Array, reused every frame
let colours = null; // read from the CSS variables; refreshed when the colour scheme changes
let frameRequest = 0; // requestAnimationFrame id while animating
let stillTimer = 0; // setInterval id while drawing stills (reduced motion)
let connecting = null; // the promise of a graph being set up

function loadStyle() {
  try {
    const saved = localStorage.getItem(STYLE_KEY);
    return STYLES.some((entry) => entry.name === saved) ? saved : STYLES[0].name;
  } catch {
    return STYLES[0].name;
  }
}

function saveStyle() {
  try {
    localStorage.setItem(STYLE_KEY, style);
  } catch {
    // Storage full or refused: the choice lasts for this page only.
  }
}

function labelOf(name) {
  return STYLES.find((entry) => entry.name === name).label;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function build() {
  const choice = element("fieldset", "visualizer-styles");
  choice.append(element("legend", "visualizer-legend", "Style"));
  for (const { name, label } of STYLES) {
    const option = element("label", "visualizer-style");
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "visualizer-style";
    input.value = name;
    input.checked = name === style;
    option.append(input, element("span", "", label));
    choice.append(option);
  }
  choice.addEventListener("change", (event) => {
    style = event.target.value;
    saveStyle();
    describe();
    clear();
    update(); // choosing a style is a gesture: a good moment to set up the audio graph
  });

  const stage = element("div", "visualizer-stage");
  canvas = element("canvas", "visualizer-canvas");
  canvas.setAttribute("role", "img");
  canvas.dataset.frames = "0";
  context2d = canvas.getContext("2d");
  const idle = element("p", "visualizer-idle", "It moves while music plays.");
  idle.setAttribute("aria-hidden", "true"); // the canvas's own label says the same to a screen reader
  stage.append(canvas, idle);

  note = element("p", "visualizer-note");
  root.replaceChildren(choice, stage, note);
  root.tabIndex = -1; // player.js focuses the panel body when it opens
  root.dataset.audio = "none";
  describe();
  new ResizeObserver(fit).observe(canvas);
}

// What the canvas shows, for a screen reader (the picture itself is decoration).
function describe() {
  const drawing = Boolean(frameRequest || stillTimer);
  canvas.setAttribute(
    "aria-label",
    `${labelOf(style)} visualizer${drawing ? "" : ", still: it moves while music plays"}`,
  );
  canvas.dataset.style = style;
  root.dataset.drawing = String(drawing);
  note.textContent = reducedMotion.matches
    ? "Reduced motion is on: a still picture every two seconds instead of an animation."
    : "";
  note.hidden = !reducedMotion.matches;
}

// The canvas in device pixels, so lines stay sharp on dense screens. Resizing blanks it: draw again if due.
function fit() {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    if (stillTimer) {
      draw();
    }
  }
}

function readColours() {
  const css = getComputedStyle(root);
  const value = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  colours = {
    accent: value("--accent", "#5b21b6"),
    text: value("--text", "#1c1a24"),
    muted: value("--muted", "#55526a"),
    focus: value("--focus", "#c2410c"),
  };
}

// Audio.

function shouldDraw() {
  return Boolean(
    window.syroPlayer?.playing && panel && !panel.hidden && document.visibilityState === "visible",
  );
}

// The graph: both audio elements -> one analyser -> the speakers. Made once, and only when the browser lets
// the context run (after a gesture); an element can feed only one MediaElementSource in its life.
function connect() {
  if (analyser) {
    return Promise.resolve(true);
  }
  if (connecting) {
    return connecting;
  }
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  if (!AudioContextClass || navigator.userActivation?.hasBeenActive === false) {
    return Promise.resolve(false); // no gesture yet: try again at the next one
  }
  connecting = (async () => {
    try {
      audioContext = audioContext || new AudioContextClass();
      if (audioContext.state !== "running") {
        // Without a gesture the browser keeps resume() pending until one comes: give up for now, retry then.
        await Promise.race([audioContext.resume(), new Promise((done) => setTimeout(done, RESUME_WAIT_MS))]);
      }
      if (audioContext.state !== "running") {
        return false; // routing the music through a stopped context would silence it
      }
      const node = analyserNode || audioContext.createAnalyser();
      if (!analyserNode) {
        analyserNode = node;
        node.fftSize = 2048;
        node.smoothingTimeConstant = 0.8;
        // Mastered music sits near full scale: a higher ceiling than the default -30 dB keeps loud bands apart.
        node.minDecibels = -90;
        node.maxDecibels = -15;
        node.connect(audioContext.destination);
      }
      for (const audio of window.syroPlayer.elements) {
        if (!routed.has(audio)) {
          audioContext.createMediaElementSource(audio).connect(node);
          routed.add(audio); // a second createMediaElementSource for it would throw: a retry skips it
        }
      }
      frequencies = new Uint8Array(node.frequencyBinCount);
      samples = new Uint8Array(node.fftSize);
      analyser = node;
      root.dataset.audio = "connected"; // for tests and curious developers
      return true;
    } catch (error) {
      console.warn("The visualizer cannot use Web Audio here:", error);
      return false;
    } finally {
      connecting = null;
    }
  })();
  return connecting;
}

// Start or stop drawing to match what plays and what shows.
async function update() {
  if (!canvas) {
    return;
  }
  // Once the music goes through the context, a suspended context would silence it: whatever the panel.
  if (audioContext?.state === "suspended" && window.syroPlayer.playing) {
    audioContext.resume();
  }
  if (!shouldDraw()) {
    stop();
    return;
  }
  if (!(await connect()) || !shouldDraw()) {
    stop();
    return;
  }
  if (reducedMotion.matches) {
    if (frameRequest) {
      cancelAnimationFrame(frameRequest);
      frameRequest = 0;
    }
    if (!stillTimer) {
      stillTimer = setInterval(draw, STILL_EVERY_MS);
      draw();
    }
  } else {
    if (stillTimer) {
      clearInterval(stillTimer);
      stillTimer = 0;
    }
    if (!frameRequest) {
      frameRequest = requestAnimationFrame(animate);
    }
  }
  describe();
}

function animate() {
  draw();
  frameRequest = requestAnimationFrame(animate);
}

function stop() {
  if (frameRequest) {
    cancelAnimationFrame(frameRequest);
    frameRequest = 0;
  }
  if (stillTimer) {
    clearInterval(stillTimer);
    stillTimer = 0;
  }
  clear();
  if (canvas) {
    describe();
  }
}

function clear() {
  context2d?.clearRect(0, 0, canvas.width, canvas.height);
}

// Drawing.

function draw() {
  if (!analyser || !canvas.width || !canvas.height) {
    return;
  }
  if (!colours) {
    readColours();
  }
  context2d.clearRect(0, 0, canvas.width, canvas.height);
  if (style === "waveform") {
    analyser.getByteTimeDomainData(samples);
    drawWaveform();
  } else {
    analyser.getByteFrequencyData(frequencies);
    if (style === "bars") {
      drawBars();
    } else if (style === "circles") {
      drawCircles();
    } else {
      drawSpectrum();
    }
  }
  canvas.dataset.frames = String(Number(canvas.dataset.frames) + 1);
}

// The loudness (0..1) of band `index` of `count`, on a log frequency scale: the louder bin of its range.
function band(index, count) {
  const hzPerBin = audioContext.sampleRate / 2 / frequencies.length;
  const ratio = HIGH_HZ / LOW_HZ;
  const from = Math.floor((LOW_HZ * ratio ** (index / count)) / hzPerBin);
  const to = Math.max(from + 1, Math.floor((LOW_HZ * ratio ** ((index + 1) / count)) / hzPerBin));
  let loudest = 0;
  for (let bin = from; bin < to && bin < frequencies.length; bin += 1) {
    loudest = Math.max(loudest, frequencies[bin]);
  }
  return loudest / 255;
}

function drawBars() {
  const { width, height } = canvas;
  const slot = width / BAR_COUNT;
  const gap = Math.max(1, slot * 0.2);
  context2d.fillStyle = colours.accent;
  for (let index = 0; index < BAR_COUNT; index += 1) {
    const barHeight = Math.round(band(index, BAR_COUNT) * height);
    if (barHeight > 0) {
      context2d.fillRect(index * slot + gap / 2, height - barHeight, slot - gap, barHeight);
    }
  }
}

function drawWaveform() {
  const { width, height } = canvas;
  const ratio = window.devicePixelRatio || 1;
  context2d.lineWidth = 2 * ratio;
  context2d.lineJoin = "round";
  context2d.strokeStyle = colours.accent;
  context2d.beginPath();
  const step = width / (samples.length - 1);
  for (let index = 0; index < samples.length; index += 1) {
    const y = (samples[index] / 255) * height;
    if (index === 0) {
      context2d.moveTo(0, y);
    } else {
      context2d.lineTo(index * step, y);
    }
  }
  context2d.stroke();
}

// A ring of dots, one per band, each as large as its band is loud, round a disc that follows the bass.
function drawCircles() {
  const { width, height } = canvas;
  const centreX = width / 2;
  const centreY = height / 2;
  const ring = Math.min(width, height) * 0.32;
  const biggest = (2 * Math.PI * ring) / DOT_COUNT / 2;
  let bass = 0;
  for (let index = 0; index < 4; index += 1) {
    bass += band(index, DOT_COUNT / 2) / 4;
  }
  context2d.globalAlpha = 0.35;
  context2d.fillStyle = colours.focus;
  context2d.beginPath();
  context2d.arc(centreX, centreY, bass * ring * 0.8, 0, 2 * Math.PI);
  context2d.fill();
  context2d.globalAlpha = 1;
  context2d.fillStyle = colours.accent;
  // Mirrored left and right: the bass at the top, the treble at the bottom, so the ring stays balanced.
  const half = DOT_COUNT / 2;
  for (let index = 0; index < DOT_COUNT; index += 1) {
    const radius = band(Math.min(index, DOT_COUNT - index), half + 1) * biggest;
    if (radius < 0.5) {
      continue;
    }
    const angle = (index / DOT_COUNT) * 2 * Math.PI - Math.PI / 2;
    const reach = ring + radius * 1.5;
    context2d.beginPath();
    context2d.arc(centreX + Math.cos(angle) * reach, centreY + Math.sin(angle) * reach, radius, 0, 2 * Math.PI);
    context2d.fill();
  }
}

// The frequency curve, filled and fading downwards: one point every few pixels, so it reads as a landscape.
function drawSpectrum() {
  const { width, height } = canvas;
  const points = Math.max(16, Math.round(width / (6 * (window.devicePixelRatio || 1))));
  const fill = context2d.createLinearGradient(0, 0, 0, height);
  fill.addColorStop(0, colours.accent);
  fill.addColorStop(1, "rgb(0 0 0 / 0)");
  const curve = new Path2D(); // the line along the top
  const area = new Path2D(); // the same line closed along the bottom, to fill
  area.moveTo(0, height);
  for (let index = 0; index < points; index += 1) {
    const x = (index / (points - 1)) * width;
    const y = height - band(index, points) * height;
    curve.lineTo(x, y);
    area.lineTo(x, y);
  }
  area.lineTo(width, height);
  area.closePath();
  context2d.globalAlpha = 0.55;
  context2d.fillStyle = fill;
  context2d.fill(area);
  context2d.globalAlpha = 1;
  context2d.lineWidth = 2 * (window.devicePixelRatio || 1);
  context2d.strokeStyle = colours.text;
  context2d.stroke(curve);
}

function start() {
  if (!root || !panel) {
    return;
  }
  build();
  document.addEventListener("syro:state", update);
  document.addEventListener("syro:panel", (event) => {
    if (event.detail.name === "visualizer") {
      update();
    }
  });
  document.addEventListener("visibilitychange", update);
  reducedMotion.addEventListener("change", () => {
    stop();
    update();
  });
  darkScheme.addEventListener("change", () => {
    colours = null;
  });
  // The first gesture on the page may come after the panel opened (say, after a reload with it open).
  for (const kind of ["pointerdown", "keydown"]) {
    document.addEventListener(kind, () => analyser || update(), { capture: true, passive: true });
  }
  update();
}

if (window.syroPlayer) {
  start();
} else {
  document.addEventListener("syro:ready", start, { once: true });
}
