//! Durability and process life: kill -9 loses no acknowledged post, SIGTERM stops cleanly,
//! a database from a newer weft is refused. These run the real `weft` binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::common::{PASSWORD, User};

struct Proc {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

fn spawn_weft(dir: &std::path::Path) -> Proc {
    spawn_weft_with(dir, &[])
}

fn spawn_weft_with(dir: &std::path::Path, env: &[(&str, &str)]) -> Proc {
    spawn_weft_args(dir, "127.0.0.1:0", &[], env)
}

fn spawn_weft_args(dir: &std::path::Path, bind: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["serve", "--bind", bind, "--data"])
        .arg(dir)
        .args(args)
        .envs(env.iter().copied())
        .env("WEFT_LOG", "info")
        .env("WEFT_RATE_LIMITS__POSTS_PER_ACCOUNT", "1000000")
        .env("WEFT_RATE_LIMITS__SIGNUP_PER_IP", "1000")
        .env("WEFT_LIMITS__PAGE_SIZE", "200")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft starts");
    let stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    let log2 = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let rest = &line[i + "listening on ".len()..];
                let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                let _ = tx.send(addr);
            }
            if let Ok(mut l) = log2.lock() {
                l.push_str(&line);
                l.push('\n');
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("weft did not start: {}", log.lock().unwrap()));
    Proc { child, base, log }
}

/// Every post body on a user's profile (all tabs' worth: posts and replies).
async fn bodies_of(base: &str, name: &str) -> String {
    let u = User::new(base, "");
    let mut all = String::new();
    let mut path = format!("/@{name}?tab=replies");
    loop {
        let page = u.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        all.push_str(&page.body);
        let Some(i) = page.body.find("before=") else {
            break;
        };
        let cursor: String = page.body[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        path = format!("/@{name}?tab=replies&before={cursor}");
    }
    all
}

#[actix_web::test]
async fn every_acknowledged_post_survives_kill_dash_nine() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_weft(dir.path());
    let mut users = Vec::new();
    for i in 0..4 {
        let name = format!("writer{i}");
        let u = User::new(&p.base, &name);
        let r = u
            .post("/signup", &[("username", &name), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        users.push(u);
    }
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_millis(1500);
    let mut tasks = Vec::new();
    for u in users {
        let acked = acked.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let token = u.csrf().await;
            let mut i = 0;
            // Keeps posting through the kill; only answers that arrived count.
            while Instant::now() < stop_at + Duration::from_millis(500) {
                let body = format!("ack-{}-n{i}-end", u.name);
                let sent = u
                    .client
                    .post(format!("{}/posts", u.base))
                    .form(&[("body", body.as_str()), ("csrf", token.as_str())])
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::SEE_OTHER => {
                        acked.lock().unwrap().push((u.name.clone(), body));
                    }
                    Ok(r) => panic!("unexpected answer {}", r.status()),
                    Err(_) => break,
                }
                i += 1;
            }
        }));
    }
    while Instant::now() < stop_at {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    p.child.kill().expect("SIGKILL");
    p.child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "the load was too light to mean anything: {}",
        acked.len()
    );

    let mut p2 = spawn_weft(dir.path());
    for i in 0..4 {
        let name = format!("writer{i}");
        let all = bodies_of(&p2.base, &name).await;
        for (_, body) in acked.iter().filter(|(n, _)| *n == name) {
            assert!(
                all.contains(body.as_str()),
                "acknowledged post {body} was lost"
            );
        }
    }
    p2.child.kill().unwrap();
    p2.child.wait().unwrap();
}

#[actix_web::test]
async fn sigterm_stops_gracefully_and_closes_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_weft(dir.path());
    let u = User::new(&p.base, "alice");
    u.post("/signup", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    let r = u.post("/posts", &[("body", "before the stop")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let status = Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(s) = p.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "weft did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit:?}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(p.log.lock().unwrap().contains("database closed"));
    // A clean close leaves no WAL behind.
    assert!(
        !dir.path().join("weft.sqlite3-wal").exists()
            || std::fs::metadata(dir.path().join("weft.sqlite3-wal"))
                .unwrap()
                .len()
                == 0
    );
    let mut p2 = spawn_weft(dir.path());
    assert!(
        bodies_of(&p2.base, "alice")
            .await
            .contains("before the stop")
    );
    p2.child.kill().unwrap();
    p2.child.wait().unwrap();
}

#[actix_web::test]
async fn a_database_from_a_newer_weft_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.sqlite3");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    drop(conn);
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("written by a newer weft"), "{err}");
}

async fn search_count(base: &str, word: &str) -> usize {
    let page = User::new(base, "").get(&format!("/search?q={word}")).await;
    assert_eq!(page.status, StatusCode::OK);
    page.post_ids().len()
}

#[actix_web::test]
async fn posts_acknowledged_before_a_crash_become_searchable_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    // First an index with something in it (an empty one beside a full database would be
    // rebuilt at start, which would hide whether the queue resumes).
    let mut p0 = spawn_weft(dir.path());
    let u = User::new(&p0.base, "alice");
    u.post("/signup", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    u.post("/posts", &[("body", "warmup")]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while search_count(&p0.base, "warmup").await < 1 {
        assert!(
            Instant::now() < deadline,
            "the first post never became searchable"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    p0.child.kill().unwrap();
    p0.child.wait().unwrap();

    // Now the index would not commit for ten minutes: at the kill, the posts are only in
    // SQLite and in the job queue.
    let mut p = spawn_weft_with(
        dir.path(),
        &[
            ("WEFT_SEARCH__COMMIT_INTERVAL_MS", "600000"),
            ("WEFT_SEARCH__COMMIT_DOCS", "100000"),
        ],
    );
    let (u, _) = {
        let u = User::new(&p.base, "alice");
        let r = u
            .post("/login", &[("username", "alice"), ("password", PASSWORD)])
            .await;
        (u, r)
    };
    for i in 0..12 {
        let r = u
            .post("/posts", &[("body", &format!("crashword {i}"))])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    assert_eq!(
        search_count(&p.base, "crashword").await,
        0,
        "not committed yet"
    );
    p.child.kill().expect("SIGKILL");
    p.child.wait().unwrap();

    let mut p2 = spawn_weft(dir.path());
    let deadline = Instant::now() + Duration::from_secs(20);
    while search_count(&p2.base, "crashword").await < 12 {
        assert!(
            Instant::now() < deadline,
            "the queued index jobs did not resume"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !p2.log
            .lock()
            .unwrap()
            .contains("rebuilding the search index"),
        "found through a rebuild, not through the queue"
    );

    // `weft reindex` refuses to run beside the server, and rebuilds once it has stopped.
    let reindex = || {
        Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(["reindex", "--data"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let busy = reindex();
    assert!(!busy.status.success());
    let err = String::from_utf8_lossy(&busy.stderr);
    assert!(err.contains("another weft process"), "{err}");
    p2.child.kill().unwrap();
    p2.child.wait().unwrap();
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let done = reindex();
    let out = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(out.contains("indexed 13 posts and 1 people"), "{out}");
    let mut p3 = spawn_weft(dir.path());
    assert_eq!(search_count(&p3.base, "crashword").await, 12);
    p3.child.kill().unwrap();
    p3.child.wait().unwrap();
}

#[actix_web::test]
async fn every_accepted_activity_survives_kill_dash_nine() {
    use crate::federation::{Forged, actor_url, eventually, fed_app, signer_of};
    // The sender: an in-process instance whose person signs the deliveries.
    let b = fed_app().await;
    b.signup("bob").await;
    let key = signer_of(&b, "bob").await;
    let bob = actor_url(&b, "bob");
    // The receiver: the real binary, on a port fixed across its restart (its actor ids,
    // which the activities name, must stay the same).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let public = format!("http://localhost:{port}");
    let bind = format!("127.0.0.1:{port}");
    let args = [
        "--public-url",
        public.as_str(),
        "--federation",
        "--allow-private-addresses",
    ];
    // One worker for received activities: most are still queued when the process dies.
    let p = spawn_weft_args(
        dir.path(),
        &bind,
        &args,
        &[("WEFT_JOBS__NETWORK_WORKERS", "1")],
    );
    let alice = User::new(&p.base, "alice");
    let r = alice
        .post("/signup", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let alice_actor = format!("{public}/users/alice");
    let inbox = format!("{public}/inbox");
    const N: usize = 60;
    let mut sends = Vec::new();
    for i in 0..N {
        let note = format!("{bob}/statuses/crash{i}");
        let activity = serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note}/activity"), "type": "Create", "actor": bob,
            "object": {"id": note, "type": "Note", "attributedTo": bob, "to": [alice_actor],
                       "content": format!("<p>crash note {i:03} for @alice</p>"),
                       "tag": [{"type": "Mention", "href": alice_actor}]},
        });
        sends.push(Forged::signed(&key, &inbox, &activity, std::time::SystemTime::now()).send());
    }
    // All at once, so the workers are still busy with them when the process dies.
    for status in futures_util::future::join_all(sends).await {
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    // Killed right after the last 202: whatever was not processed yet is still queued.
    let mut p = p;
    p.child.kill().expect("SIGKILL");
    let _ = p.child.wait();
    let p2 = spawn_weft_args(dir.path(), &bind, &args, &[]);
    let alice = User::new(&p2.base, "alice");
    let r = alice
        .post("/login", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    eventually("every accepted activity to be processed", || async {
        let n = alice.get("/notifications").await.body;
        (0..N).all(|i| n.contains(&format!("crash note {i:03}")))
    })
    .await;
    let mut p2 = p2;
    let _ = p2.child.kill();
    let _ = p2.child.wait();
}
