//! `weft bench seed`: deterministic data a seeded account can log in to and read.

use std::process::Command;

use reqwest::StatusCode;

use crate::common::TestApp;

fn seed(dir: &std::path::Path, seed: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args([
            "bench",
            "seed",
            "--users",
            "60",
            "--posts",
            "3000",
            "--follows",
            "10",
        ])
        .args(["--graph", "zipf", "--seed", seed, "--data"])
        .arg(dir)
        .env("WEFT_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn content(dir: &std::path::Path) -> Vec<(String, String, i64)> {
    let c = rusqlite::Connection::open(dir.join("weft.sqlite3")).unwrap();
    let mut s = c
        .prepare(
            "SELECT a.username, p.body, p.like_count FROM posts p JOIN accounts a ON a.id = p.author_id
             ORDER BY p.id",
        )
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[actix_web::test]
async fn seeding_is_deterministic_and_the_printed_account_can_log_in() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let out = seed(a.path(), "7");
    seed(b.path(), "7");
    seed(c.path(), "8");
    assert!(out.contains("seeded 60 users, 3000 posts"), "{out}");
    let line = out.lines().find(|l| l.starts_with("user: ")).unwrap();
    let (user, password) = line["user: ".len()..].split_once(" password: ").unwrap();
    let (ca, cb, cc) = (content(a.path()), content(b.path()), content(c.path()));
    assert_eq!(ca.len(), 3000);
    assert_eq!(ca, cb, "same seed, same data");
    assert_ne!(ca, cc, "another seed, other data");
    assert!(ca.iter().any(|(_, body, _)| body.contains('#')));
    assert!(
        ca.iter().any(|(_, _, likes)| *likes > 3),
        "likes are skewed"
    );

    let dir = a.path().to_path_buf();
    let app = TestApp::with_config(|c| c.server.data_dir = dir).await;
    let (u, r) = app.login(user, password).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(u.get("/").await.post_ids().len(), 20);
    assert!(app.anon().get("/public").await.post_ids().len() >= 15);
    // Seeding refuses a data directory that already has accounts.
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["bench", "seed", "--users", "5", "--posts", "10", "--data"])
        .arg(a.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
}
