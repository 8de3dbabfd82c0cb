// A head start for the first frame. hls.js asks for what it needs one step after another: the playlist once it is
// loaded itself, then, for the first fragment, its key and the media segment, and only once the key is in, the
// encrypted init segment. The page knows most of these addresses sooner: the playlist's as soon as it runs (the moment
// is in the page's address), and the key's, the init segment's and the segment's as soon as the playlist is parsed.
// `HeadStart` fetches them then, all at once, and `headStartLoader` hands hls.js the answer when it asks, so the steps
// overlap instead of queueing. What it hands on is what hls.js's own loader would have fetched, through the same checks
// (the integrity loader wraps this one); a file fetched early but never asked for is dropped with the next playlist.

/** Fetches started ahead of hls.js, by URL; each is handed on once. */
export class HeadStart {
  #started = new Map();

  /**
   * Starts fetching `url` (as `type`: 'text' or 'arraybuffer') unless it already is, from `from` when the request's
   * address differs from the one hls.js will ask for (a key's carries the playlist's query); `headers` is a function
   * giving the request's headers (a token may still be on its way). Settles with the status (0 when there was no
   * answer), the status text, the body, and when the request started and ended (performance.now()).
   */
  fetch(url, { type = 'arraybuffer', headers = async () => ({}), from = url } = {}) {
    const key = new URL(url).href;
    if (this.#started.has(key)) {
      return;
    }
    const start = performance.now();
    this.#started.set(key, (async () => {
      try {
        const response = await fetch(from, { headers: await headers(), credentials: 'omit' });
        const data = response.ok ? await (type === 'text' ? response.text() : response.arrayBuffer()) : undefined;
        return { status: response.status, text: response.statusText, data, start, end: performance.now() };
      } catch {
        return { status: 0, text: '', data: undefined, start, end: performance.now() };
      }
    })());
  }

  /** The fetch started for `url`, taken (a second ask goes to the network), or undefined. */
  take(url) {
    const key = new URL(url).href;
    const started = this.#started.get(key);
    this.#started.delete(key);
    return started;
  }

  /** Drops every fetch nobody took. */
  clear() {
    this.#started.clear();
  }
}

/**
 * An hls.js loader built on `Base` (hls.js's own, or one wrapping it) that answers a request `headStart` has already
 * started with that fetch's result. A success or a refusal (4xx: hls.js would not retry it either) is handed on as
 * hls.js's loader would; a request that got no answer, or a server error, or none within hls.js's time limit for it,
 * is made again by `Base`, with hls.js's retries. Any other request goes to `Base`.
 */
export function headStartLoader(Base, headStart) {
  return class HeadStartLoader extends Base {
    #early = false;

    load(context, config, callbacks) {
      const started = context.rangeEnd ? undefined : headStart.take(context.url);
      if (started === undefined) {
        super.load(context, config, callbacks);
        return;
      }
      this.#early = true;
      this.context = context;
      this.config = config;
      this.callbacks = callbacks;
      const pending = () => this.#early && this.callbacks === callbacks && !this.stats.aborted; // Not aborted or destroyed.
      const again = () => {
        this.#early = false;
        super.load(context, config, callbacks);
      };
      const limit = self.setTimeout(() => pending() && again(), config.timeout);
      started.then((result) => {
        self.clearTimeout(limit);
        if (!pending()) {
          return;
        }
        if (result.status === 0 || result.status >= 500) {
          again();
          return;
        }
        const { stats } = this;
        stats.loading.start = result.start;
        stats.loading.first = stats.loading.end = result.end;
        if (result.status >= 200 && result.status < 300) {
          stats.loaded = stats.total = typeof result.data === 'string' ? result.data.length : result.data.byteLength;
          callbacks.onSuccess({ url: context.url, data: result.data, code: result.status }, stats, context, null);
        } else {
          callbacks.onError({ code: result.status, text: result.text }, context, null, stats);
        }
      });
    }

    abort() {
      if (this.#early) {
        this.stats.aborted = true;
      }
      super.abort();
    }
  };
}
