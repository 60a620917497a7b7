// The live view: wires the form, the consumer connection, the charts and the time range together. Live frames
// only mark the charts dirty; one requestAnimationFrame redraws them, however fast the frames come.
import { ApiError } from "./api.js";
import { ChannelBuffer } from "./channel-buffer.js";
import { ChannelChart, duration } from "./channel-chart.js";
import { LiveConnection } from "./connection.js";
import { discoverChannels, loadHistory, loadRecent } from "./history.js";
import { ageText, refusalText } from "./messages.js";
import { liveRange, pan, rangeFromInputs, toInputValue, zoom } from "./view-range.js";

const USER_KEY = "zander-live.user_id";
const TOKEN_KEY = "zander-live.token";
const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const STATUS_EVERY_MS = 500;
/** Key presses and drags settle for this long before history is fetched. */
const HISTORY_DEBOUNCE_MS = 150;

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("connect-form"),
  user: $("user-id"),
  token: $("token"),
  connect: $("connect"),
  disconnect: $("disconnect"),
  forget: $("forget"),
  connection: $("connection"),
  summary: $("stream-summary"),
  socketUrl: $("socket-url"),
  message: $("message"),
  live: $("live"),
  windowSelect: $("window"),
  rangeForm: $("range-form"),
  rangeFrom: $("range-from"),
  rangeTo: $("range-to"),
  rangeLabel: $("range-label"),
  charts: $("charts"),
};

const state = {
  session: null,
  connection: null,
  buffers: new Map(),
  charts: new Map(),
  view: { mode: "live" },
  history: null,
  historyTimer: 0,
  frameRequested: false,
  lastDrawAt: 0,
  lastDrawMs: 0,
};

// ---- session and connection ---------------------------------------------------------------------------------

function connect(userId, token) {
  disconnect();
  clearMessage();
  sessionStorage.setItem(USER_KEY, userId);
  sessionStorage.setItem(TOKEN_KEY, token);
  state.session = { userId, token };
  for (const chart of state.charts.values()) chart.destroy();
  state.charts.clear();
  state.buffers.clear();
  state.connection = new LiveConnection({
    userId,
    token,
    sinceMs: Date.now() - liveWindowMs(),
    onFrame,
    onState: showConnection,
  });
  state.connection.start();
  backfill(state.connection, userId, token);
  ui.disconnect.disabled = false;
  if (state.view.mode === "history") scheduleHistory();
}

/** Starts the live charts with the stored samples of the live window (the socket adds newer ones). */
async function backfill(connection, userId, token) {
  try {
    const samples = await loadRecent(userId, token, liveRange(Date.now(), liveWindowMs()).from);
    if (state.connection !== connection) return;
    for (const s of samples) addSample(s, s.relay_id, s.session_id, 0);
    requestDraw();
  } catch {
    // A refused token is reported by the connection; live samples still arrive without the backfill.
  }
}

function disconnect() {
  state.connection?.stop();
  state.connection = null;
  ui.disconnect.disabled = true;
  showConnection({ kind: "idle" });
}

function showConnection(s) {
  const text = {
    idle: "Not connected.",
    connecting: "Connecting…",
    connected: "Connected: receiving live samples.",
    reconnecting: `Reconnecting in ${ageText(s.inMs ?? 0)} (attempt ${s.attempt}): ${s.reason}.`,
    stopped: "Stopped.",
  }[s.kind];
  ui.connection.textContent = text;
  ui.connection.className = `state-${s.kind}`;
  ui.socketUrl.textContent = s.url ? `Stream: ${s.url}` : ui.socketUrl.textContent;
  if (s.kind === "connected") clearMessage();
  if (s.kind === "stopped") {
    ui.disconnect.disabled = true;
    showMessage(s.reason === "expired" ? s.message : refusalFromText(s.message));
  }
}

/** "401: token expired" from the connection becomes the sentence the viewer reads. */
function refusalFromText(text) {
  const match = /^(\d{3}): (.*)$/.exec(text ?? "");
  return match ? refusalText(Number(match[1]), match[2], state.session?.userId) : text;
}

function onFrame(frame) {
  const arrivedAt = Date.now();
  for (const s of frame.samples) addSample(s, frame.relay_id, frame.session_id, arrivedAt);
  requestDraw();
}

function addSample(s, relayId, sessionId, arrivedAt) {
  let buffer = state.buffers.get(s.ch);
  if (!buffer) {
    buffer = new ChannelBuffer(s.ch);
    state.buffers.set(s.ch, buffer);
    chartFor(s.ch);
  }
  buffer.add(s.t, s.v, relayId, sessionId, arrivedAt);
}

// ---- drawing ------------------------------------------------------------------------------------------------

function chartFor(ch) {
  let chart = state.charts.get(ch);
  if (!chart) {
    chart = new ChannelChart(ch, ui.charts, { onSelectRange: (range) => showRange(range) });
    chart.onVisible = requestDraw;
    // Keep the charts in channel-name order.
    const names = [...state.charts.keys(), ch].sort();
    const next = names[names.indexOf(ch) + 1];
    if (next) ui.charts.insertBefore(chart.element, state.charts.get(next).element);
    state.charts.set(ch, chart);
    if (state.view.mode === "history") {
      chart.showMessage(currentRange(), "Not in the loaded history: reload the range or go back to Live.");
    }
  }
  return chart;
}

/**
 * One live redraw per animation frame at most, and never more than a third of the main thread: after a redraw
 * that took d ms the next waits at least 2d, so many channels of dense data slow the redraws, not the tab.
 */
function requestDraw() {
  if (state.frameRequested) return;
  state.frameRequested = true;
  const wait = Math.max(0, state.lastDrawAt + 3 * state.lastDrawMs - performance.now());
  if (wait === 0) requestAnimationFrame(draw);
  else setTimeout(() => requestAnimationFrame(draw), wait);
}

function draw() {
  state.frameRequested = false;
  if (state.view.mode !== "live") return;
  const started = performance.now();
  const range = liveRange(Date.now(), liveWindowMs());
  for (const [ch, chart] of state.charts) {
    const buffer = state.buffers.get(ch);
    if (!buffer) chart.showMessage(range, "No live samples on this channel since connecting.");
    else if (chart.visible) chart.showLive(buffer, range);
    else chart.describeLive(buffer);
  }
  state.lastDrawAt = started;
  state.lastDrawMs = performance.now() - started;
}

/** Status texts twice a second (not per frame: reading them must not cost the charts anything). */
function updateStatus() {
  const now = Date.now();
  let total = 0;
  const relays = new Map();
  for (const [ch, buffer] of state.buffers) {
    const rate = buffer.rate(now);
    total += rate;
    if (buffer.relayId) relays.set(buffer.relayId, buffer.sessionId);
    const age = buffer.lastT === null ? "no sample yet" : `last sample ${ageText(now - buffer.lastT)} ago`;
    state.charts
      .get(ch)
      ?.setStatus(
        `${rate.toFixed(1)} samples/s · ${age} · relay ${buffer.relayId} · session ${buffer.sessionId}`,
      );
  }
  if (!state.session) {
    ui.summary.textContent = "No samples yet.";
  } else if (state.buffers.size === 0) {
    ui.summary.textContent = `No live samples for user “${state.session.userId}” yet: none stored in the last ${duration(liveWindowMs())} and no relay streaming now.`;
  } else {
    const relayText = [...relays].map(([r, s]) => `${r} (session ${s})`).join(", ");
    ui.summary.textContent = `${state.buffers.size} channel${state.buffers.size === 1 ? "" : "s"} · ${total.toFixed(1)} samples/s · relay ${relayText}`;
  }
  if (state.view.mode === "live") requestDraw();
}

// ---- time range ---------------------------------------------------------------------------------------------

/** The live window the viewer picked (1, 5 or 15 minutes). */
function liveWindowMs() {
  return Number(ui.windowSelect.value);
}

function currentRange() {
  return state.view.mode === "live" ? liveRange(Date.now(), liveWindowMs()) : state.view.range;
}

function goLive() {
  state.history?.abort();
  state.view = { mode: "live" };
  ui.live.setAttribute("aria-pressed", "true");
  ui.rangeLabel.textContent = `Showing live: the last ${duration(liveWindowMs())}.`;
  requestDraw();
}

function showRange(range) {
  state.view = { mode: "history", range };
  ui.live.setAttribute("aria-pressed", "false");
  ui.rangeFrom.value = toInputValue(range.from);
  ui.rangeTo.value = toInputValue(range.to);
  ui.rangeLabel.textContent = `Showing ${new Date(range.from).toLocaleString()} – ${new Date(range.to).toLocaleString()} (${ageText(range.to - range.from)}): loading…`;
  scheduleHistory();
}

function scheduleHistory() {
  clearTimeout(state.historyTimer);
  state.historyTimer = setTimeout(loadRange, HISTORY_DEBOUNCE_MS);
}

async function loadRange() {
  if (state.view.mode !== "history") return;
  if (!state.session) {
    showMessage("Connect with a user id and consumer token first.");
    return;
  }
  const { userId, token } = state.session;
  const range = state.view.range;
  state.history?.abort();
  const abort = new AbortController();
  state.history = abort;
  try {
    const stored = await discoverChannels(userId, token, range, abort.signal);
    const channels = [...new Set([...state.buffers.keys(), ...state.charts.keys(), ...stored])].sort();
    if (channels.length === 0) {
      ui.rangeLabel.textContent = `${labelFor(range)}: no stored samples in this range.`;
      return;
    }
    const loaded = await loadHistory(userId, token, channels, range, abort.signal);
    if (state.view.range !== range) return;
    for (const ch of channels) {
      const chart = chartFor(ch);
      const h = loaded.channels.get(ch);
      if (!h) chart.showMessage(range, "No stored samples of this channel in this range.");
      else if (h.kind === "raw") chart.showRaw(h.columns, range, h.cut);
      else chart.showBuckets(h.columns, range, loaded.step, h.samples);
    }
    ui.rangeLabel.textContent = `${labelFor(range)}: buckets of ${duration(loaded.step)}, raw samples where few enough.`;
    if (loaded.errors.length) showMessage(`Some stored data could not be read: ${loaded.errors.join("; ")}`);
    else clearMessage();
  } catch (err) {
    if (abort.signal.aborted) return;
    ui.rangeLabel.textContent = `${labelFor(range)}: not loaded.`;
    if (err instanceof ApiError) {
      showMessage(
        [400, 401, 403, 503].includes(err.status) && err.code !== "invalid"
          ? refusalText(err.status, err.message, userId)
          : `History could not be loaded (${err.status}): ${err.message}`,
      );
    } else {
      showMessage(`History could not be loaded: ${err.message}`);
    }
  }
}

function labelFor(range) {
  return `Showing ${new Date(range.from).toLocaleString()} – ${new Date(range.to).toLocaleString()}`;
}

const actions = {
  live: goLive,
  earlier: () => showRange(pan(currentRange(), -0.5)),
  later: () => showRange(pan(currentRange(), 0.5)),
  zoomIn: () => showRange(zoom(currentRange(), 0.5)),
  zoomOut: () => showRange(zoom(currentRange(), 2)),
};

// ---- messages -----------------------------------------------------------------------------------------------

function showMessage(text) {
  ui.message.textContent = text;
  ui.message.hidden = false;
}

function clearMessage() {
  ui.message.hidden = true;
  ui.message.textContent = "";
}

// ---- events -------------------------------------------------------------------------------------------------

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const userId = ui.user.value.trim();
  const token = ui.token.value.trim();
  if (!USER_ID.test(userId)) {
    showMessage("User id: 1–64 characters of A–Z, a–z, 0–9, _ . -");
    ui.user.focus();
    return;
  }
  if (!token) {
    showMessage("Paste a consumer token (npm run -s token -- --user <user id> --role consumer).");
    ui.token.focus();
    return;
  }
  connect(userId, token);
});
ui.disconnect.addEventListener("click", disconnect);
ui.forget.addEventListener("click", () => {
  disconnect();
  sessionStorage.removeItem(TOKEN_KEY);
  ui.token.value = "";
  state.session = null;
});
ui.live.addEventListener("click", actions.live);
$("earlier").addEventListener("click", actions.earlier);
$("later").addEventListener("click", actions.later);
$("zoom-in").addEventListener("click", actions.zoomIn);
$("zoom-out").addEventListener("click", actions.zoomOut);
ui.windowSelect.addEventListener("change", () => {
  goLive();
  if (state.connection && state.session)
    backfill(state.connection, state.session.userId, state.session.token);
});
ui.rangeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const parsed = rangeFromInputs(ui.rangeFrom.value, ui.rangeTo.value);
  if (parsed.error) showMessage(parsed.error);
  else showRange(parsed.range);
});
$("last-hour").addEventListener("click", () => showRange(liveRange(Date.now(), 3_600_000)));
$("last-day").addEventListener("click", () => showRange(liveRange(Date.now(), 86_400_000)));

const KEYS = {
  "+": "zoomIn",
  "=": "zoomIn",
  "-": "zoomOut",
  _: "zoomOut",
  ArrowLeft: "earlier",
  ArrowRight: "later",
  l: "live",
  L: "live",
};
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (
    target instanceof HTMLInputElement ||
    target instanceof HTMLSelectElement ||
    target instanceof HTMLTextAreaElement
  )
    return;
  const action = KEYS[event.key];
  if (!action) return;
  event.preventDefault();
  actions[action]();
});

let resizeRequested = false;
window.addEventListener("resize", () => {
  if (resizeRequested) return;
  resizeRequested = true;
  requestAnimationFrame(() => {
    resizeRequested = false;
    for (const chart of state.charts.values()) chart.resize();
  });
});

setInterval(updateStatus, STATUS_EVERY_MS);
goLive();
const savedUser = sessionStorage.getItem(USER_KEY);
const savedToken = sessionStorage.getItem(TOKEN_KEY);
if (savedUser) ui.user.value = savedUser;
if (savedUser && savedToken) {
  ui.token.value = savedToken;
  connect(savedUser, savedToken);
}
