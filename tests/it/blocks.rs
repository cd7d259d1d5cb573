//! Blocking: follows end both ways and the two are kept apart.

use reqwest::StatusCode;

use crate::common::TestApp;

#[actix_web::test]
async fn a_block_keeps_two_people_apart_until_it_is_lifted() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    bob.follow("alice").await;
    alice.follow("bob").await;
    let post = alice.say("alice speaks").await;
    let bobs = bob.say("bob speaks").await;
    carol.reply(bobs, "carol answers bob").await;

    // Before the block: bob liked alice's post, carol quoted it.
    bob.post(&format!("/posts/{post}/like"), &[]).await;
    alice
        .get("/notifications")
        .await
        .assert_contains("liked your post");
    let quote = carol
        .create_post(&[
            ("body", "carol quotes alice"),
            ("quote_of", &post.to_string()),
        ])
        .await;

    let r = alice.post("/@bob/block", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // What they did to each other is forgotten; her post is not found for him, nor shown
    // inside carol's quote.
    alice
        .get("/notifications")
        .await
        .assert_lacks("liked your post");
    assert_eq!(
        bob.get(&format!("/@alice/{post}")).await.status,
        StatusCode::NOT_FOUND
    );
    let q = bob.get(&format!("/@carol/{quote}")).await;
    q.assert_contains("carol quotes alice");
    q.assert_lacks("alice speaks");
    let p = alice.get("/@bob").await;
    p.assert_contains("You blocked this account");
    p.assert_contains("Unblock");
    // Follows ended both ways.
    app.anon()
        .get("/@alice")
        .await
        .assert_contains("<strong>0</strong> followers");
    app.anon()
        .get("/@bob")
        .await
        .assert_contains("<strong>0</strong> followers");
    // bob cannot follow, reply, like, repost or quote alice; his mention does not reach her.
    assert_eq!(bob.follow("alice").await.status, StatusCode::FORBIDDEN);
    let r = bob
        .post(
            "/posts",
            &[("body", "hey"), ("in_reply_to", &post.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = bob.post(&format!("/posts/{post}/like"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = bob.post(&format!("/posts/{post}/repost"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    bob.say("hello @alice are you there").await;
    alice
        .get("/notifications")
        .await
        .assert_lacks("are you there");
    // Neither sees the other in feeds; others still see both.
    alice.get("/public").await.assert_lacks("bob speaks");
    bob.get("/public").await.assert_lacks("alice speaks");
    carol.get("/public").await.assert_contains("bob speaks");
    // Blocking oneself makes no sense.
    assert_eq!(
        alice.post("/@alice/block", &[]).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let r = alice.post("/@bob/unblock", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    alice.get("/public").await.assert_contains("bob speaks");
    assert_eq!(bob.follow("alice").await.status, StatusCode::SEE_OTHER);
}
