// One channel's chart: a uPlot line of live or raw samples, or of bucket means with a min/max band. Drawn
// against the shared time range; a mouse drag across it asks the page to show that range.
const LINE = "#0b57d0";
const BAND = "rgba(11, 87, 208, 0.18)";
const EDGE = "rgba(11, 87, 208, 0.45)";
const HEIGHT = 200;

export class ChannelChart {
  constructor(name, parent, { onSelectRange }) {
    this.name = name;
    this.onSelectRange = onSelectRange;
    this.range = { from: 0, to: 1 };
    this.kind = null;
    this.plot = null;

    this.element = document.createElement("section");
    this.element.className = "channel";
    this.element.dataset.channel = name;
    this.element.setAttribute("aria-labelledby", `ch-${name}`);
    const heading = document.createElement("h2");
    heading.id = `ch-${name}`;
    heading.textContent = name;
    this.status = document.createElement("p");
    this.status.className = "channel-status";
    this.area = document.createElement("div");
    this.area.className = "plot";
    this.summary = document.createElement("p");
    this.summary.className = "summary";
    this.element.append(heading, this.status, this.area, this.summary);
    parent.append(this.element);
    // Live redraws skip charts scrolled out of view; one that scrolls in asks for a redraw.
    this.visible = true;
    this.onVisible = null;
    this.observer = new IntersectionObserver(([entry]) => {
      this.visible = entry.isIntersecting;
      if (this.visible) this.onVisible?.();
    });
    this.observer.observe(this.element);
  }

  /** Live samples (the channel's buffer columns, drawn without copying). */
  showLive(buffer, range) {
    this.#draw("line", [buffer.t, buffer.v], range);
    this.describeLive(buffer);
  }

  /** The text of a live chart without drawing it (for a chart out of view). */
  describeLive(buffer) {
    this.#describe("live", buffer.size, `Live: ${count(buffer.size)} samples kept${newest(buffer.lastV)}.`);
  }

  /** Raw stored samples as columns [t, v]. */
  showRaw(columns, range, cut) {
    this.#draw("line", columns, range);
    const n = columns[0].length;
    const more = cut ? " (more in this range: zoom in to see them all)" : "";
    this.#describe("raw", n, `History: ${count(n)} raw samples${more}.`);
  }

  /** Buckets as columns [t, mean, min, max]. */
  showBuckets(columns, range, step, samples) {
    this.#draw("band", columns, range);
    const n = columns[0].filter((_, i) => columns[1][i] !== null).length;
    this.#describe(
      "buckets",
      n,
      `History: ${count(n)} buckets of ${duration(step)} (mean line, min–max band) over ${count(samples)} samples.`,
    );
  }

  showMessage(range, text) {
    this.#draw("line", [[], []], range);
    this.#describe("empty", 0, text);
  }

  setStatus(text) {
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  resize() {
    this.plot?.setSize({ width: this.#width(), height: HEIGHT });
  }

  destroy() {
    this.observer.disconnect();
    this.plot?.destroy();
    this.element.remove();
  }

  #describe(mode, points, text) {
    this.element.dataset.mode = mode;
    this.element.dataset.points = String(points);
    this.summary.textContent = text;
  }

  #draw(kind, data, range) {
    this.range = range;
    if (this.kind !== kind) {
      this.plot?.destroy();
      this.plot = new uPlot(this.#options(kind), data, this.area);
      this.kind = kind;
    } else {
      this.plot.setData(data);
    }
  }

  #width() {
    return Math.max(240, this.area.clientWidth || this.element.clientWidth);
  }

  #options(kind) {
    const series =
      kind === "band"
        ? [
            {},
            { label: "mean", stroke: LINE, width: 1.5 },
            { label: "min", stroke: EDGE, width: 1 },
            { label: "max", stroke: EDGE, width: 1 },
          ]
        : [{}, { label: this.name, stroke: LINE, width: 1.5 }];
    return {
      width: this.#width(),
      height: HEIGHT,
      ms: 1,
      series,
      bands: kind === "band" ? [{ series: [3, 2], fill: BAND }] : [],
      scales: { x: { time: true, range: () => [this.range.from, this.range.to] } },
      axes: [{ stroke: "#1f1f1f" }, { stroke: "#1f1f1f", size: valueAxisWidth }],
      cursor: { drag: { x: true, y: false, setScale: false }, bind: { dblclick: () => null } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 2) {
              const from = Math.round(u.posToVal(u.select.left, "x"));
              const to = Math.round(u.posToVal(u.select.left + u.select.width, "x"));
              this.onSelectRange({ from, to });
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    };
  }
}

/** Room for the longest value label (a counter in the millions needs more than a heart rate). */
function valueAxisWidth(_u, values) {
  const longest = (values ?? []).reduce((m, v) => Math.max(m, v ? String(v).length : 0), 0);
  return Math.max(50, longest * 8 + 18);
}

function count(n) {
  return n.toLocaleString("en-US");
}

function newest(v) {
  return v === null ? "" : `, newest ${v}`;
}

/** "500 ms", "5 s", "2 min", "1 h". */
export function duration(ms) {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${ms / 1000} s`;
  if (ms < 3_600_000) return `${ms / 60_000} min`;
  return `${ms / 3_600_000} h`;
}
