// The timeline: recorded spans (green) and gaps (grey) of one camera over a day or an hour, with the
// playing moment marked and ranges found altered in storage (amber: not played). Click to play from a
// moment; zoom and move the view with the buttons. All times are UTC, as the cameras' burnt-in clocks are.

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const tickSteps = [minute, 5 * minute, 10 * minute, 15 * minute, 30 * minute, hour, 2 * hour, 3 * hour, 6 * hour, 12 * hour, day];
const colours = { gap: '#dfe3ea', span: '#2e9e5b', altered: '#e8a317', cursor: '#d0342c', text: '#1d2330', tick: '#9aa3b2' };

export const utc = (ms, withDate = true) =>
  new Date(ms).toISOString().slice(withDate ? 0 : 11, 19).replace('T', ' ');

export class Timeline {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {HTMLElement} label where the visible range is written
   * @param {(from: Date, to: Date) => Promise<{spans: {start: string, end: string}[]}>} load
   * @param {(time: number) => void} seek called with the clicked moment (ms since the epoch)
   */
  constructor(canvas, label, load, seek) {
    this.canvas = canvas;
    this.label = label;
    this.load = load;
    this.seek = seek;
    this.spans = [];
    this.altered = [];
    this.cursor = null;
    this.start = 0;
    this.end = 0;
    this.loading = 0;
    canvas.addEventListener('click', (event) => {
      const box = canvas.getBoundingClientRect();
      this.seek(this.start + ((event.clientX - box.left) / box.width) * (this.end - this.start));
    });
    // Keyboard: ← → move the playing moment by a fiftieth of the view and play from there.
    canvas.addEventListener('keydown', (event) => {
      const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
      if (step === undefined) {
        return;
      }
      event.preventDefault();
      const from = this.cursor ?? (this.start + this.end) / 2;
      this.seek(from + (step * (this.end - this.start)) / 50);
    });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /** The whole UTC day around `time`. */
  showDay(time) {
    const start = Math.floor(time / day) * day;
    return this.show(start, start + day);
  }

  /** The UTC hour around `time`. */
  showHour(time) {
    const start = Math.floor(time / hour) * hour;
    return this.show(start, start + hour);
  }

  /** Narrower (factor < 1) or wider (factor > 1), around the playing moment when it is in view. */
  zoom(factor) {
    const width = Math.min(7 * day, Math.max(5 * minute, (this.end - this.start) * factor));
    const centre = this.cursor !== null && this.cursor >= this.start && this.cursor <= this.end ? this.cursor : (this.start + this.end) / 2;
    return this.show(centre - width / 2, centre + width / 2);
  }

  /** Earlier (-1) or later (+1) by most of a view. */
  move(direction) {
    const step = (this.end - this.start) * 0.75 * direction;
    return this.show(this.start + step, this.end + step);
  }

  async show(start, end) {
    this.start = Math.round(start);
    this.end = Math.round(end);
    this.draw();
    return this.refresh();
  }

  /** Reads the spans of the visible range again (new recordings arrive every few seconds). */
  async refresh() {
    const ticket = ++this.loading;
    const { start, end } = this;
    const timeline = await this.load(new Date(start), new Date(end));
    if (ticket !== this.loading) {
      return;
    }
    this.spans = timeline.spans.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
    this.draw();
  }

  /** Marks a range (ms) whose recording was found altered in storage. */
  markAltered(start, end) {
    this.altered.push({ start, end });
    this.draw();
  }

  /** The playing moment (ms), or null. Scrolls the view when playback runs off its end. */
  setCursor(time) {
    this.cursor = time;
    if (time !== null && time > this.end && time - this.end < (this.end - this.start) / 4) {
      // A failed read here is reported by the page's next periodic refresh.
      this.move(1).catch(() => {});
      return;
    }
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const g = canvas.getContext('2d');
    const x = (time) => ((time - this.start) / (this.end - this.start)) * width;
    const barTop = 6 * ratio;
    const barHeight = height * 0.5;
    g.clearRect(0, 0, width, height);
    g.fillStyle = colours.gap;
    g.fillRect(0, barTop, width, barHeight);
    g.fillStyle = colours.span;
    for (const span of this.spans) {
      const left = Math.max(0, x(span.start));
      const right = Math.min(width, x(span.end));
      if (right > left) {
        g.fillRect(left, barTop, Math.max(1, right - left), barHeight);
      }
    }
    g.fillStyle = colours.altered;
    for (const span of this.altered) {
      const left = Math.max(0, x(span.start));
      const right = Math.min(width, x(span.end));
      if (right > left) {
        g.fillRect(left, barTop, Math.max(2 * ratio, right - left), barHeight);
      }
    }

    const span = this.end - this.start;
    const step = tickSteps.find((s) => span / s <= 12) ?? day;
    g.font = `${11 * ratio}px system-ui, sans-serif`;
    g.fillStyle = colours.text;
    g.strokeStyle = colours.tick;
    g.textBaseline = 'top';
    for (let tick = Math.ceil(this.start / step) * step; tick <= this.end; tick += step) {
      const left = x(tick);
      g.beginPath();
      g.moveTo(left, barTop + barHeight);
      g.lineTo(left, barTop + barHeight + 5 * ratio);
      g.stroke();
      const text = step >= day ? utc(tick).slice(0, 10) : utc(tick, false).slice(0, 5);
      g.fillText(text, Math.min(left + 2 * ratio, width - g.measureText(text).width), barTop + barHeight + 6 * ratio);
    }

    if (this.cursor !== null && this.cursor >= this.start && this.cursor <= this.end) {
      g.fillStyle = colours.cursor;
      g.fillRect(x(this.cursor) - ratio, 0, 2 * ratio, barTop + barHeight + 4 * ratio);
    }
    this.label.textContent = `${utc(this.start).slice(0, 16)} – ${utc(this.end).slice(0, 16)} UTC`;
    canvas.dataset.start = new Date(this.start).toISOString();
    canvas.dataset.end = new Date(this.end).toISOString();
  }
}
