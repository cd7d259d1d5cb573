//! Every statement the app runs, recorded while a scenario that touches every page and action
//! runs (and whatever other tests run at the same time), is checked with EXPLAIN QUERY PLAN:
//! none may walk a whole big table.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::TestApp;

/// Tables that grow with use; a full scan of one is a bug. (`accounts` and `home_feeds`, one
/// row per account at most, may be counted.)
const BIG: &[&str] = &[
    "posts",
    "follows",
    "likes",
    "notifications",
    "home_entries",
    "bookmarks",
    "mentions",
    "post_tags",
    "jobs",
    "sessions",
    "post_edits",
    "follow_requests",
    "followed_tags",
    "tag_stats",
    "media",
];

const KEYWORDS: &[&str] = &[
    "where", "join", "left", "inner", "cross", "on", "order", "group", "limit", "using", "set",
    "values", "union", "select", "natural", "as",
];

/// alias → table, from the FROM and JOIN clauses.
fn aliases(sql: &str) -> HashMap<String, String> {
    let lower = sql.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || "(),;=".contains(c))
        .filter(|t| !t.is_empty())
        .collect();
    let mut map = HashMap::new();
    for i in 0..tokens.len() {
        if matches!(tokens[i], "from" | "join" | "into" | "update")
            && let Some(table) = tokens.get(i + 1)
        {
            map.insert(table.to_string(), table.to_string());
            let mut j = i + 2;
            if tokens.get(j) == Some(&"as") {
                j += 1;
            }
            if let Some(alias) = tokens.get(j)
                && !KEYWORDS.contains(alias)
            {
                map.insert(alias.to_string(), table.to_string());
            }
        }
    }
    map
}

/// The text of every migration: their statements run once, at start, and may scan (a new
/// table filled from an old one).
fn migrations() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut all = String::new();
    for e in std::fs::read_dir(dir).unwrap() {
        all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    all
}

fn should_check(sql: &str) -> bool {
    static MIGRATIONS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if MIGRATIONS.get_or_init(migrations).contains(sql.trim()) {
        return false;
    }
    let head = sql.trim_start().to_uppercase();
    ["SELECT", "WITH", "INSERT", "UPDATE", "DELETE"]
        .iter()
        .any(|k| head.starts_with(k))
        && !head.contains("SQLITE_MASTER")
        && !head.contains("SQLITE_SCHEMA")
}

/// Lines of the plan that walk a whole big table: a SCAN without an index, or an index
/// walked end to end with no LIMIT to stop it.
fn full_scans(sql: &str, plan: &[String]) -> Vec<String> {
    let names = aliases(sql);
    let limited = sql.to_uppercase().contains("LIMIT");
    plan.iter()
        .filter_map(|line| {
            let rest = line.strip_prefix("SCAN ")?;
            let name = rest.split_whitespace().next()?.to_lowercase();
            let table = names.get(&name).cloned().unwrap_or(name);
            if !BIG.contains(&table.as_str()) {
                return None;
            }
            let indexed = rest.contains(" USING ");
            (!indexed || !limited).then(|| format!("{line} (table {table})"))
        })
        .collect()
}

#[actix_web::test]
async fn no_query_the_app_runs_scans_a_big_table() {
    weft::store::db::record_statements();
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await; // the first account is the admin
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;

    bob.follow("alice").await;
    carol.follow("alice").await;
    let p = alice.say("hello #weft world").await;
    let r = bob.reply(p, "hi @alice").await;
    alice.reply(r, "hi back").await;
    for (path, who) in [("like", &carol), ("repost", &carol), ("bookmark", &bob)] {
        who.post(&format!("/posts/{p}/{path}"), &[]).await;
    }
    let q = carol
        .create_post(&[("body", "quoting"), ("quote_of", &p.to_string())])
        .await;
    alice
        .post(
            &format!("/posts/{p}/edit"),
            &[("body", "hello #weft world, edited")],
        )
        .await;
    bob.post(&format!("/posts/{r}/hide"), &[("hidden", "true")])
        .await;
    carol
        .post(&format!("/posts/{p}/repost"), &[("undo", "1")])
        .await;
    carol.post(&format!("/posts/{q}/delete"), &[]).await;

    // Locked account: request, accept; remove a follower; unfollow.
    carol
        .post(
            "/settings/profile",
            &[("display_name", "Carol"), ("locked", "on")],
        )
        .await;
    bob.follow("carol").await;
    carol.post("/follow_requests/bob/accept", &[]).await;
    alice.follow("carol").await;
    carol.post("/follow_requests/alice/reject", &[]).await;
    alice.follow("bob").await;
    bob.post("/@alice/remove_follower", &[]).await;
    carol.post("/@alice/unfollow", &[]).await;

    // Search, hashtags and trends.
    alice.post("/tags/weft/follow", &[]).await;
    bob.post("/tags/weft/follow", &[]).await;
    bob.post("/tags/weft/unfollow", &[]).await;
    carol.post("/settings/search", &[("opt_out", "1")]).await;
    alice.post("/admin/trends/tags/spam/hide", &[]).await;
    alice
        .post(&format!("/admin/trends/posts/{r}/hide"), &[])
        .await;
    alice.post("/admin/trends/tags/spam/unhide", &[]).await;
    weft::service::search::settle(&app.core).await.unwrap();

    // Every page, as each kind of visitor, twice: the home feed is built after the first view.
    let anon = app.anon();
    for _ in 0..2 {
        for who in [&alice, &bob, &carol, &anon] {
            for path in [
                "/".to_string(),
                "/public".into(),
                "/tags/weft".into(),
                "/bookmarks".into(),
                "/notifications".into(),
                "/@alice".into(),
                "/@alice?tab=replies".into(),
                "/@alice?tab=reposts".into(),
                "/@alice/followers".into(),
                "/@alice/following".into(),
                format!("/@alice/{p}"),
                format!("/@alice/{p}/history"),
                format!("/@alice/{p}/edit"),
                "/follow_requests".into(),
                "/settings".into(),
                "/admin".into(),
                "/compose".into(),
                "/?before=9223372036854775000".into(),
                "/search?q=hello".into(),
                "/search?q=hello+-edited&order=relevant".into(),
                "/search?q=%23weft+from%3Aalice+has%3Amedia".into(),
                "/search?q=ali&type=people".into(),
                "/search?q=we&type=tags".into(),
                "/search/suggest?q=%40al".into(),
                "/search/suggest?q=%23we".into(),
                "/explore".into(),
                "/settings/search".into(),
                "/admin/search".into(),
            ] {
                who.get(&path).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    alice.post("/notifications/read", &[]).await;
    alice.post("/admin/accounts/bob/verify", &[]).await;
    alice.post("/settings/logout_others", &[]).await;
    app.login("bob", "wrong password").await;
    bob.post("/logout", &[]).await;

    let statements = weft::store::db::recorded_statements();
    assert!(
        statements.len() > 60,
        "only {} statements recorded",
        statements.len()
    );
    let mut failures = Vec::new();
    let checked = statements.iter().filter(|s| should_check(s)).count();
    for sql in statements.into_iter().filter(|s| should_check(s)) {
        let plan = app
            .core
            .db
            .read({
                let sql = sql.clone();
                move |c| {
                    let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let params = vec![1i64; stmt.parameter_count()];
                    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                        r.get::<_, String>(3)
                    })?;
                    Ok(rows.collect::<Result<Vec<String>, _>>()?)
                }
            })
            .await
            .unwrap();
        let scans = full_scans(&sql, &plan);
        if !scans.is_empty() {
            failures.push(format!("{sql}\n  {}", scans.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} statements scan a big table:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
