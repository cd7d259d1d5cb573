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

/// Asks for `path` as `who` until a page comes from memory (background jobs that follow a
/// write may move the generation a few times first); returns that page.
async fn until_served_from_memory(admin: &User, who: &User, path: &str) -> crate::common::Resp {
    for _ in 0..50 {
        let before = cache_counts(admin).await.0;
        let page = who.get(path).await;
        if cache_counts(admin).await.0 > before {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{path} was never served from memory");
}

#[actix_web::test]
async fn visitors_share_a_page_until_something_changes() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await; // the first account is the admin
    let first = alice.say("First public words").await;

    let (a, b) = (app.anon(), app.anon());
    let pa = a.get("/public").await;
    pa.assert_contains("First public words");
    // The second visitor gets the kept page, with their own CSRF token in it.
    let pb = until_served_from_memory(&alice, &b, "/public").await;
    pb.assert_contains("First public words");
    let (ta, tb) = (page_token(&pa.body), page_token(&pb.body));
    assert_eq!(ta, a.csrf().await);
    assert_eq!(tb, b.csrf().await);
    assert_ne!(ta, tb);
    assert!(!pb.body.contains(&ta), "another visitor's token");
    // The token works for the visitor it was given to: a login attempt is checked, not refused.
    let r = b
        .post_raw(
            "/login",
            &[
                ("username", "nobody"),
                ("password", "wrong password"),
                ("csrf", &tb),
            ],
        )
        .await;
    assert_ne!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // Logged in, the page is never the kept one, even while it is valid.
    until_served_from_memory(&alice, &a, "/public").await;
    let mine = alice.get("/public").await;
    mine.assert_contains("Log out");
    assert_eq!(page_token(&mine.body), alice.csrf().await);
    a.get("/public").await.assert_lacks("Log out");

    // A write is seen at once by the next visitor.
    alice.say("Second public words").await;
    b.get("/public")
        .await
        .assert_contains("Second public words");

    // A deleted post is gone at once from its thread and the author's profile.
    let path = post_path("alice", first);
    until_served_from_memory(&alice, &a, &path)
        .await
        .assert_contains("First public words");
    until_served_from_memory(&alice, &a, "/@alice")
        .await
        .assert_contains("First public words");
    let r = alice.post(&format!("/posts/{first}/delete"), &[]).await;
    assert!(r.status.is_redirection(), "{}", r.status);
    let gone = a.get(&path).await;
    gone.assert_contains("This post was deleted");
    gone.assert_lacks("First public words");
    a.get("/@alice").await.assert_lacks("First public words");
}

#[actix_web::test]
async fn what_the_client_sends_never_shapes_the_kept_page() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    alice
        .say("Hello there, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .await;
    let v = app.anon();
    until_served_from_memory(&alice, &v, "/public").await;

    // A CSRF cookie that matches a piece of the page does not cut the kept page there (the
    // page is cut where the server's own placeholder was), so other visitors see it whole.
    // The profile has not been asked for yet: that visitor's request is the one that renders
    // the page and keeps it, and the next visitor is served that very page.
    let raw = reqwest::Client::new();
    let get_with = |path: &str, cookie: &'static str| {
        raw.get(format!("{}{path}", app.base))
            .header("cookie", cookie)
            .send()
    };
    let before = cache_counts(&alice).await;
    let r = get_with(
        "/@alice",
        "weft_csrf=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rendered = cache_counts(&alice).await;
    assert_eq!(rendered, (before.0, before.1 + 1), "rendered and kept");
    let page = v.get("/@alice").await;
    assert_eq!(
        cache_counts(&alice).await,
        (rendered.0 + 1, rendered.1),
        "served from memory"
    );
    page.assert_contains("Hello there, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(page_token(&page.body), v.csrf().await);

    // A cookie this server could not have issued is neither served from memory nor pasted
    // raw into the page.
    let before = cache_counts(&alice).await;
    let r = get_with(
        "/public",
        "weft_csrf=%3Cb%3Ebold-abcdefghijklmnopqrstuvwxyz0123%3C%2Fb%3E",
    )
    .await
    .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("Hello there"));
    assert!(!body.contains("<b>bold"), "unescaped cookie in the page");
    assert_eq!(cache_counts(&alice).await, before);

    // Junk query parameters are not kept (they would multiply the pages).
    let before = cache_counts(&alice).await;
    for i in 0..3 {
        v.get(&format!("/public?x={i}")).await;
    }
    assert_eq!(cache_counts(&alice).await, before);

    // Once login is required, nothing is served from memory to visitors.
    let token = alice.csrf().await;
    let r = alice
        .post_raw(
            "/admin/settings",
            &[
                ("name", "weft"),
                ("description", ""),
                ("registration", "open"),
                ("login_required", "1"),
                ("csrf", &token),
            ],
        )
        .await;
    assert!(r.status.is_redirection(), "{}", r.status);
    let r = v.get("/public").await;
    assert_ne!(r.status, StatusCode::OK);
    r.assert_lacks("Hello there");
}

#[actix_web::test]
async fn no_page_is_kept_when_the_cache_is_off() {
    let app = TestApp::with_config(|c| c.feeds.public_cache_mib = 0).await;
    let alice = app.signup("alice").await;
    alice.say("Words").await;
    let v = app.anon();
    for _ in 0..3 {
        v.get("/public").await.assert_contains("Words");
    }
    assert_eq!(cache_counts(&alice).await, (0, 0));
}
