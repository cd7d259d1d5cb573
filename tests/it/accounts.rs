use reqwest::StatusCode;

use crate::common::{PASSWORD, TestApp, User};

#[actix_web::test]
async fn the_first_account_becomes_admin_and_later_ones_are_users() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    assert_eq!(alice.get("/admin").await.status, StatusCode::OK);
    assert_eq!(bob.get("/admin").await.status, StatusCode::FORBIDDEN);
    alice.get("/@bob").await.assert_contains("@bob");
}

#[actix_web::test]
async fn bad_sign_ups_are_refused_and_the_form_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let u = User::new(&app.base, "x");
    let r = u
        .post(
            "/signup",
            &[
                ("username", "no spaces"),
                ("password", PASSWORD),
                ("email", "a@b.org"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("letters a–z");
    r.assert_contains("value=\"no spaces\"");
    r.assert_contains("value=\"a@b.org\"");

    let r = u
        .post("/signup", &[("username", "carol"), ("password", "short")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("at least 8 characters");

    let r = u
        .post(
            "/signup",
            &[("username", &"a".repeat(31)), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = u
        .post(
            "/signup",
            &[
                ("username", "dave"),
                ("password", PASSWORD),
                ("email", "not-an-email"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // None of these created an account.
    assert_eq!(
        app.anon().get("/@carol").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.anon().get("/@dave").await.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn usernames_are_unique_ignoring_case() {
    let app = TestApp::spawn().await;
    app.signup("alice").await;
    let u = User::new(&app.base, "Alice");
    let r = u
        .post("/signup", &[("username", "Alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    r.assert_contains("taken");
}

#[actix_web::test]
async fn log_in_and_out() {
    let app = TestApp::spawn().await;
    app.signup("alice").await;
    let (u, r) = app.login("alice", "wrong password").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("Wrong username or password");
    r.assert_contains("value=\"alice\"");
    assert_eq!(u.get("/settings").await.status, StatusCode::UNAUTHORIZED);

    let (u, r) = app.login("ALICE", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("weft_session="))
        .expect("session cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not mark cookies Secure"
    );
    assert_eq!(u.get("/settings").await.status, StatusCode::OK);

    let r = u.post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(u.get("/settings").await.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn login_is_rate_limited_per_account_and_per_ip() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.login_per_account = 3;
        c.rate_limits.login_per_ip = 5;
    })
    .await;
    app.signup("alice").await;
    app.signup("bob").await;
    for _ in 0..3 {
        let (_, r) = app.login("alice", "nope nope nope").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Even the right password is refused until the window passes.
    let (_, r) = app.login("alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
    r.assert_contains("Try again in");
    // Two more failures on another account reach the per-IP limit.
    for _ in 0..2 {
        let (_, r) = app.login("bob", "nope nope nope").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (_, r) = app.login("bob", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn sign_up_is_rate_limited_per_ip() {
    let app = TestApp::with_config(|c| c.rate_limits.signup_per_ip = 2).await;
    app.signup("a1").await;
    app.signup("a2").await;
    let u = User::new(&app.base, "a3");
    let r = u
        .post("/signup", &[("username", "a3"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    r.assert_contains("value=\"a3\"");
}

#[actix_web::test]
async fn logging_out_everywhere_else_ends_other_sessions_only() {
    let app = TestApp::spawn().await;
    let laptop = app.signup("alice").await;
    let (phone, _) = app.login("alice", PASSWORD).await;
    let page = laptop.get("/settings").await;
    page.assert_contains("This browser");
    assert_eq!(page.body.matches("last active").count(), 2);
    let r = laptop.post("/settings/logout_others", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        phone.get("/settings").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(laptop.get("/settings").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let a = app.signup("alice").await;
    let (other, _) = app.login("alice", PASSWORD).await;
    let r = a
        .post(
            "/settings/password",
            &[
                ("current_password", "wrong one!"),
                ("new_password", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("current password is not right");
    let r = a
        .post(
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        other.get("/settings").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(a.get("/settings").await.status, StatusCode::OK);
    let (_, r) = app.login("alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, r) = app.login("alice", "a brand new secret").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn the_profile_shows_name_bio_links_and_fields() {
    let app = TestApp::spawn().await;
    let a = app.signup("alice").await;
    let r = a
        .post(
            "/settings/profile",
            &[
                ("display_name", "Alice <Liddell>"),
                ("bio", "Writer. See https://example.org and #books"),
                ("field_name_0", "Site"),
                ("field_value_0", "https://alice.example"),
                ("field_name_1", "Pronouns"),
                ("field_value_1", "she/her"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let p = app.anon().get("/@alice").await;
    p.assert_contains("Alice &lt;Liddell&gt;");
    p.assert_contains("href=\"https://example.org\"");
    p.assert_contains("href=\"/tags/books\"");
    p.assert_contains("<dt>Pronouns</dt>");
    p.assert_contains("href=\"https://alice.example\"");
}

#[actix_web::test]
async fn profile_limits_are_enforced_and_the_form_is_kept() {
    let app = TestApp::with_config(|c| {
        c.limits.profile_fields = 1;
        c.limits.bio_chars = 10;
    })
    .await;
    let a = app.signup("alice").await;
    let r = a
        .post(
            "/settings/profile",
            &[("display_name", "A"), ("bio", "this bio is too long")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("at most 10 characters");
    r.assert_contains("this bio is too long");
    // The form offers one field only; a second one sent anyway is ignored, not stored.
    let r = a
        .post(
            "/settings/profile",
            &[
                ("field_name_0", "One"),
                ("field_value_0", "1"),
                ("field_name_1", "Two"),
                ("field_value_1", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let p = app.anon().get("/@alice").await;
    p.assert_contains("<dt>One</dt>");
    p.assert_lacks("<dt>Two</dt>");
}

#[actix_web::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    let app =
        TestApp::with_config(|c| c.server.public_url = Some("https://social.example".into())).await;
    let u = User::new(&app.base, "alice");
    let r = u
        .post("/signup", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookies: Vec<&str> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("weft_session="))
        .unwrap();
    assert!(session.contains("Secure"), "{session}");
    // The profile shows the public host, not the bind address.
    app.anon()
        .get("/@alice")
        .await
        .assert_contains("@alice@social.example");
}
