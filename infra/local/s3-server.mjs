// The local S3 server (s3rver, the fork that verifies SigV4 signatures) over HTTPS on loopback.
// s3rver has no CLI, so the local stack starts it with this script:
//   node s3-server.mjs PORT DATA-FOLDER CERT.pem KEY.pem PLAYER-ORIGIN BUCKET [BUCKET ...]
// Buckets are made at start (PutBucket from the SDK is not needed). Each bucket lets the web player's origin (and no other) read objects with GET (CORS), as the
// regional buckets are configured in the cloud. Access key and secret are s3rver's fixed account, S3RVER / S3RVER: local only.
//
// Two behaviours of real S3 that s3rver lacks are added in front of it, so that the local server is
// no weaker than the cloud one:
// - a private bucket: requests without a signature are refused (s3rver serves them);
// - conditional writes: PutObject with "If-None-Match: *" fails with 412 when the key exists
//   (S3 has supported this since 2024; CloudStore's upload grants require it, so they are create-only).
// And one fix: s3rver checks a bucket-level request against the path "/BUCKET" while SDKs sign the path
// they send, "/BUCKET/" (as S3 does), so ListObjectsV2 and DeleteObjects failed SignatureDoesNotMatch.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import S3rver from '@20minutes/s3rver';

const S3Error = createRequire(import.meta.url)('@20minutes/s3rver/lib/models/error.js');

const [port, directory, cert, key, playerOrigin, ...buckets] = process.argv.slice(2);
if (!port || !directory || !cert || !key || !/^https:\/\/[^/]+$/.test(playerOrigin ?? '') || buckets.length === 0) {
  console.error('usage: node s3-server.mjs PORT DATA-FOLDER CERT.pem KEY.pem https://PLAYER-ORIGIN BUCKET [BUCKET ...]');
  process.exit(2);
}

const cors = `<CORSConfiguration><CORSRule>
  <AllowedOrigin>${playerOrigin}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>
  <AllowedHeader>range</AllowedHeader><MaxAgeSeconds>3600</MaxAgeSeconds>
</CORSRule></CORSConfiguration>`;

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  cert: readFileSync(cert),
  key: readFileSync(key),
  allowMismatchedSignatures: false,
  vhostBuckets: false,
  // Its request log would record every presigned URL, signature included (Azurite runs --silent for the same reason);
  // it also cost the server a log line per request, which ./cloudstore bench cameras counts as storage CPU.
  silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [cors] })),
});

const s3Error = (ctx, status, code, message) => {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
};

// Koa composes its middleware when the server starts listening: this runs before s3rver's routes.
server.middleware.unshift(async (ctx, next) => {
  const signed = 'authorization' in ctx.headers || 'X-Amz-Algorithm' in ctx.query || 'Signature' in ctx.query;
  if (!signed && ctx.method !== 'OPTIONS') {
    return s3Error(ctx, 403, 'AccessDenied', 'Access Denied');
  }

  if (/^\/[^/]+\/$/.test(ctx.path) && 'authorization' in ctx.headers) {
    // s3rver's canonical path is "/" + bucket + mountPath for virtual-host requests: with mount path "/" it is
    // "/BUCKET/", the path signed. Routing does not read either value; the vhost middleware's write is ignored.
    ctx.mountPath = '/';
    Object.defineProperty(ctx.state, 'vhost', { get: () => true, set: () => {}, configurable: true });
  }

  if (ctx.method === 'PUT' && ctx.headers['if-none-match'] === '*') {
    // Checked where the object is stored, so after s3rver has verified the signature.
    const store = server.store;
    ctx.store = Object.create(store, {
      putObject: {
        value: async (object) => {
          if (await store.existsObject(object.bucket, object.key)) {
            throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
          }
          return store.putObject(object);
        },
      },
    });
  }

  return next();
});

await server.run();
console.log(`s3rver listening on https://127.0.0.1:${port} with buckets ${buckets.join(', ')}`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
