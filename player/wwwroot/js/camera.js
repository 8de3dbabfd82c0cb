// The camera page: plays a camera's encrypted recordings from a chosen moment with hls.js, and draws the timeline; or,
// in Live mode (a viewer's only mode), follows the newest recording about a segment behind the camera. hls.js fetches
// the playlist from the functions API and the segments straight from storage; it asks the key server for each data
// key, at the key tag's URI with the wrapped key (and a viewer's live grant) from the playlist's tag for that key
// (keys.js). Only those two APIs get a bearer token (the loader hook below); storage URLs carry their own short-lived
// signature and never a token. Every file from storage is checked against its SHA-256 from the playlist before hls.js
// decrypts it (integrity.js); a file changed in storage is not played: the page names its time range, playback goes on
// after it, and the API is told.
import { alteredText, uncheckedText, verifyingLoader } from './integrity.js';
import { HeadStart, headStartLoader } from './head-start.js';
import { keyRequestUrl, keyTag, parseKeyTag, unknownKeyText } from './keys.js';
import { SignedOut, getJson, postJson, token } from './tokens.js';
import { Timeline, utc } from './timeline.js';

const root = document.getElementById('player');
const liveOnly = root.dataset.liveOnly === 'true';
const cameraId = root.dataset.camera;
const apiOrigin = root.dataset.api;
const keyServerOrigin = root.dataset.keyserver;
const video = document.getElementById('video');
const clock = document.getElementById('clock');
const message = document.getElementById('message');
const playButton = document.getElementById('play');
const liveButton = document.getElementById('live');
const liveBadge = document.getElementById('live-badge');
const speed = document.getElementById('speed');
const alteredBox = document.getElementById('altered');
const alteredList = document.getElementById('altered-ranges');

const minute = 60_000;
const day = 24 * 60 * minute;
/** A playlist covers the chosen moment ± 15 minutes; at its end playback moves on to the next one. */
const halfWindow = 15 * minute;
const iso = (ms) => new Date(ms).toISOString();
const timelineUrl = (from, to) => `${apiOrigin}/api/cameras/${cameraId}/timeline?from=${iso(from)}&to=${iso(to)}`;
const playlistUrl = (from, to) => `${apiOrigin}/api/cameras/${cameraId}/playlist.m3u8?from=${iso(from)}&to=${iso(to)}`;
const liveUrl = `${apiOrigin}/api/cameras/${cameraId}/live.m3u8`;
const tamperReportsUrl = `${apiOrigin}/api/cameras/${cameraId}/tamper-reports`;
const bearer = (audience) => async () => ({ Authorization: `Bearer ${await token(audience)}` });

/** Whether the page opens live: a viewer's always does, anyone's with ?live. */
const opensLive = liveOnly || new URLSearchParams(location.search).has('live');

/** The moment the page's address asks to play (?at=, an ISO time; the form's value is UTC without a zone), or null for live or none. */
function requestedMoment() {
  if (opensLive) {
    return null;
  }
  const at = new URLSearchParams(location.search).get('at') ?? '';
  const requested = Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(at) ? at : `${at}Z`);
  return Number.isNaN(requested) ? null : requested;
}

// Time to first frame: the playlist of a moment the address names is asked for while hls.js (the page's largest script,
// preloaded by the page) is still loading, with the token the page's head preloaded (session-start.js); hls.js finds
// the playlist fetched (head-start.js).
const headStart = new HeadStart();
const firstMoment = requestedMoment();
if (firstMoment !== null) {
  headStart.fetch(playlistUrl(firstMoment - halfWindow, firstMoment + halfWindow), { type: 'text', headers: bearer('api') });
}
const { default: Hls, NetworkErrorAction } = await import('/lib/hls/hls.light.min.mjs');

/** Requests refused for good: retrying cannot help, so say so at once. */
const refusals = [400, 401, 403, 404, 429];

let hls = null;
let ticket = 0;
/** 'recordings' (a playlist around a chosen moment) or 'live' (the live playlist, reloaded every segment). */
let mode = 'recordings';
/** Whether the loaded playlist has started playing: before that, hls.js would override a seek with its start position. */
let started = false;
let loadedFrom = null;
let loadedTo = null;
let freshLinksTried = false;
/**
 * Settles once the loaded playlist shows its first frame, or cannot (no recording there, a failure), or after a few
 * seconds: a first open draws the timeline then, so that its request and drawing do not compete with the first frame's.
 */
let firstFrameSettled = Promise.resolve();
let settleFirstFrame = () => {};
/** Files refused, by part and segment start: each is named (and reported) once a page. */
const refused = new Set();
const isRefusal = (response) => response?.text === alteredText || response?.text === uncheckedText;
/**
 * The key server's query (wrapped key, and a viewer's live grant) for each data key of the playing playlist, by key URI:
 * from the playlist's key tags, at every load and every live reload (so a viewer's grant is the newest). hls.js keeps an
 * unknown tag on the fragment the next URI line makes; the playlist puts each after an EXT-X-MAP, so on a media
 * fragment, which a live reload makes anew (an init fragment hls.js keeps from the first load).
 */
let keyQueries = new Map();

function rememberKeys(details) {
  for (const fragment of details.fragments) {
    for (const [name, value] of fragment.tagList) {
      const entry = name === keyTag ? parseKeyTag(value, details.url) : null;
      if (entry) {
        keyQueries.set(entry[0], entry[1]);
      }
    }
  }
}

function fail(text) {
  message.textContent = text;
  message.hidden = false;
}

function clearMessage() {
  message.hidden = true;
  message.textContent = '';
}

function signIn() {
  location.assign(`/sign-in?ReturnUrl=${encodeURIComponent(location.pathname)}`);
}

/**
 * Adds the right token to playlist and key requests, and nothing to anything else (storage). A key request goes to the
 * key URI with its query from the playlist's key tag; a key the playlist gave no tag for fails at once (unknownKeyText).
 */
async function authorise(xhr, url, context) {
  const origin = new URL(url).origin;
  const audience =
    context.type === 'key' && origin === keyServerOrigin ? 'keyServer'
      : (context.type === 'manifest' || context.type === 'level') && origin === apiOrigin ? 'api'
        : null;
  if (audience === null) {
    return;
  }
  let target = url;
  if (audience === 'keyServer') {
    const query = keyQueries.get(new URL(url).href);
    if (query === undefined) {
      throw new Error(unknownKeyText);
    }
    target = keyRequestUrl(url, query);
  }
  try {
    const bearer = await token(audience);
    xhr.open('GET', target, true);
    xhr.setRequestHeader('Authorization', `Bearer ${bearer}`);
  } catch (error) {
    if (error instanceof SignedOut) {
      signIn();
    }
    throw error;
  }
}

// A file refused by its digest is "retried": onRefused has marked it a gap, so hls.js skips it and loads the next one.
// A key the playlist gave no tag for is not: asking again cannot help.
const noRetryOnRefusal = (config, count, timeout, response, retry) =>
  (isRefusal(response) ? count < config.maxNumRetry
    : response?.text === unknownKeyText || (response && refusals.includes(response.code)) ? false : retry);

function newHls(live = false) {
  const defaults = Hls.DefaultConfig;
  const policy = (name) => ({
    default: { ...defaults[name].default, errorRetry: { ...defaults[name].default.errorRetry, shouldRetry: noRetryOnRefusal } },
  });
  keyQueries = new Map();
  const created = new Hls({
    autoStartLoad: false,
    enableWorker: false,
    backBufferLength: 60,
    xhrSetup: authorise,
    // What the page fetched ahead of hls.js (playlist, key, files) is handed on by the head-start loader; media and
    // init segments, fetched early or not, reach hls.js only after their SHA-256 matched, never in pieces before that.
    loader: headStartLoader(defaults.loader, headStart),
    pLoader: headStartLoader(defaults.loader, headStart),
    fLoader: verifyingLoader(headStartLoader(defaults.loader, headStart), onRefused),
    progressive: false,
    keyLoadPolicy: policy('keyLoadPolicy'),
    fragLoadPolicy: policy('fragLoadPolicy'),
    manifestLoadPolicy: policy('manifestLoadPolicy'),
    playlistLoadPolicy: policy('playlistLoadPolicy'),
    // Live: start one segment behind the newest, and catch up if playback falls three behind.
    ...(live ? { liveSyncDurationCount: 1, liveMaxLatencyDurationCount: 3 } : {}),
  });
  // Before the page's own listeners, and synchronously: hls.js asks for a key only after the event has run.
  created.on(Hls.Events.LEVEL_LOADED, (_, data) => rememberKeys(data.details));
  return created;
}

/** The loaded playlist's fragments that carry a wall-clock time. */
function fragments() {
  const level = hls?.levels?.[Math.max(hls.currentLevel, 0)];
  return (level?.details?.fragments ?? []).filter((f) => f.programDateTime !== null);
}

/** The media position of wall-clock `time` in the loaded playlist (inside a gap: where recording resumes), or null outside it. */
function positionOf(time) {
  const loaded = fragments();
  const last = loaded.at(-1);
  if (!last || loadedFrom === null || time < loadedFrom || time >= last.programDateTime + last.duration * 1000) {
    return null;
  }
  const fragment = loaded.find((f) => time < f.programDateTime + f.duration * 1000);
  return fragment.start + Math.max(0, time - fragment.programDateTime) / 1000;
}

/**
 * The wall-clock time (ms) at media position `position`, from the fragment that holds it. (hls.js's own
 * playingDate uses the fragment it last saw playing, which lags a seek across a gap.)
 */
function dateAt(position) {
  const fragment = fragments().find((f) => position >= f.start - 0.05 && position < f.start + f.duration);
  return fragment ? fragment.programDateTime + Math.max(0, position - fragment.start) * 1000 : null;
}

/**
 * A file from storage did not match its digest (`altered`), or had none to check: it is not played. Its fragments
 * (for an init segment, every fragment of the loaded playlist that plays with it) become gaps that hls.js skips; the
 * page names the time range and the timeline shows it; an altered file is reported to the API. Named and reported
 * once a page, but marked every time: hls.js makes new fragments when it reloads a playlist.
 */
function onRefused(fragment, altered) {
  const init = fragment.sn === 'initSegment';
  const affected = init ? fragments().filter((f) => f.initSegment?.relurl === fragment.relurl) : [fragment];
  if (affected.length === 0 || affected[0].programDateTime === null) {
    return;
  }
  for (const f of affected) {
    if (!f.gap) {
      f.gap = true;
      f.tagList.push(['GAP']);
    }
  }
  if (init) {
    // hls.js skips a media segment's gap by itself, but would fetch a refused init segment again for every fragment
    // that plays with it, gaps included: once it has handled this failure, stop it and go on after them.
    setTimeout(goOnAfterGaps);
  }
  const from = affected[0].programDateTime;
  const last = affected.at(-1);
  const to = last.programDateTime + last.duration * 1000;
  const part = init ? 'init' : 'segment';
  const key = `${part}:${from}`;
  if (refused.has(key)) {
    return;
  }
  refused.add(key);
  const item = document.createElement('li');
  item.dataset.from = iso(from);
  item.dataset.to = iso(to);
  item.dataset.part = part;
  item.textContent = `${utc(from)} – ${utc(to, false)} UTC`
    + (!altered ? ' (it could not be checked: the playlist gave no SHA-256 for it)' : init ? ' (the header these segments play with was changed)' : '');
  alteredList.append(item);
  alteredBox.hidden = false;
  timeline?.markAltered(from, to);
  if (!altered) {
    return;
  }
  postJson(tamperReportsUrl, { segmentStart: iso(from), part })
    .then(() => { item.dataset.reported = 'true'; })
    .catch((error) => {
      item.dataset.reported = 'false';
      if (error instanceof SignedOut) {
        signIn();
      }
    });
}

async function play() {
  try {
    await video.play();
  } catch {
    // Autoplay refused: the Play button is there.
  }
}

/** Plays from wall-clock `time`: a seek when the loaded playlist covers it, else a new playlist. */
async function playAt(time) {
  clearMessage();
  timeline?.setCursor(time);
  const position = started ? positionOf(time) : null;
  if (position !== null) {
    video.currentTime = position;
    await play();
    return;
  }
  load(time);
}

/** Shows which mode plays: the Live button pressed and the LIVE badge, or neither. */
function setMode(next) {
  mode = next;
  root.dataset.mode = next;
  liveButton.setAttribute('aria-pressed', String(next === 'live'));
  liveBadge.hidden = next !== 'live';
}

/**
 * Starts fetching what hls.js will ask for to play from `position`: the fragment's key, its init segment and the
 * segment, at once. hls.js itself would fetch an encrypted init segment only once the key is in (head-start.js).
 */
function fetchFirstFragment(position) {
  headStart.clear(); // Anything fetched early for an earlier playlist that hls.js never asked for.
  const fragment = fragments().find((f) => position >= f.start && position < f.start + f.duration);
  if (!fragment || fragment.gap) {
    return;
  }
  rememberKeys(hls.levels[Math.max(hls.currentLevel, 0)].details); // hls.js may start before its LEVEL_LOADED.
  const keyUri = fragment.encrypted ? fragment.decryptdata?.uri : null;
  const query = keyUri ? keyQueries.get(new URL(keyUri).href) : undefined;
  if (query !== undefined && new URL(keyUri).origin === keyServerOrigin) {
    headStart.fetch(keyUri, { from: keyRequestUrl(keyUri, query), headers: bearer('keyServer') });
  }
  if (fragment.initSegment && !fragment.initSegment.data) {
    headStart.fetch(fragment.initSegment.url);
  }
  headStart.fetch(fragment.url);
}

function load(time) {
  const mine = ++ticket;
  setMode('recordings');
  hls?.destroy();
  hls = newHls();
  freshLinksTried = false;
  started = false;
  loadedFrom = time - halfWindow;
  loadedTo = time + halfWindow;
  firstFrameSettled = new Promise((resolve) => {
    settleFirstFrame = resolve;
    setTimeout(resolve, 3_000);
  });
  let startLoaded = false;
  const start = () => {
    if (startLoaded || mine !== ticket || fragments().length === 0) {
      return;
    }
    startLoaded = true;
    const position = positionOf(time);
    if (position === null) {
      settleFirstFrame();
      fail(`No recordings at or after ${utc(time)} UTC in this part of the timeline.`);
      return;
    }
    video.defaultPlaybackRate = video.playbackRate = Number(speed.value);
    fetchFirstFragment(position);
    hls.startLoad(position);
    playButton.disabled = false;
    play();
  };
  hls.on(Hls.Events.MANIFEST_PARSED, start);
  hls.on(Hls.Events.LEVEL_LOADED, start);
  hls.on(Hls.Events.LEVEL_LOADED, () => fragments().length === 0 && settleFirstFrame()); // Nothing recorded to show.
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (data.fatal) {
      settleFirstFrame();
    }
    if (mine === ticket) {
      onError(data);
    }
  });
  hls.attachMedia(video);
  hls.loadSource(playlistUrl(loadedFrom, loadedTo));
}

/** Seconds to wait before asking again for a live playlist that had nothing, or failed. */
const liveRetry = 4_000;

/**
 * Live mode: the live playlist lists the camera's newest unbroken run of the last minutes, and hls.js reloads it every
 * segment, playing one segment behind the newest. When the camera starts a new run (it restarted after a gap), the
 * playlist moves to it; hls.js cannot splice that in, so the page starts live again.
 */
function goLive() {
  const mine = ++ticket;
  setMode('live');
  clearMessage();
  headStart.clear();
  hls?.destroy();
  hls = newHls(true);
  freshLinksTried = false;
  started = false;
  loadedFrom = null;
  loadedTo = null;
  let newest = null; // The newest fragment loaded so far: its sequence number and the end of its wall-clock time.
  const again = () => setTimeout(() => mine === ticket && goLive(), liveRetry);
  hls.on(Hls.Events.LEVEL_LOADED, (_, data) => {
    if (mine !== ticket) {
      return;
    }
    const list = data.details.fragments;
    const next = list.find((f) => newest !== null && f.sn === newest.sn + 1);
    const moved = newest !== null && list.length > 0
      && (list[0].sn > newest.sn + 1 || (next && next.programDateTime - newest.end > 1_000));
    const last = list.at(-1);
    if (last) {
      newest = { sn: last.sn, end: last.programDateTime + last.duration * 1000 };
    }
    if (moved) {
      goLive();
    } else if (!started && list.length > 0) {
      clearMessage();
      video.defaultPlaybackRate = video.playbackRate = 1;
      hls.startLoad(-1);
      playButton.disabled = false;
      play();
    }
  });
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (mine !== ticket) {
      return;
    }
    if (data.details === Hls.ErrorDetails.LEVEL_EMPTY_ERROR) {
      fail('Nothing recorded in the last minutes: waiting for this camera.');
      if (data.fatal) {
        again();
      }
      return;
    }
    onError(data);
    if (data.fatal && !refusals.includes(data.response?.code ?? data.networkDetails?.status ?? 0)) {
      again();
    }
  });
  hls.attachMedia(video);
  hls.loadSource(liveUrl);
}

/** Stops loading, then loads again from the first fragment at or after the playing position that is not a gap. */
function goOnAfterGaps() {
  const now = video.currentTime;
  const resume = fragments().find((f) => !f.gap && f.start + f.duration > now);
  hls.stopLoad();
  if (mode === 'live') {
    hls.startLoad(-1);
    play();
  } else if (resume) {
    hls.startLoad(Math.max(now, resume.start));
    if (resume.start > now) {
      video.currentTime = resume.start;
    }
    play();
  } else if (loadedTo !== null) {
    load(loadedTo);
  }
}

function onError(data) {
  if (isRefusal(data.response)) {
    // Named on the page by onRefused, which marked its fragments as gaps.
    if (data.fatal) {
      goOnAfterGaps();
    }
    return;
  }
  const status = data.response?.code ?? data.networkDetails?.status ?? 0;
  // hls.js marks a fragment error fatal only after its listeners ran; no retry planned means it will be.
  const givingUp = data.fatal || (data.errorAction !== undefined && data.errorAction.action !== NetworkErrorAction.RetryRequest);
  switch (data.details) {
    case Hls.ErrorDetails.KEY_LOAD_ERROR:
    case Hls.ErrorDetails.KEY_LOAD_TIMEOUT:
      if (data.response?.text === unknownKeyText) {
        fail('This recording cannot be decrypted: the playlist did not give its key. Reload the page; if that does not help, tell your administrator.');
        hls.stopLoad();
        return;
      }
      if (status === 401) {
        signIn();
        return;
      }
      fail(status === 403 ? 'The key server refused the decryption key: your account may not view this camera\'s recordings.'
        : status === 429 ? 'Too many key requests from your account: wait a minute, then press Play.'
          : status === 400 ? 'The key server could not open this recording\'s key: the stored key is damaged.'
            : `The decryption key could not be fetched (${status || 'no answer from the key server'}).`);
      if (refusals.includes(status)) {
        hls.stopLoad();
      }
      return;
    case Hls.ErrorDetails.MANIFEST_LOAD_ERROR:
    case Hls.ErrorDetails.LEVEL_LOAD_ERROR:
      if (status === 401) {
        signIn();
        return;
      }
      fail(status === 403 ? 'Access denied: your role may not play this camera\'s recordings.'
        : status === 404 ? 'This camera does not exist in your organisation.'
          : `The playlist could not be loaded (${status || 'no answer from the API'}).`);
      return;
    case Hls.ErrorDetails.FRAG_LOAD_ERROR:
    case Hls.ErrorDetails.FRAG_LOAD_TIMEOUT: {
      if (!givingUp) {
        return;
      }
      const at = dateAt(video.currentTime);
      if (mode === 'recordings' && (status === 403 || status === 404) && !freshLinksTried && at !== null) {
        // Read links are short-lived: a page left open outlives them. Fresh ones, once (load() resets the flag).
        load(at);
        freshLinksTried = true;
        return;
      }
      fail(`A recording segment could not be fetched from storage (${status || 'no answer'}): it may be missing.`);
      return;
    }
    default:
      if (data.fatal) {
        fail(`Playback stopped: ${data.details}.`);
      }
  }
}

/** The timeline of recordings: none on a live-only (viewer's) page. */
const timeline = liveOnly ? null : new Timeline(
  document.getElementById('timeline'),
  document.getElementById('range'),
  (from, to) => getJson(timelineUrl(from.getTime(), to.getTime())),
  (time) => playAt(time));

video.addEventListener('timeupdate', () => {
  const playing = dateAt(video.currentTime);
  if (playing !== null) {
    const local = new Date(playing).toLocaleTimeString([], { hour12: false });
    clock.textContent = `${utc(playing)} UTC · ${local} local`;
    root.dataset.playing = iso(playing);
    timeline?.setCursor(playing);
  }
});
video.addEventListener('playing', () => {
  if (!started) {
    // User Timing: the first frame after a load, from navigation start (./cloudstore bench reads it).
    performance.mark('cloudstore:first-frame');
    settleFirstFrame();
  }
  started = true;
});
video.addEventListener('play', () => { playButton.textContent = 'Pause'; });
video.addEventListener('pause', () => { playButton.textContent = 'Play'; });
video.addEventListener('ended', () => {
  // The end of this playlist's window: go on with the next recording, if there is one.
  if (mode === 'recordings' && loadedTo !== null) {
    load(loadedTo);
  }
});
playButton.addEventListener('click', () => (video.paused ? play() : video.pause()));
liveButton.addEventListener('click', () => goLive());

function report(error) {
  if (error instanceof SignedOut) {
    signIn();
    return;
  }
  fail(error.message);
}

if (timeline) {
  speed.addEventListener('change', () => {
    video.defaultPlaybackRate = video.playbackRate = Number(speed.value);
  });
  document.getElementById('jump').addEventListener('submit', (event) => {
    event.preventDefault();
    const time = Date.parse(`${document.getElementById('jump-at').value}Z`);
    if (Number.isNaN(time)) {
      fail('Enter a date and time.');
      return;
    }
    timeline.showDay(time).catch(report);
    playAt(time);
  });
  document.getElementById('view-day').addEventListener('click', () => timeline.showDay(timeline.cursor ?? Date.now()).catch(report));
  document.getElementById('view-hour').addEventListener('click', () => timeline.showHour(timeline.cursor ?? Date.now()).catch(report));
  document.getElementById('zoom-in').addEventListener('click', () => timeline.zoom(0.5).catch(report));
  document.getElementById('zoom-out').addEventListener('click', () => timeline.zoom(2).catch(report));
  document.getElementById('earlier').addEventListener('click', () => timeline.move(-1).catch(report));
  document.getElementById('later').addEventListener('click', () => timeline.move(1).catch(report));
  setInterval(() => {
    if (timeline.end > Date.now() - minute) {
      timeline.refresh().catch(report);
    }
  }, 10_000);
}

/**
 * Live on a viewer's page and with ?live; otherwise at ?at= (ISO time) or at the last minute recorded, waiting for a
 * first recording if there is none.
 */
async function begin() {
  if (!Hls.isSupported()) {
    fail('This browser cannot play HLS video with Media Source Extensions.');
    return;
  }
  if (opensLive) {
    goLive();
    await timeline?.showDay(Date.now());
    return;
  }
  if (firstMoment !== null) {
    // The first frame first: the timeline is asked for and drawn once it shows (or cannot).
    playAt(firstMoment);
    await firstFrameSettled;
    await timeline.showDay(firstMoment);
    return;
  }
  const now = Date.now();
  const recent = await getJson(timelineUrl(now - 7 * day, now + minute));
  if (ticket !== 0) {
    return; // The person chose a moment while this looked for the latest one.
  }
  const last = recent.spans.at(-1);
  if (!last) {
    await timeline.showDay(now);
    fail('No recordings yet. This page looks again every 10 seconds.');
    setTimeout(() => begin().catch(report), 10_000);
    return;
  }
  playAt(Math.max(Date.parse(last.start), Date.parse(last.end) - minute));
  await timeline.showDay(Date.parse(last.end));
}

begin().catch(report);
root.dataset.ready = 'true';
