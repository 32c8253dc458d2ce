// The studio page: plain JavaScript, no build step. Every answer comes from the server,
// which asks the library; this file only sends the text and settings and shows the replies.
"use strict";

const token = document.querySelector('meta[name="studio-token"]').content;
const $ = (id) => document.getElementById(id);
const editor = $("editor");
const gutter = $("gutter");
const player = $("player");
let routinePath = "";
let checking = null; // the AbortController of the check in flight
let checkTimer = 0;
let cues = []; // the built track's spoken cues, for the line under the player
let chapterStarts = [];

async function api(method, url, body, { type = "application/json", signal } = {}) {
  const init = { method, headers: {}, signal };
  if (method !== "GET") {
    init.headers["X-Studio-Token"] = token;
    init.headers["Content-Type"] = type;
    init.body = type === "application/json" ? JSON.stringify(body) : body;
  }
  const answer = await fetch(url, init);
  const data = await answer.json().catch(() => ({ error: answer.statusText }));
  if (!answer.ok) throw new Error(data.error || answer.statusText);
  return data;
}

function clock(seconds) {
  const whole = Math.round(seconds);
  const m = Math.floor(whole / 60);
  return `${m}:${String(whole % 60).padStart(2, "0")}`;
}

function fill(select, values, keep) {
  for (const value of values) {
    const option = document.createElement("option");
    option.value = option.textContent = value;
    select.append(option);
  }
  if (keep !== undefined) select.value = keep;
}

async function loadFiles(chosen) {
  const files = await api("GET", "/api/files");
  const list = $("routine-list");
  list.replaceChildren();
  fill(list, files.routines, chosen || files.routines[0]);
  const music = $("music");
  const musicNow = music.value;
  music.replaceChildren(music.options[0] || new Option("none (or the routine's)", ""));
  music.options[0].value = "";
  fill(music, files.music, musicNow);
  const programs = $("program-list");
  const programNow = programs.value;
  programs.replaceChildren(new Option("none open", ""));
  fill(programs, files.programs, programNow);
  if ($("engine").options.length === 0) {
    fill($("engine"), files.engines, files.engine);
    fill($("language"), files.languages, "");
    fill($("format"), files.formats, "mp3");
  }
  return files;
}

async function openRoutine(path) {
  if (!path) return;
  const routine = await api("GET", `/api/routine?path=${encodeURIComponent(path)}`);
  routinePath = routine.path;
  editor.value = routine.text;
  drawGutter([]);
  check();
}

function drawGutter(badLines) {
  const count = editor.value.split("\n").length;
  const bad = new Set(badLines);
  gutter.replaceChildren();
  for (let line = 1; line <= count; line++) {
    const number = document.createElement("span");
    number.textContent = line;
    if (bad.has(line)) number.className = "bad";
    gutter.append(number, "\n");
  }
  gutter.scrollTop = editor.scrollTop;
}

function settings() {
  return {
    path: routinePath,
    length: $("length").value,
    language: $("language").value,
    engine: $("engine").value,
    music: $("music").value,
    music_level_db: $("music-level").value,
    duck_db: $("duck").value,
    format: $("format").value,
  };
}

function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 500);
}

async function check() {
  if (!routinePath) return;
  if (checking) checking.abort();
  const mine = (checking = new AbortController());
  let answer;
  try {
    answer = await api("POST", "/api/check", { ...settings(), text: editor.value }, {
      signal: mine.signal,
    });
  } catch (error) {
    if (mine.signal.aborted) return;
    answer = { errors: [{ line: null, text: error.message }] };
  }
  if (mine !== checking) return; // a newer text is being checked
  showErrors(answer.errors);
  if (answer.errors.length) return;
  $("chart").innerHTML = answer.chart_svg; // drawn by the library, every text escaped
  $("length-now").textContent = clock(answer.script.length_s);
  const bounds = answer.bounds;
  $("bounds").textContent = `(${clock(bounds.shortest_s)} to ${clock(bounds.longest_s)})`;
  showScript(answer.script);
}

function showErrors(errors) {
  const list = $("errors");
  list.replaceChildren();
  for (const problem of errors) {
    const item = document.createElement("li");
    item.textContent = problem.text;
    if (problem.line) item.dataset.line = problem.line;
    list.append(item);
  }
  drawGutter(errors.map((problem) => problem.line).filter(Boolean));
}

function showScript(script) {
  const body = $("script").tBodies[0];
  body.replaceChildren();
  for (const event of script.events) {
    if (event.kind !== "speech") continue;
    const row = body.insertRow();
    const exercise = event.exercise ? `${event.exercise}${event.side ? ` (${event.side})` : ""}` : "";
    for (const text of [clock(event.start_s), event.text, exercise]) row.insertCell().textContent = text;
  }
}

async function save() {
  try {
    const saved = await api("PUT", "/api/routine", { path: routinePath, text: editor.value });
    $("saved").textContent = `saved ${saved.saved}`;
  } catch (error) {
    $("saved").textContent = error.message;
  }
}

async function newRoutine() {
  let name = $("new-name").value.trim();
  if (!name) return;
  if (!/\.ya?ml$/i.test(name)) name += ".yaml";
  try {
    const made = await api("POST", "/api/new", { path: name });
    await loadFiles(made.path);
    await openRoutine(made.path);
  } catch (error) {
    $("saved").textContent = error.message;
  }
}

async function build() {
  const button = $("build");
  $("build-error").textContent = "";
  try {
    await save();
    const started = await api("POST", "/api/build", settings());
    button.disabled = true;
    follow(started.events);
  } catch (error) {
    $("build-error").textContent = error.message;
  }
}

function follow(url) {
  const progress = $("progress");
  const label = $("progress-label");
  const labels = { speech: "Making the speech", encode: "Encoding" };
  progress.value = 0;
  label.textContent = "Starting";
  const events = new EventSource(url);
  const end = () => {
    events.close();
    $("build").disabled = false;
  };
  events.addEventListener("progress", (message) => {
    const step = JSON.parse(message.data);
    const part = step.total ? step.done / step.total : 0;
    // speech fills the first half, encoding most of the rest; the end waits for the files
    progress.value = step.stage === "encode" ? 0.5 + part * 0.45 : part / 2;
    label.textContent = `${labels[step.stage] || step.stage}: ${Math.round(part * 100)}%`;
  });
  events.addEventListener("finished", (message) => {
    end();
    progress.value = 1;
    const track = JSON.parse(message.data).finished;
    label.textContent = track.notice ? `Built (${track.notice})` : "Built";
    showTrack(track);
  });
  events.addEventListener("failed", (message) => {
    end();
    progress.value = 0;
    label.textContent = "Failed";
    $("build-error").textContent = JSON.parse(message.data).failed;
  });
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) end();
  };
}

function showTrack(track) {
  player.src = `${track.track}?v=${Date.now()}`;
  cues = track.script.events.filter((event) => event.kind === "speech");
  const chapters = $("chapters");
  chapters.replaceChildren();
  chapterStarts = track.script.chapters.map((chapter) => chapter.start_s);
  for (const chapter of track.script.chapters) {
    const item = document.createElement("li");
    item.dataset.startS = chapter.start_s;
    const jump = document.createElement("button");
    jump.type = "button";
    jump.textContent = `${chapter.title} (${clock(chapter.start_s)})`;
    jump.addEventListener("click", () => {
      player.currentTime = chapter.start_s;
      player.play().catch(() => {});
    });
    item.append(jump);
    chapters.append(item);
  }
  const links = $("download");
  links.replaceChildren();
  for (const url of [track.track, ...track.sidecars]) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = url;
    link.download = "";
    link.textContent = `Download ${url.split("/").pop()}`;
    item.append(link);
    links.append(item);
  }
}

async function openProgram(path) {
  const section = $("program");
  section.hidden = !path;
  if (!path) return;
  const program = await api("GET", `/api/program?path=${encodeURIComponent(path)}`);
  $("program-title").textContent = program.name ? `Program: ${program.name}` : "Program";
  $("program-description").textContent = program.description || "";
  const errors = $("program-errors");
  errors.replaceChildren();
  for (const problem of program.errors) {
    const item = document.createElement("li");
    item.textContent = problem.text;
    if (problem.line) item.dataset.line = problem.line;
    errors.append(item);
  }
  const sessions = $("sessions");
  sessions.replaceChildren();
  for (const session of program.sessions) {
    const item = document.createElement("li");
    const length = session.length_s ? ` (${clock(session.length_s)})` : "";
    item.textContent = `Week ${session.week}, day ${session.day}: ${session.title}${length}`;
    sessions.append(item);
  }
  $("build-all").disabled = program.errors.length > 0;
  $("program-error").textContent = "";
  showFeed(program);
  section.scrollIntoView({ block: "nearest" });
}

function showFeed(built) {
  $("feed-box").hidden = !built.feed;
  if (!built.feed) return;
  $("feed").href = $("feed").textContent = built.feed;
  $("qr").src = built.qr_svg; // drawn by the server as a data: URI
}

async function buildAll() {
  const path = $("program-list").value;
  const button = $("build-all");
  const progress = $("program-progress");
  const label = $("program-progress-label");
  $("program-error").textContent = "";
  let started;
  try {
    started = await api("POST", "/api/program/build", { path, engine: $("engine").value });
  } catch (error) {
    $("program-error").textContent = error.message;
    return;
  }
  button.disabled = true;
  progress.value = 0;
  label.textContent = "Making the speech for every session";
  const events = new EventSource(started.events);
  const end = () => {
    events.close();
    button.disabled = false;
  };
  events.addEventListener("progress", (message) => {
    const step = JSON.parse(message.data);
    progress.value = step.total ? (step.done / step.total) * 0.95 : 0; // the end waits for the feed
    if (step.done) label.textContent = `Sessions: ${step.done} of ${step.total}`;
  });
  events.addEventListener("finished", (message) => {
    end();
    const built = JSON.parse(message.data).finished;
    progress.value = 1;
    label.textContent = `Built ${built.built}, up to date ${built.skipped}`;
    showFeed(built);
  });
  events.addEventListener("failed", (message) => {
    end();
    progress.value = 0;
    label.textContent = "Failed";
    $("program-error").textContent = JSON.parse(message.data).failed;
  });
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) end();
  };
}

player.addEventListener("timeupdate", () => {
  const now = player.currentTime;
  const said = cues.filter((cue) => cue.start_s <= now).pop();
  $("cue").textContent = said ? said.text : "";
  const current = chapterStarts.filter((start) => start <= now).length - 1;
  [...$("chapters").children].forEach((item, index) => item.classList.toggle("now", index === current));
});

async function upload() {
  const file = $("upload").files[0];
  if (!file) return;
  try {
    const kept = await api("PUT", `/api/upload?name=${encodeURIComponent(file.name)}`, file, {
      type: "application/octet-stream",
    });
    await loadFiles(routinePath);
    $("music").value = kept.music;
  } catch (error) {
    $("build-error").textContent = error.message;
  }
}

editor.addEventListener("input", () => {
  drawGutter([]);
  scheduleCheck();
});
editor.addEventListener("scroll", () => (gutter.scrollTop = editor.scrollTop));
editor.addEventListener("keydown", (key) => {
  if (key.key === "Tab" && !key.shiftKey && !key.ctrlKey) {
    // two spaces, as YAML wants; Escape then Tab leaves the editor for the keyboard user
    if (editor.dataset.escaped) return delete editor.dataset.escaped;
    key.preventDefault();
    editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
    scheduleCheck();
  } else if (key.key === "Escape") {
    editor.dataset.escaped = "1";
  } else if ((key.ctrlKey || key.metaKey) && key.key === "s") {
    key.preventDefault();
    save();
  }
});
for (const id of ["length", "language", "engine"]) $(id).addEventListener("change", check);
$("routine-list").addEventListener("change", (event) => openRoutine(event.target.value));
$("program-list").addEventListener("change", (event) =>
  openProgram(event.target.value).catch((error) => ($("program-error").textContent = error.message)),
);
$("build-all").addEventListener("click", buildAll);
$("save").addEventListener("click", save);
$("new-routine").addEventListener("click", newRoutine);
$("build").addEventListener("click", build);
$("upload").addEventListener("change", upload);

loadFiles().then((files) => openRoutine(files.routines[0]));
