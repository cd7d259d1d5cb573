//! Pages for visitors without a session are shared among them until the next write.

use crate::common::{TestApp, User, post_path};
use reqwest::StatusCode;

/// The CSRF token a page hands to htmx (`hx-headers` on `<body>`).
fn page_token(body: &str) -> String {
    let key = "X-CSRF-Token&quot;: &quot;";
    let i = body.find(key).expect("hx-headers with a token") + key.len();
    body[i..].chars().take_while(|c| *c != '&').collect()
}

/// (served from memory, rendered) as the admin page reports them.
async fn cache_counts(admin: &User) -> (u64, u64) {
    let page = admin.get("/admin").await;
    let i = page
        .body
        .find("Since the start: ")
        .expect("page cache section on /admin");
    let nums: Vec<u64> = page.body[i..]
        .split("<strong>")
        .skip(1)
        .take(2)
        .map(|s| s.split('<').next().unwrap().parse().unwrap())
        .collect();
    (nums[0], nums[1])
}

#[actix_web::test]
async fn visitors_share_a_page_until_something_changes() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await; // the first account is the admin
    let first = alice.say("First public words").await;
    let before = cache_counts(&alice).await;

    let (a, b) = (app.anon(), app.anon());
    let pa = a.get("/public").await;
    pa.assert_contains("First public words");
    let pb = b.get("/public").await;
    pb.assert_contains("First public words");
    // The second visitor got the kept page, with their own CSRF token spliced in.
    let after = cache_counts(&alice).await;
    assert_eq!(after.0 - before.0, 1, "{before:?} {after:?}");
    assert_eq!(page_token(&pa.body), a.csrf().await);
    assert_eq!(page_token(&pb.body), b.csrf().await);
    assert_ne!(page_token(&pa.body), page_token(&pb.body));
    // The token works for the visitor it was given to: a login attempt is checked, not refused.
    let r = b
        .post_raw(
            "/login",
            &[
                ("username", "nobody"),
                ("password", "wrong password"),
                ("csrf", &page_token(&pb.body)),
            ],
        )
        .await;
    assert_ne!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // A write is seen at once by the next visitor.
    alice.say("Second public words").await;
    b.get("/public")
        .await
        .assert_contains("Second public words");

    // A deleted post is gone at once from its thread and the author's profile.
    let path = post_path("alice", first);
    a.get(&path).await.assert_contains("First public words");
    a.get(&path).await.assert_contains("First public words");
    a.get("/@alice").await.assert_contains("First public words");
    let r = alice.post(&format!("/posts/{first}/delete"), &[]).await;
    assert!(
        r.status.is_redirection() || r.status.is_success(),
        "{}",
        r.status
    );
    let gone = a.get(&path).await;
    gone.assert_contains("This post was deleted");
    gone.assert_lacks("First public words");
    a.get("/@alice").await.assert_lacks("First public words");

    // Logged in, the page is never the shared one.
    let mine = alice.get("/public").await;
    mine.assert_contains("Log out");
    assert_eq!(page_token(&mine.body), alice.csrf().await);
    let theirs = a.get("/public").await;
    theirs.assert_lacks("Log out");
}

#[actix_web::test]
async fn no_page_is_kept_when_the_cache_is_off() {
    let app = TestApp::with_config(|c| c.feeds.public_cache_entries = 0).await;
    let alice = app.signup("alice").await;
    alice.say("Words").await;
    let v = app.anon();
    for _ in 0..3 {
        v.get("/public").await.assert_contains("Words");
    }
    assert_eq!(cache_counts(&alice).await, (0, 0));
}
