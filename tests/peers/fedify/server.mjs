// Third-party ActivityPub peer for weft's integration tests, built on Fedify.
// Usage: node server.mjs [--port N]   (or PORT=N; 0 = pick a free port)
// Prints "listening <port>" on stdout once ready. Everything is served as
// http://localhost:<port>. Control API (JSON, no auth, loopback only):
//   GET  /control/inbox      -> raw JSON of received activities, arrival order
//                               (?full -> [{raw, type, actor, object}])
//   GET  /control/followers  -> [follower actor ids]
//   POST /control/follow {actor}                       -> {id}  (Follow)
//   POST /control/note {content, to: "followers"|"public", mention?, inReplyTo?}
//                                                      -> {id}  (Note id)
//   POST /control/like {object, actor}                 -> {id}  (Like)
// POSTs return once delivery is done; failures -> 500 {"error": ...}.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { Temporal } from "@js-temporal/polyfill";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import {
  Accept, Activity, Create, Endpoints, Follow, isActor, Like, Mention, Note,
  Person, PUBLIC_COLLECTION, Undo,
} from "@fedify/vocab";

const argPort = process.argv.indexOf("--port");
const wantPort = Number(argPort > 0 ? process.argv[argPort + 1] : process.env.PORT ?? 0);
const ID = "peer";
const log = (...a) => console.error("[fedify-peer]", ...a);

const inbox = [];               // received activities, arrival order
const followers = new Map();    // actor id -> { id, inboxId, endpoints }
const notes = new Map();        // note uuid -> Note
const keyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");

// Bind 127.0.0.1 first (picks the port), then best-effort ::1 on the same port.
async function listen(port) {
  const v4 = http.createServer(handle);
  await new Promise((ok, err) => v4.once("error", err).listen(port, "127.0.0.1", ok));
  const real = v4.address().port;
  const v6 = http.createServer(handle);
  try {
    await new Promise((ok, err) => v6.once("error", err).listen(real, "::1", ok));
  } catch (e) {
    if (e.code === "EADDRINUSE" && port === 0) { v4.close(); return listen(0); }
    log(`not listening on [::1]:${real}: ${e.code}`);
  }
  return real;
}
const port = await listen(wantPort);
const origin = `http://localhost:${port}`;

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin,
  allowPrivateAddress: true, // tests run on loopback; fedify blocks it otherwise
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== ID) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify peer",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === ID ? [keyPair] : []));

federation
  .setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
    identifier === ID ? { items: [...followers.values()] } : null)
  .setCounter((_ctx, identifier) => (identifier === ID ? followers.size : null));

federation.setObjectDispatcher(Note, "/notes/{id}", (_ctx, { id }) => notes.get(id) ?? null);

function record(ctx, activity) {
  const raw = ctx.data?.raw ?? null;
  inbox.push({
    raw,
    type: raw?.type ?? activity.constructor.name,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
  });
  log(`inbox: ${raw?.type} from ${activity.actorId?.href}`);
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    record(ctx, follow);
    if (follow.objectId?.href !== ctx.getActorUri(ID).href) return;
    const follower = await follow.getActor(ctx);
    if (follower == null || !isActor(follower)) return;
    followers.set(follower.id.href, {
      id: follower.id, inboxId: follower.inboxId, endpoints: follower.endpoints,
    });
    const accept = new Accept({
      id: new URL(`${origin}/activities/${randomUUID()}`),
      actor: ctx.getActorUri(ID), object: follow,
    });
    // Reply after the inbox POST has been answered, so the follower is never
    // blocked waiting for its own delivery to finish.
    setImmediate(() => {
      const c = federation.createContext(new URL(origin), {});
      c.sendActivity({ identifier: ID }, follower, accept)
        .then(() => log(`sent Accept to ${follower.id.href}`))
        .catch((e) => log(`Accept to ${follower.id.href} failed: ${e}`));
    });
  })
  .on(Undo, async (ctx, undo) => {
    record(ctx, undo);
    const obj = await undo.getObject(ctx);
    if (obj instanceof Follow && undo.actorId) followers.delete(undo.actorId.href);
  })
  .on(Activity, (ctx, activity) => record(ctx, activity))
  .onError((_ctx, e) => log(`inbox error: ${e?.stack ?? e}`));

// Signed (authorized-fetch style) lookup of a remote actor by URL.
async function lookupActor(ctx, url) {
  const documentLoader = await ctx.getDocumentLoader({ identifier: ID });
  const actor = await ctx.lookupObject(url, { documentLoader });
  if (actor == null || !isActor(actor)) throw new Error(`could not look up actor ${url}`);
  return actor;
}

const control = {
  "GET /control/inbox": async (_ctx, _b, url) =>
    url.searchParams.has("full") ? inbox : inbox.map((e) => e.raw),
  "GET /control/followers": async () => [...followers.keys()],
  "POST /control/follow": async (ctx, body) => {
    const target = await lookupActor(ctx, body.actor);
    const id = new URL(`${origin}/activities/${randomUUID()}`);
    await ctx.sendActivity({ identifier: ID }, target,
      new Follow({ id, actor: ctx.getActorUri(ID), object: target.id }));
    return { id: id.href };
  },
  "POST /control/note": async (ctx, body) => {
    const uuid = randomUUID();
    const me = ctx.getActorUri(ID);
    const fol = ctx.getFollowersUri(ID);
    const mentioned = body.mention ? await lookupActor(ctx, body.mention) : null;
    const isPublic = body.to === "public";
    const to = isPublic ? [PUBLIC_COLLECTION] : [fol];
    const cc = [...(isPublic ? [fol] : []), ...(mentioned ? [mentioned.id] : [])];
    const note = new Note({
      id: ctx.getObjectUri(Note, { id: uuid }),
      attribution: me, content: body.content ?? "", tos: to, ccs: cc,
      published: Temporal.Now.instant(),
      replyTarget: body.inReplyTo ? new URL(body.inReplyTo) : null,
      tags: mentioned ? [new Mention({
        href: mentioned.id,
        name: `@${mentioned.preferredUsername}@${mentioned.id.host}`,
      })] : [],
    });
    notes.set(uuid, note);
    const create = new Create({
      id: new URL(`${note.id.href}/activity`), actor: me, object: note,
      tos: to, ccs: cc, published: note.published,
    });
    await ctx.sendActivity({ identifier: ID }, "followers", create, { preferSharedInbox: true });
    if (mentioned && !followers.has(mentioned.id.href)) {
      await ctx.sendActivity({ identifier: ID }, mentioned, create);
    }
    return { id: note.id.href };
  },
  "POST /control/like": async (ctx, body) => {
    const author = await lookupActor(ctx, body.actor);
    const id = new URL(`${origin}/activities/${randomUUID()}`);
    await ctx.sendActivity({ identifier: ID }, author,
      new Like({ id, actor: ctx.getActorUri(ID), object: new URL(body.object) }));
    return { id: id.href };
  },
};

async function handle(req, res) {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, `http://${req.headers.host ?? `localhost:${port}`}`);
    const route = control[`${req.method} ${url.pathname}`];
    if (route) {
      const ctx = federation.createContext(new URL(origin), {});
      const out = await route(ctx, body.length ? JSON.parse(body) : {}, url);
      return send(res, 200, { "content-type": "application/json" }, JSON.stringify(out));
    }
    let raw = null;
    if (req.method === "POST") try { raw = JSON.parse(body); } catch { /* fedify rejects it */ }
    const request = new Request(url, {
      method: req.method, headers: req.headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
    });
    const response = await federation.fetch(request, {
      contextData: { raw },
      onNotFound: () => new Response("Not Found", { status: 404 }),
      onNotAcceptable: () => new Response("Not Acceptable", { status: 406 }),
    });
    if (response.status >= 400) log(`${req.method} ${url.pathname} -> ${response.status}`);
    send(res, response.status, Object.fromEntries(response.headers),
      Buffer.from(await response.arrayBuffer()));
  } catch (e) {
    log(`${req.method} ${req.url} failed: ${e?.stack ?? e}`);
    send(res, 500, { "content-type": "application/json" }, JSON.stringify({ error: String(e) }));
  }
}

function send(res, status, headers, body) {
  if (!res.headersSent) res.writeHead(status, headers);
  res.end(body);
}

process.stdout.write(`listening ${port}\n`);
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
// Exit if the test process that started us goes away (we get re-parented).
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 1000).unref();
