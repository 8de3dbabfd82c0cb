// The camera page's export panel: a UTC range (by default the half hour before the moment shown), the duration and
// number of segments it holds (from the timeline API), then export.js with progress and cancel, and the file saved
// through a download link. The page never sends the password anywhere: it only seals the ZIP here.
import { exportRange } from './export.js';
import { getJson } from './tokens.js';

const root = document.getElementById('player');
const form = document.getElementById('export-form');
const fromInput = document.getElementById('export-from');
const toInput = document.getElementById('export-to');
const passwordInput = document.getElementById('export-password');
const startButton = document.getElementById('export-start');
const cancelButton = document.getElementById('export-cancel');
const summary = document.getElementById('export-summary');
const progress = document.getElementById('export-progress');
const status = document.getElementById('export-status');
let controller = null;

const local = (ms) => new Date(ms).toISOString().slice(0, 19);
const parse = (value) => Date.parse(value.length === 16 ? `${value}:00Z` : `${value}Z`);
const megabytes = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;

function range() {
  const from = parse(fromInput.value);
  const to = parse(toInput.value);
  return Number.isFinite(from) && Number.isFinite(to) && to > from ? { from, to } : null;
}

async function describe() {
  const chosen = range();
  if (!chosen) {
    summary.textContent = '';
    return;
  }
  try {
    const timeline = await getJson(`${root.dataset.api}/api/cameras/${root.dataset.camera}/timeline?from=${new Date(chosen.from).toISOString()}&to=${new Date(chosen.to).toISOString()}`);
    const recorded = (timeline.spans ?? []).reduce((sum, span) => sum + Math.min(Date.parse(span.end), chosen.to) - Math.max(Date.parse(span.start), chosen.from), 0);
    summary.textContent = recorded > 0 ? `${Math.round(recorded / 1000)} s recorded in this range.` : 'Nothing recorded in this range.';
  } catch (error) {
    summary.textContent = error.message;
  }
}

document.getElementById('export').addEventListener('toggle', () => {
  if (!fromInput.value) {
    const shown = Date.parse(root.dataset.playing ?? '') || Date.now();
    fromInput.value = local(shown - 30 * 60_000);
    toInput.value = local(shown);
    describe();
  }
});
fromInput.addEventListener('change', describe);
toInput.addEventListener('change', describe);
cancelButton.addEventListener('click', () => controller?.abort());

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const chosen = range();
  if (!chosen) {
    status.textContent = "'To' must be after 'From'.";
    return;
  }
  controller = new AbortController();
  startButton.disabled = true;
  cancelButton.hidden = false;
  progress.hidden = false;
  progress.value = 0;
  status.textContent = 'Exporting…';
  try {
    const result = await exportRange({
      apiOrigin: root.dataset.api,
      cameraId: root.dataset.camera,
      cameraName: root.dataset.name,
      ...chosen,
      password: passwordInput.value,
      signal: controller.signal,
      onProgress: ({ done, total, bytes }) => {
        progress.value = done / total;
        status.textContent = `Exporting… ${done} of ${total} segments, ${megabytes(bytes)}`;
      },
    });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(result.blob);
    link.download = result.name;
    link.textContent = `Save ${result.name} again`;
    link.className = 'export-file';
    status.replaceChildren(`Exported ${result.segments} segments (${Math.round(result.seconds)} s, ${megabytes(result.blob.size)}). `, link);
    link.click();
  } catch (error) {
    status.textContent = error.name === 'AbortError' ? 'Export cancelled.' : error.message;
  } finally {
    controller = null;
    startButton.disabled = false;
    cancelButton.hidden = true;
    progress.hidden = true;
  }
});
