// The camera page's first requests: both access tokens (tokens.js), asked for as soon as the page's head is read, while
// the rest of the page and camera.js's modules load, so that the playlist and the key request find them ready. tokens.js
// is one module per page, so camera.js gets the same tokens. A failure here is met again, and reported, where camera.js
// needs the token.
import { token } from './tokens.js';

token('api').catch(() => {});
token('keyServer').catch(() => {});
