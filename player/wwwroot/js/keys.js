// Data keys in a CloudStore playlist. Each EXT-X-KEY tag (one before every encrypted file, for its IV) names only the
// key server's address of its data key, {key server}/v1/keys/{key id}. What the key server needs besides the person's
// token, the wrapped key and in a viewer's live playlist a live grant, the playlist gives once per data key in a tag of
// its own (see HlsPlaylist.KeyTag), which players that do not know it ignore. A key is asked for at the key tag's URI
// with that tag's query.

/** The playlist tag (without '#'): `URI="…",WRAPPED="…"` and, for a viewer, `,GRANT="…"`. */
export const keyTag = 'EXT-X-CLOUDSTORE-KEY';

/** The text a key request fails with when the playlist gave no tag for its key. */
export const unknownKeyText = 'the playlist gave no wrapped key for this key';

/**
 * A key tag's value as [the key URI, resolved against `base`; the key server's query for it], or null when it lacks
 * the URI or the wrapped key.
 */
export function parseKeyTag(value, base) {
  const attributes = new Map(Array.from(value.matchAll(/([A-Z0-9-]+)="([^"]*)"/g), (match) => [match[1], match[2]]));
  const uri = attributes.get('URI');
  const wrapped = attributes.get('WRAPPED');
  if (!uri || !wrapped) {
    return null;
  }
  const query = new URLSearchParams({ wrapped });
  if (attributes.has('GRANT')) {
    query.set('grant', attributes.get('GRANT'));
  }
  return [new URL(uri, base).href, query.toString()];
}

/** Where to ask the key server for the key at `uri`: the URI with its tag's query. */
export function keyRequestUrl(uri, query) {
  const url = new URL(uri);
  url.search = query;
  return url.href;
}
