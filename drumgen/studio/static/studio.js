// drumgen studio: the page's logic. Plain JavaScript, no libraries; talks to the JSON API of
// drumgen/studio/app.py and draws the SSMs and the piano roll on <canvas> elements.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { info: null, run: null, take: null, roll: null };
const SLIDERS = ["density", "variation", "fills", "temperature", "humanize", "swing"];
const KIT_LABELS = ["kick", "snare", "closed hat", "open hat", "low tom", "mid tom", "high tom", "crash", "ride", "other"];
const PART_COLOURS = ["#3b6ea8", "#b5432f", "#4b8b3b", "#8a5aa8", "#c28a1c", "#2f8f8f", "#7a7a7a"];
const DRUM_COLOUR = "#1d232b";

async function api(method, url, body) {
  const options = { method, headers: {} };
  if (body instanceof Blob) {
    options.body = body;
    options.headers["Content-Type"] = "application/octet-stream";
  } else if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers["Content-Type"] = "application/json";
  }
  const answer = await fetch(url, options);
  let data = null;
  try { data = await answer.json(); } catch (_) { data = null; }
  if (!answer.ok) {
    const message = data && (data.error || data.detail) ? (data.error || JSON.stringify(data.detail)) : `HTTP ${answer.status}`;
    throw new Error(message);
  }
  return data;
}

function setBusy(message) {
  document.body.dataset.state = "busy";
  $("status").textContent = message;
  $("error").hidden = true;
  for (const id of ["generate", "new-take", "redraw-bars", "use-example"]) $(id).disabled = true;
  document.querySelectorAll(".sections button, #takes button").forEach((b) => { b.disabled = true; });
}

function setReady(message) {
  document.body.dataset.state = state.take ? "ready" : "idle";
  $("status").textContent = message;
  $("use-example").disabled = false;
  for (const id of ["generate", "new-take", "redraw-bars"]) $(id).disabled = !state.run || (id === "redraw-bars" && !state.take);
  document.querySelectorAll(".sections button, #takes button").forEach((b) => { b.disabled = !state.take; });
}

function showError(error) {
  document.body.dataset.state = "error";
  $("error").textContent = error.message || String(error);
  $("error").hidden = false;
  $("status").textContent = state.run ? "Something went wrong; the song is still loaded." : "Choose a song.";
  $("use-example").disabled = false;
  for (const id of ["generate", "new-take", "redraw-bars"]) $(id).disabled = !state.run;
}

// --- controls ------------------------------------------------------------------------------

function showValue(id) {
  const output = document.querySelector(`output[for=${id}]`);
  if (output) output.textContent = $(id).value;
}

function applyDefaults(defaults) {
  $("seed").value = defaults.seed;
  for (const id of ["density", "variation", "fills", "temperature", "humanize"]) $(id).value = defaults[id];
  if (defaults.swing === "auto") { $("swing-mode").value = "auto"; } else { $("swing-mode").value = "set"; $("swing").value = defaults.swing; }
  $("always-play").checked = Boolean(defaults.always_play);
  SLIDERS.forEach(showValue);
  $("swing").disabled = $("swing-mode").value === "auto";
}

function controls() {
  return {
    seed: $("seed").value === "" ? null : Number($("seed").value),
    density: Number($("density").value),
    variation: Number($("variation").value),
    fills: Number($("fills").value),
    temperature: Number($("temperature").value),
    humanize: Number($("humanize").value),
    swing: $("swing-mode").value === "auto" ? "auto" : Number($("swing").value),
    genre: $("genre").value,
    always_play: $("always-play").checked,
  };
}

function randomSeed() { return Math.floor(Math.random() * 1e6); }

function describe(shaping) {
  const swing = shaping.swing === "auto" || shaping.swing === null ? "auto" : shaping.swing;
  return `seed ${shaping.seed}, density ${shaping.density >= 0 ? "+" : ""}${shaping.density}, variation ${shaping.variation ?? "-"}, ` +
    `fills ${shaping.fills ?? "-"}, temperature ${shaping.temperature ?? "-"}, swing ${swing}, humanize ${shaping.humanize ?? "-"}, ` +
    `${shaping.genre}${shaping.always_play ? ", always plays" : ""}`;
}

// --- drawing -------------------------------------------------------------------------------

function drawSsm(canvas, matrix, sections) {
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!matrix) { context.fillStyle = "#5b6673"; context.fillText("not available", 10, 20); return; }
  const n = matrix.length;
  let largest = 0;
  for (const row of matrix) for (const value of row) largest = Math.max(largest, value);
  const scale = largest > 0 ? 1 / largest : 1;  // the matrix's own range: 0 black, its largest distance white
  const image = context.createImageData(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const grey = Math.round(255 * Math.min(1, Math.max(0, matrix[i][j] * scale)));
      const k = 4 * (i * n + j);
      image.data[k] = grey; image.data[k + 1] = grey; image.data[k + 2] = grey; image.data[k + 3] = 255;
    }
  }
  const small = document.createElement("canvas");
  small.width = n; small.height = n;
  small.getContext("2d").putImageData(image, 0, 0);
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
  context.strokeStyle = "#b5432f";
  context.lineWidth = 1.5;
  for (const start of sections.starts.slice(1)) {
    const at = (start / n) * canvas.width;
    context.beginPath(); context.moveTo(at, 0); context.lineTo(at, canvas.height); context.stroke();
    context.beginPath(); context.moveTo(0, at); context.lineTo(canvas.width, at); context.stroke();
  }
}

function songSeconds() {
  return state.run.bar_times[state.run.bar_times.length - 1] + 1.0;
}

function drawRoll() {
  const canvas = $("pianoroll");
  const context = canvas.getContext("2d");
  const width = canvas.width, height = canvas.height;
  const top = 10, songBottom = 200, drumTop = 215, rowHeight = (height - drumTop - 8) / KIT_LABELS.length;
  const left = 70, plot = width - left - 8;
  context.clearRect(0, 0, width, height);
  if (!state.run) return;
  const seconds = songSeconds();
  const x = (t) => left + (t / seconds) * plot;
  // bar lines and sections
  context.strokeStyle = "#e3e6ea"; context.lineWidth = 1;
  for (const t of state.run.bar_times) { context.beginPath(); context.moveTo(x(t), top); context.lineTo(x(t), height - 4); context.stroke(); }
  context.strokeStyle = "#1d232b"; context.fillStyle = "#1d232b"; context.font = "12px system-ui, sans-serif";
  state.run.sections.starts.forEach((start, idx) => {
    const t = state.run.bar_times[start];
    context.beginPath(); context.moveTo(x(t), top); context.lineTo(x(t), height - 4); context.stroke();
    context.fillText(state.run.sections.labels[idx], x(t) + 3, top + 10);
  });
  // the song's notes
  const notes = state.run.notes;
  let low = 127, high = 0;
  for (const note of notes) { low = Math.min(low, note[2]); high = Math.max(high, note[2]); }
  const span = Math.max(12, high - low + 1);
  const pitchHeight = (songBottom - top - 14) / span;
  for (const [start, end, pitch, part] of notes) {
    context.fillStyle = PART_COLOURS[part % PART_COLOURS.length];
    const y = songBottom - (pitch - low + 1) * pitchHeight;
    context.fillRect(x(start), y, Math.max(1, x(end) - x(start)), Math.max(1, pitchHeight - 0.5));
  }
  canvas.dataset.songNotes = String(notes.length);
  // the drums, one row per kit class
  context.fillStyle = "#5b6673"; context.font = "11px system-ui, sans-serif";
  KIT_LABELS.forEach((label, row) => context.fillText(label, 4, drumTop + (row + 0.8) * rowHeight));
  let drawn = 0;
  if (state.take) {
    for (const [time, , velocity, kitClass] of state.take.hits) {
      const row = kitClass >= 0 ? kitClass : KIT_LABELS.length - 1;
      context.globalAlpha = 0.35 + 0.65 * (velocity / 127);
      context.fillStyle = DRUM_COLOUR;
      context.fillRect(x(time) - 1.5, drumTop + row * rowHeight + 1, 3, rowHeight - 2);
      drawn += 1;
    }
    context.globalAlpha = 1;
  }
  canvas.dataset.drumNotes = String(drawn);
  state.roll = context.getImageData(0, 0, width, height);
}

function drawPlayhead(audio) {
  if (!state.run || !state.roll) return;
  const canvas = $("pianoroll");
  const context = canvas.getContext("2d");
  context.putImageData(state.roll, 0, 0);
  const left = 70, plot = canvas.width - left - 8;
  const at = left + (audio.currentTime / songSeconds()) * plot;
  context.strokeStyle = "#b5432f"; context.lineWidth = 2;
  context.beginPath(); context.moveTo(at, 0); context.lineTo(at, canvas.height); context.stroke();
}

function drawSections() {
  const holder = $("sections");
  holder.textContent = "";
  const { starts, ends, labels } = state.run.sections;
  const canvas = $("pianoroll");
  const seconds = songSeconds();
  const scale = canvas.clientWidth / canvas.width;
  starts.forEach((start, idx) => {
    const begin = state.run.bar_times[start], end = state.run.bar_times[ends[idx]];
    const box = document.createElement("div");
    box.className = "section";
    box.style.left = `${(70 + (begin / seconds) * (canvas.width - 78)) * scale}px`;
    box.style.width = `${((end - begin) / seconds) * (canvas.width - 78) * scale}px`;
    box.textContent = `${labels[idx]} (bars ${start + 1}-${ends[idx]})`;
    const button = document.createElement("button");
    button.type = "button"; button.className = "small"; button.textContent = "redraw";
    button.title = `Redraw section ${labels[idx]}, bars ${start + 1} to ${ends[idx]}, keeping the rest`;
    button.dataset.section = String(idx);
    button.disabled = !state.take;
    button.addEventListener("click", () => redraw({ section: idx }, `section ${labels[idx]} (bars ${start + 1}-${ends[idx]})`));
    box.appendChild(button);
    holder.appendChild(box);
  });
}

// --- the song and its takes ------------------------------------------------------------------

function showRun(run) {
  state.run = run;
  state.take = null;
  $("song-audio").src = run.song_audio;
  $("take-audio").removeAttribute("src");
  $("take-label").textContent = "";
  $("bar-start").max = run.n_bars; $("bar-stop").max = run.n_bars; $("bar-stop").value = Math.min(4, run.n_bars);
  drawSsm($("ssm-melodic"), run.ssms.melodic, run.sections);
  drawSsm($("ssm-predicted"), run.ssms.predicted, run.sections);
  drawRoll();
  drawSections();
  showTakes(run.takes);
}

function showTake(take) {
  state.take = take;
  $("take-audio").src = take.urls.audio;
  $("take-label").textContent = `(take ${take.id})`;
  document.body.dataset.take = String(take.id);
  drawRoll();
  drawSections();
  document.querySelectorAll("#takes tr[data-take]").forEach((row) => row.classList.toggle("current", row.dataset.take === String(take.id)));
}

function showTakes(takes) {
  const body = document.querySelector("#takes tbody");
  body.textContent = "";
  for (const take of takes.slice().reverse()) {
    const row = document.createElement("tr");
    row.dataset.take = String(take.id);
    const what = take.base === null ? "whole song" : `take ${take.base}, bars ${take.bars[0] + 1}-${take.bars[1]} redrawn`;
    const cells = [`${take.id}`, what, describe(take.shaping)];
    for (const text of cells) { const cell = document.createElement("td"); cell.textContent = text; row.appendChild(cell); }
    const links = document.createElement("td");
    for (const [kind, label] of [["midi", "song + drums MIDI"], ["drums", "drums MIDI"]]) {
      const link = document.createElement("a");
      link.href = take.urls[kind]; link.textContent = label; link.className = `download-${kind}`; link.setAttribute("download", "");
      links.appendChild(link);
    }
    row.appendChild(links);
    const pick = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button"; button.className = "small"; button.textContent = "listen";
    button.addEventListener("click", () => openTake(take.id));
    pick.appendChild(button);
    row.appendChild(pick);
    if (state.take && state.take.id === take.id) row.classList.add("current");
    body.appendChild(row);
  }
  $("takes-hint").textContent = state.info ? `(the last ${state.info.max_takes} are kept)` : "";
}

async function refreshTakes() {
  const run = await api("GET", `/api/runs/${state.run.id}`);
  state.run.takes = run.takes;
  showTakes(run.takes);
}

async function openTake(takeId) {
  try {
    setBusy(`Opening take ${takeId}…`);
    showTake(await api("GET", `/api/runs/${state.run.id}/takes/${takeId}`));
    setReady(`Take ${takeId}.`);
  } catch (error) { showError(error); }
}

async function analyse(request, label) {
  try {
    setBusy(`Analysing ${label}: rendering it, its spectrogram and self-similarity…`);
    const started = performance.now();
    showRun(await request());
    const analysed = (performance.now() - started) / 1000;
    setBusy(`Analysed in ${analysed.toFixed(1)} s. Drumming ${state.run.n_bars} bars…`);
    await generate({});
  } catch (error) { showError(error); }
}

async function generate(overrides) {
  if (!state.run) return;
  try {
    setBusy("Drumming…");
    const started = performance.now();
    const take = await api("POST", `/api/runs/${state.run.id}/takes`, { ...controls(), ...overrides });
    showTake(take);
    await refreshTakes();
    setReady(`Take ${take.id}: ${take.hits.length} drum hits, ready in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  } catch (error) { showError(error); }
}

async function redraw(range, label) {
  if (!state.take) return;
  try {
    setBusy(`Redrawing ${label}…`);
    const body = { ...controls(), seed: randomSeed(), ...range };
    const take = await api("POST", `/api/runs/${state.run.id}/takes/${state.take.id}/regenerate`, body);
    showTake(take);
    await refreshTakes();
    setReady(`Take ${take.id}: ${label} redrawn, the rest kept.`);
  } catch (error) { showError(error); }
}

async function start() {
  SLIDERS.forEach((id) => $(id).addEventListener("input", () => showValue(id)));
  $("swing-mode").addEventListener("change", () => { $("swing").disabled = $("swing-mode").value === "auto"; });
  $("upload").addEventListener("change", () => {
    const file = $("upload").files[0];
    if (file) analyse(() => api("POST", `/api/runs?name=${encodeURIComponent(file.name)}`, file), file.name);
  });
  $("use-example").addEventListener("click", () => {
    const name = $("examples").value;
    if (name) analyse(() => api("POST", `/api/examples/${encodeURIComponent(name)}`), name);
  });
  $("generate").addEventListener("click", () => generate({}));
  $("new-take").addEventListener("click", () => { $("seed").value = randomSeed(); generate({}); });
  $("redraw-bars").addEventListener("click", () => {
    const first = Number($("bar-start").value), last = Number($("bar-stop").value);
    redraw({ start: first - 1, stop: last }, `bars ${first}-${last}`);
  });
  $("take-audio").addEventListener("timeupdate", () => drawPlayhead($("take-audio")));
  window.addEventListener("resize", () => { if (state.run) drawSections(); });
  try {
    state.info = await api("GET", "/api/info");
    for (const genre of state.info.genres) $("genre").add(new Option(genre, genre));
    for (const name of state.info.examples) $("examples").add(new Option(name, name));
    applyDefaults(state.info.defaults);
    $("upload").title = `a standard MIDI file of at most ${state.info.limits.max_file_mb} MB`;
    setReady("Choose a song: a MIDI file, or one of the examples.");
  } catch (error) { showError(error); }
}

start();
