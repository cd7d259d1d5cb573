use reqwest::StatusCode;

use crate::common::TestApp;

#[actix_web::test]
async fn every_kind_of_notification_arrives_with_an_unread_count() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = alice.say("notice me").await;
    bob.follow("alice").await;
    bob.reply(id, "a reply").await;
    bob.say("hey @alice look").await;
    bob.create_post(&[("body", "quoting"), ("quote_of", &id.to_string())])
        .await;
    bob.post(&format!("/posts/{id}/repost"), &[("on", "1")])
        .await;
    bob.post(&format!("/posts/{id}/like"), &[("on", "1")]).await;
    // Own actions notify nobody.
    alice
        .post(&format!("/posts/{id}/like"), &[("on", "1")])
        .await;

    let home = alice.get("/").await;
    home.assert_contains("aria-label=\"6 unread\"");
    let n = alice.get("/notifications").await;
    for text in [
        "followed you",
        "replied to you",
        "mentioned you",
        "quoted your post",
        "reposted your post",
        "liked your post",
    ] {
        n.assert_contains(text);
    }
    assert_eq!(
        n.body.matches("notification ").count(),
        6,
        "no self-notifications"
    );
    let r = alice.post("/notifications/read", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    alice.get("/").await.assert_lacks("unread\"");
    // Undoing a like takes its notification back.
    bob.post(&format!("/posts/{id}/like"), &[("on", "0")]).await;
    alice
        .get("/notifications")
        .await
        .assert_lacks("liked your post");
    assert_eq!(
        app.anon().get("/notifications").await.status,
        StatusCode::UNAUTHORIZED
    );
}
