use reqwest::StatusCode;

use crate::common::{PASSWORD, TestApp, User};

/// Every form-handling route, with a valid-looking body.
fn post_routes(id: i64) -> Vec<(String, Vec<(&'static str, String)>)> {
    let s = |v: &str| v.to_string();
    vec![
        (s("/posts"), vec![("body", s("csrf-less post"))]),
        (format!("/posts/{id}/like"), vec![("on", s("1"))]),
        (format!("/posts/{id}/repost"), vec![("on", s("1"))]),
        (format!("/posts/{id}/bookmark"), vec![("on", s("1"))]),
        (format!("/posts/{id}/hide"), vec![("on", s("1"))]),
        (format!("/posts/{id}/edit"), vec![("body", s("changed"))]),
        (format!("/posts/{id}/delete"), vec![]),
        (s("/@bob/follow"), vec![]),
        (s("/@bob/unfollow"), vec![]),
        (s("/@bob/remove_follower"), vec![]),
        (s("/follow_requests/bob/accept"), vec![]),
        (s("/follow_requests/bob/reject"), vec![]),
        (s("/notifications/read"), vec![]),
        (s("/settings/profile"), vec![("display_name", s("Pwned"))]),
        (
            s("/settings/password"),
            vec![
                ("current_password", s(PASSWORD)),
                ("new_password", s("pwned pwned")),
            ],
        ),
        (s("/settings/logout_others"), vec![]),
        (
            s("/admin/settings"),
            vec![("name", s("Pwned")), ("registration", s("closed"))],
        ),
        (s("/admin/accounts/bob/role"), vec![("role", s("admin"))]),
        (s("/admin/accounts/bob/verify"), vec![("on", s("1"))]),
        (s("/admin/accounts/bob/approve"), vec![]),
        (s("/admin/accounts/bob/reject"), vec![]),
        (s("/tags/weft/follow"), vec![]),
        (s("/tags/weft/unfollow"), vec![]),
        (s("/settings/search"), vec![("opt_out", s("1"))]),
        (s("/admin/search/rebuild"), vec![]),
        (s("/admin/trends/tags/weft/hide"), vec![]),
        (s("/admin/trends/posts/1/hide"), vec![]),
        (s("/logout"), vec![]),
        (
            s("/login"),
            vec![("username", s("alice")), ("password", s(PASSWORD))],
        ),
        (
            s("/signup"),
            vec![("username", s("mallory")), ("password", s(PASSWORD))],
        ),
    ]
}

#[actix_web::test]
async fn every_form_refuses_a_missing_or_wrong_csrf_token_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let id = alice.say("original text").await;
    let before_public = app.anon().get("/public").await.post_ids();
    let anon = User::new(&app.base, "");
    anon.get("/login").await;
    for (path, fields) in post_routes(id) {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = alice.post_raw(&path, &f).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "no token: {path}");
        r.assert_contains("The form has expired");
        let mut wrong = f.clone();
        wrong.push(("csrf", "not-the-token"));
        let r = alice.post_raw(&path, &wrong).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "wrong token: {path}");
        // An anonymous visitor's own token is not valid for a logged-in session either.
        let r = anon.post_raw(&path, &f).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "anon, no token: {path}");
    }
    // Nothing changed: the post, the profile, the session, the settings.
    let page = alice.get(&format!("/@alice/{id}")).await;
    page.assert_contains("original text");
    page.assert_lacks("<span class=\"count\">1</span>");
    assert_eq!(alice.get("/settings").await.status, StatusCode::OK);
    app.anon().get("/@alice").await.assert_lacks("Pwned");
    assert_eq!(app.anon().get("/public").await.post_ids(), before_public);
    assert_eq!(
        app.anon().get("/@mallory").await.status,
        StatusCode::NOT_FOUND
    );
    let (_, r) = app.login("alice", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the password did not change"
    );
}

#[actix_web::test]
async fn logged_out_visitors_cannot_act() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let id = alice.say("hello").await;
    let anon = app.anon();
    for path in [
        "/posts",
        &format!("/posts/{id}/like"),
        "/@alice/follow",
        "/settings/profile",
    ] {
        let r = anon.post(path, &[("body", "x"), ("on", "1")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        r.assert_contains("Log in");
    }
    for path in [
        "/settings",
        "/notifications",
        "/bookmarks",
        "/compose",
        "/admin",
        "/follow_requests",
    ] {
        assert_eq!(
            anon.get(path).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    assert!(app.anon().get("/@alice?tab=replies").await.post_ids().len() == 1);
}

#[actix_web::test]
async fn oversized_and_malformed_bodies_get_clear_errors() {
    let app = TestApp::with_config(|c| c.limits.form_bytes = 2048).await;
    let alice = app.signup("alice").await;
    let big = "a".repeat(4000);
    let r = alice.post("/posts", &[("body", &big)]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    r.assert_contains("larger than this instance accepts");
    let token = alice.csrf().await;
    let r = alice
        .client
        .post(format!("{}/posts", app.base))
        .header("content-type", "application/json")
        .body(format!("{{\"csrf\":\"{token}\",\"body\":\"x\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = alice
        .client
        .post(format!("{}/posts", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={token}&body=%ZZ%&in_reply_to=%FF"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = alice.get("/public?before=yesterday").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.anon()
            .get("/@alice?tab=replies")
            .await
            .post_ids()
            .is_empty()
    );
}

#[actix_web::test]
async fn pages_carry_security_headers_and_no_inline_script() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    alice.say("hi").await;
    for path in ["/", "/public", "/@alice", "/settings", "/nope", "/login"] {
        let r = alice.get(path).await;
        let csp = r
            .headers
            .get("content-security-policy")
            .expect("CSP")
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
        for (i, _) in r.body.match_indices("<script") {
            let tag = &r.body[i..i + r.body[i..].find('>').unwrap()];
            assert!(tag.contains(" src="), "inline script on {path}: {tag}");
        }
        assert!(!r.body.contains(" onclick="), "inline handler on {path}");
    }
    let css = app.anon().get("/public").await;
    let i = css.body.find("/static/style.").unwrap();
    let href: String = css.body[i..].chars().take_while(|c| *c != '"').collect();
    let r = app.anon().get(&href).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        r.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[actix_web::test]
async fn errors_are_pages_in_the_site_style_without_internals() {
    let app = TestApp::spawn().await;
    let anon = app.anon();
    for path in [
        "/@nobody",
        "/@nobody/123",
        "/nope/at/all",
        "/@x/notanumber",
        "/static/missing.css",
    ] {
        let r = anon.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        r.assert_contains("Not found");
        r.assert_contains("/static/style.");
    }
    let r = anon.get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "ok");
}

#[actix_web::test]
async fn posting_is_rate_limited() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.posts_per_account = 3;
    })
    .await;
    let alice = app.signup("alice").await;
    for i in 0..3 {
        alice.say(&format!("post {i}")).await;
    }
    let r = alice.post("/posts", &[("body", "one too many")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    r.assert_contains("one too many");
    assert_eq!(app.anon().get("/@alice").await.post_ids().len(), 3);
}

#[actix_web::test]
async fn the_client_address_comes_from_trusted_proxies_only() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.signup_per_ip = 1;
        c.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // Behind the (trusted) proxy, two visitors are two clients.
    for (name, ip) in [("a1", "203.0.113.1"), ("a2", "203.0.113.2")] {
        let u = User::new(&app.base, name);
        let token = u.csrf().await;
        let r = u
            .client
            .post(format!("{}/signup", app.base))
            .header("x-forwarded-for", ip)
            .form(&[("username", name), ("password", PASSWORD), ("csrf", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name}");
    }
    let u = User::new(&app.base, "a3");
    let token = u.csrf().await;
    let r = u
        .client
        .post(format!("{}/signup", app.base))
        .header("x-forwarded-for", "203.0.113.1")
        .form(&[("username", "a3"), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn the_login_required_page_offers_a_way_in() {
    let app = TestApp::spawn().await;
    app.signup("admin").await;
    let r = app.anon().get("/settings").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    r.assert_contains("href=\"/login\"");
}
