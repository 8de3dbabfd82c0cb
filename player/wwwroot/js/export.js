// Export: a range of a camera's recordings as one MP4 file, made here in the browser. The service never decrypts: this
// module reads the range's playlist from the API (with the API token), each data key from the key server (with the
// key-server token, at the key tag's URI with the wrapped key from the playlist's tag for that key: keys.js), each encrypted file from storage (no token), checks the file's SHA-256 against the playlist's
// digest (integrity.js) before decrypting it with WebCrypto, and appends it to the file. The init segment followed by
// the media segments of one recording is a fragmented MP4 that players and ffmpeg read as one file (H.264, with the
// camera's audio where it recorded some).
//
// The file grows as a Blob built part by part: the browser keeps large blobs in its own store (on disk), so the page
// holds only the segment in hand, never the clip. With a password, the MP4 goes into a ZIP encrypted with AES-256
// (@zip.js/zip.js, stored, not recompressed), which 7-Zip and most archive tools open.
import { verify, digestTag } from './integrity.js';
import { keyRequestUrl, keyTag, parseKeyTag } from './keys.js';
import { postJson, token } from './tokens.js';

/**
 * The files of an HLS playlist as CloudStore writes it: each init segment (EXT-X-MAP) and media segment with the key
 * URI and IV in force for it and where to ask for that key (`url`: null when the playlist has no key tag for it), its
 * SHA-256 tag, and for media segments their start (EXT-X-PROGRAM-DATE-TIME) and length.
 */
export function parsePlaylist(text, base) {
  const files = [];
  const keyQueries = new Map();
  let key = null;
  let digest = null;
  let start = null;
  let duration = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-KEY:')) {
      const uri = /URI="([^"]*)"/.exec(line)?.[1];
      const iv = /IV=0x([0-9A-Fa-f]{32})/.exec(line)?.[1];
      key = uri && iv ? { uri: new URL(uri, base).href, iv } : null;
    } else if (line.startsWith(`#${keyTag}:`)) {
      const entry = parseKeyTag(line.slice(keyTag.length + 2), base);
      if (entry) {
        keyQueries.set(entry[0], entry[1]);
      }
    } else if (line.startsWith(`#${digestTag}:`)) {
      digest = line.slice(digestTag.length + 2);
    } else if (line.startsWith('#EXT-X-MAP:')) {
      files.push({ kind: 'init', uri: new URL(/URI="([^"]*)"/.exec(line)[1], base).href, key, digest });
      digest = null;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      start = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    } else if (line.startsWith('#EXTINF:')) {
      duration = Number.parseFloat(line.slice('#EXTINF:'.length)) * 1000;
    } else if (line && !line.startsWith('#')) {
      files.push({ kind: 'segment', uri: new URL(line, base).href, key, digest, start, duration });
      digest = null;
    }
  }
  // A key's tag follows the EXT-X-MAP of its first segment, after the init segment's key tag: resolved at the end.
  for (const { key } of files) {
    if (key) {
      const query = keyQueries.get(key.uri);
      key.url = query === undefined ? null : keyRequestUrl(key.uri, query);
    }
  }
  return files;
}

const hex = (text) => Uint8Array.from(text.match(/../g), (pair) => Number.parseInt(pair, 16));
const stamp = (ms) => new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-') + 'Z';

/** A file name people can sort and read: camera name, then the UTC range. */
export function fileName(cameraName, from, to, extension) {
  const safe = cameraName.normalize('NFKD').replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || 'camera';
  return `${safe}_${stamp(from)}_${stamp(to)}.${extension}`;
}

/**
 * Makes the export. `onProgress({ done, total, bytes })` after each file; `signal` cancels (an AbortError). Resolves to
 * `{ blob, name, segments, seconds }`; rejects with an Error whose message is for the person at the screen.
 */
export async function exportRange({ apiOrigin, cameraId, cameraName, from, to, password, signal, onProgress }) {
  await postJson(`${apiOrigin}/api/cameras/${cameraId}/exports`, { from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  const playlistUrl = `${apiOrigin}/api/cameras/${cameraId}/playlist.m3u8?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
  const response = await fetch(playlistUrl, { headers: { Authorization: `Bearer ${await token('api')}` }, cache: 'no-store', signal });
  if (!response.ok) {
    throw new Error(`The recordings of this range could not be listed (${response.status}).`);
  }
  const files = parsePlaylist(await response.text(), playlistUrl);
  const segments = files.filter((file) => file.kind === 'segment' && file.start + file.duration > from && file.start < to);
  if (segments.length === 0) {
    throw new Error('Nothing was recorded in this range.');
  }
  const first = files.indexOf(segments[0]);
  const init = files.slice(0, first).reverse().find((file) => file.kind === 'init');
  const keys = new Map();
  let blob = new Blob([], { type: 'video/mp4' });
  let done = 0;
  let end = segments[0].start;
  for (const file of [init, ...files.slice(first).filter((f) => f.kind === 'init' || segments.includes(f))]) {
    if (file.kind === 'init' && file !== init) {
      // The camera's stream changed (a restart, new settings): one MP4 has one init segment. Stop here and say so.
      throw new Error(`The camera's stream changed at ${new Date(end).toISOString()}; export up to then and from then separately.`);
    }
    const bytes = await decryptFile(file, keys, signal);
    blob = new Blob([blob, bytes], { type: 'video/mp4' });
    if (file.kind === 'segment') {
      done += 1;
      end = file.start + file.duration;
    }
    onProgress?.({ done, total: segments.length, bytes: blob.size });
  }

  const seconds = (end - segments[0].start) / 1000;
  const mp4Name = fileName(cameraName, segments[0].start, end, 'mp4');
  if (!password) {
    return { blob, name: mp4Name, segments: segments.length, seconds };
  }
  return { blob: await zipWithPassword(blob, mp4Name, password, signal), name: fileName(cameraName, segments[0].start, end, 'zip'), segments: segments.length, seconds };
}

async function decryptFile(file, keys, signal) {
  const response = await fetch(file.uri, { cache: 'no-store', signal });
  if (!response.ok) {
    throw new Error(`A recording file could not be read from storage (${response.status}).`);
  }
  const encrypted = await response.arrayBuffer();
  if (!(await verify(encrypted, file.digest))) {
    const at = file.kind === 'init' ? 'the recording\'s init segment' : `${new Date(file.start).toISOString()} – ${new Date(file.start + file.duration).toISOString()}`;
    throw new Error(`Not exported: ${at} was altered in storage (it no longer matches what the camera recorded).`);
  }
  if (!file.key?.url) {
    throw new Error('A recording file has no key in the playlist.');
  }
  const key = await dataKey(file.key.url, keys, signal);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-CBC', iv: hex(file.key.iv) }, key, encrypted));
}

async function dataKey(uri, keys, signal) {
  if (!keys.has(uri)) {
    keys.set(uri, (async () => {
      const response = await fetch(uri, { headers: { Authorization: `Bearer ${await token('keyServer')}` }, cache: 'no-store', signal });
      if (!response.ok) {
        throw new Error(`The key server refused a key of this range (${response.status}).`);
      }
      return crypto.subtle.importKey('raw', await response.arrayBuffer(), 'AES-CBC', false, ['decrypt']);
    })());
  }
  return keys.get(uri);
}

async function zipWithPassword(mp4, name, password, signal) {
  const { BlobReader, BlobWriter, ZipWriter, configure } = await import('/lib/zip/index-native.js');
  configure({ useWebWorkers: false }); // no worker script to allow in the CSP; storing, not compressing, is cheap
  const writer = new ZipWriter(new BlobWriter('application/zip'), { password, encryptionStrength: 3, level: 0, signal });
  await writer.add(name, new BlobReader(mp4));
  return writer.close();
}
