use reqwest::StatusCode;

use crate::common::{TestApp, post_path};

#[actix_web::test]
async fn following_and_unfollowing_an_open_account() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let r = bob.follow("alice").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    bob.follow("alice").await;
    let p = app.anon().get("/@alice").await;
    p.assert_contains("<strong>1</strong> followers");
    app.anon()
        .get("/@alice/followers")
        .await
        .assert_contains("@bob");
    app.anon()
        .get("/@bob/following")
        .await
        .assert_contains("@alice");
    alice.get("/@bob").await.assert_contains("Follows you");
    bob.get("/@alice").await.assert_contains("Unfollow");
    let r = bob.post("/@alice/unfollow", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    app.anon()
        .get("/@alice")
        .await
        .assert_contains("<strong>0</strong> followers");
    let r = bob.follow("bob").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = bob.follow("nobody").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_locked_account_approves_followers() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let r = alice.post("/settings/profile", &[("locked", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let secret = alice
        .create_post(&[("body", "inner circle"), ("visibility", "followers")])
        .await;

    bob.follow("alice").await;
    bob.get("/@alice").await.assert_contains("Cancel request");
    // Her navigation counts the request (and the notification about it) on every page.
    let home = alice.get("/public").await;
    home.assert_contains("<span class=\"badge\" aria-label=\"1 unread\">1</span>");
    let profile_link = nav_link_to(&home.body, "/@alice");
    assert!(
        profile_link.contains("aria-label=\"1 follow request\""),
        "the profile link shows the pending request: {profile_link}"
    );
    bob.get("/public")
        .await
        .assert_lacks("<span class=\"badge\"");
    assert_eq!(
        bob.get(&post_path("alice", secret)).await.status,
        StatusCode::NOT_FOUND
    );
    alice
        .get("/notifications")
        .await
        .assert_contains("asked to follow you");
    let reqs = alice.get("/follow_requests").await;
    reqs.assert_contains("@bob");
    let r = alice.post("/follow_requests/bob/accept", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        bob.get(&post_path("alice", secret)).await.status,
        StatusCode::OK
    );
    bob.get("/").await.assert_contains("inner circle");

    carol.follow("alice").await;
    let r = alice.post("/follow_requests/carol/reject", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    carol
        .get("/@alice")
        .await
        .assert_contains("Request to follow");
    assert_eq!(
        carol.get(&post_path("alice", secret)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = alice.post("/follow_requests/carol/accept", &[]).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "no pending request to accept"
    );

    // Removing a follower takes away their access.
    let r = alice.post("/@bob/remove_follower", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        bob.get(&post_path("alice", secret)).await.status,
        StatusCode::NOT_FOUND
    );
    app.anon()
        .get("/@alice")
        .await
        .assert_contains("<strong>0</strong> followers");

    // Unlocking accepts whoever is waiting.
    carol.follow("alice").await;
    let dave = app.signup("dave").await;
    dave.follow("alice").await;
    let profile_link = nav_link_to(&alice.get("/public").await.body, "/@alice");
    assert!(
        profile_link.contains("aria-label=\"2 follow requests\">2</span>"),
        "both requests are counted: {profile_link}"
    );
    alice.post("/settings/profile", &[]).await;
    carol.get("/@alice").await.assert_contains("Unfollow");
    dave.get("/@alice").await.assert_contains("Unfollow");
    alice.get("/public").await.assert_lacks("follow request\"");
}

/// The navigation link to `href` on a page, up to its end.
fn nav_link_to(page: &str, href: &str) -> String {
    page.split(&format!("class=\"nav-link\" href=\"{href}\""))
        .nth(1)
        .and_then(|rest| rest.split("</a>").next())
        .unwrap_or_default()
        .to_string()
}

#[actix_web::test]
async fn follow_buttons_work_in_place_with_htmx() {
    let app = TestApp::spawn().await;
    app.signup("alice").await;
    let bob = app.signup("bob").await;
    let r = bob.post_htmx("/@alice/follow", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with("<form"), "{}", r.body);
    r.assert_contains("Unfollow");
}

#[actix_web::test]
async fn following_stops_at_the_configured_most() {
    let app = TestApp::with_config(|c| c.limits.following_max = 2).await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let carol = app.signup("carol").await;
    app.signup("dave").await;
    let r = carol.post("/settings/profile", &[("locked", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for name in ["bob", "carol"] {
        let r = alice.follow(name).await;
        assert!(r.status.is_redirection(), "{name}: {}", r.status);
    }
    // At the most, asking again for a request that is already waiting is no new follow.
    let r = alice.follow("carol").await;
    assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
    alice.get("/@carol").await.assert_contains("Cancel request");
    let r = alice.follow("dave").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    r.assert_contains(
        "You follow (or have asked to follow) 2 accounts, the most this instance allows",
    );
    let following = alice.get("/@alice/following").await;
    following.assert_contains("@bob");
    following.assert_lacks("@dave");
    // Unfollowing makes room again.
    alice.post("/@bob/unfollow", &[]).await;
    assert!(alice.follow("dave").await.status.is_redirection());
}
