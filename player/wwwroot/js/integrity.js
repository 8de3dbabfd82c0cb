// Tamper detection. Every encrypted file the player fetches from storage (media segments and init segments) is
// checked against the SHA-256 the camera declared when it indexed the file, over the bytes exactly as fetched and
// before anything decrypts them. The digests come from the authenticated API, in the playlist (a tag before each
// file: see HlsPlaylist.DigestTag), never from storage: whoever can change a stored file cannot change what it is
// checked against. A file whose digest differs, or that has no digest to check, is not handed on.
//
// `verify` is the check itself, with no hls.js in it, for anything that reads recordings (export will use it);
// `expectedDigest` and `verifyingLoader` fit it to hls.js.

/** The playlist tag (without '#') that carries the next file's SHA-256, base64url without padding. */
export const digestTag = 'EXT-X-CLOUDSTORE-SHA256';

/** The texts a refused file puts in the loader's error, so the page can tell them from a network failure. */
export const alteredText = 'altered in storage';
export const uncheckedText = 'no SHA-256 to check it against';

function base64Url(bytes) {
  let binary = '';
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** SHA-256 (WebCrypto) of `bytes` (an ArrayBuffer or a view), base64url without padding. */
export async function sha256(bytes) {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

/**
 * Whether `bytes`, an encrypted file as fetched from storage, is the file the camera indexed: `expected` is the
 * index's SHA-256 as the playlist gives it (base64url, 43 characters). No expected digest never verifies.
 */
export async function verify(bytes, expected) {
  if (typeof expected !== 'string' || expected.length !== 43) {
    return false;
  }
  return (await sha256(bytes)) === expected;
}

/**
 * The digest the playlist gave an hls.js fragment (a media segment, or an init segment from EXT-X-MAP), or null.
 * hls.js keeps a tag it does not know on the fragment that the next URI line or EXT-X-MAP makes, as [name, value].
 */
export function expectedDigest(fragment) {
  const tag = fragment?.tagList?.find((entry) => entry[0] === digestTag);
  return tag?.[1] ?? null;
}

/**
 * An hls.js fragment loader (config `fLoader`) built on `Base` (hls.js's own loader) that hands on a fragment's bytes
 * only once `verify` passes. Otherwise it calls `onRefused(fragment, altered)` first (`altered` false when the
 * playlist gave no digest to check) and then fails the load with `alteredText` or `uncheckedText`, so hls.js neither
 * decrypts nor buffers the file. Bytes are never handed on in pieces before the check: the progress callback is
 * withheld (and the player keeps hls.js's `progressive` off).
 */
export function verifyingLoader(Base, onRefused) {
  return class VerifyingLoader extends Base {
    load(context, config, callbacks) {
      const fragment = context.frag;
      const { onSuccess, onError } = callbacks;
      super.load(context, config, {
        onError,
        onTimeout: callbacks.onTimeout,
        onAbort: callbacks.onAbort,
        onSuccess: (response, stats, loaded, details) => {
          const expected = expectedDigest(fragment);
          verify(response.data, expected).then((same) => {
            if (stats.aborted) {
              return;
            }
            if (same) {
              onSuccess(response, stats, loaded, details);
              return;
            }
            onRefused(fragment, expected !== null);
            onError({ code: 0, text: expected !== null ? alteredText : uncheckedText }, loaded, details, stats);
          }, (error) => onError({ code: 0, text: `could not be checked: ${error.message}` }, loaded, details, stats));
        },
      });
    }
  };
}
