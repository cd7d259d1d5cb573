use reqwest::StatusCode;

use crate::common::{TestApp, User};

/// Follows "Load older" links until the end and returns every post id seen, in order.
async fn walk(u: &User, first: &str) -> (Vec<i64>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut path = first.to_string();
    loop {
        let page = u.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        pages += 1;
        ids.extend(page.post_ids());
        let key = "class=\"button\" href=\"";
        match page.body.find(key) {
            Some(i) if page.body[i..].contains("Load older") => {
                let rest = &page.body[i + key.len()..];
                path = rest[..rest.find('"').unwrap()].replace("&amp;", "&");
                assert!(path.contains("before="), "keyset, not offset: {path}");
            }
            _ => break,
        }
        assert!(pages < 50, "pagination does not end");
    }
    (ids, pages)
}

#[actix_web::test]
async fn feeds_paginate_by_keyset_without_gaps_or_repeats() {
    let app = TestApp::with_config(|c| c.limits.page_size = 4).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    bob.follow("alice").await;
    let mut made = Vec::new();
    for i in 0..10 {
        made.push(alice.say(&format!("post number {i}")).await);
    }
    let reply = alice.reply(made[0], "a reply").await;
    made.reverse();

    let (public, pages) = walk(&app.anon(), "/public").await;
    assert_eq!(
        public, made,
        "public: newest first, every post once, no replies"
    );
    assert_eq!(pages, 3);

    let (home, _) = walk(&bob, "/").await;
    let mut with_reply = made.clone();
    with_reply.insert(0, reply);
    assert_eq!(
        home, with_reply,
        "home includes a followed person's reply to themself"
    );

    let (profile, _) = walk(&app.anon(), "/@alice").await;
    assert_eq!(profile, made, "the posts tab leaves replies out");
    let (all, _) = walk(&app.anon(), "/@alice?tab=replies").await;
    assert_eq!(all, with_reply);
    // A post made while paging does not shift older pages (keyset, not offset).
    let first = app.anon().get("/public").await;
    alice.say("brand new").await;
    let key = "before=";
    let i = first.body.find(key).unwrap() + key.len();
    let cursor: String = first.body[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let second = app.anon().get(&format!("/public?before={cursor}")).await;
    assert_eq!(second.post_ids(), made[4..8].to_vec());
}

#[actix_web::test]
async fn home_shows_followed_people_and_me_but_not_strangers() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let sam = app.signup("sam").await;
    alice.follow("bob").await;
    alice.say("my own post").await;
    bob.say("bob's post").await;
    sam.say("stranger's post").await;
    let sam_post = sam.say("sam starts a thread").await;
    bob.reply(sam_post, "bob answers a stranger").await;
    let home = alice.get("/").await;
    home.assert_contains("my own post");
    home.assert_contains("bob's post");
    home.assert_lacks("stranger's post");
    home.assert_lacks("bob answers a stranger");
    // Logged out, / is the public feed.
    let anon = app.anon().get("/").await;
    anon.assert_contains("stranger's post");
    anon.assert_contains("Sign up");
}

#[actix_web::test]
async fn bookmarks_are_private() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = alice.say("keep this").await;
    let r = bob
        .post(&format!("/posts/{id}/bookmark"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(bob.get("/bookmarks").await.post_ids(), vec![id]);
    assert!(alice.get("/bookmarks").await.post_ids().is_empty());
    assert_eq!(
        app.anon().get("/bookmarks").await.status,
        StatusCode::UNAUTHORIZED
    );
    bob.post(&format!("/posts/{id}/bookmark"), &[("on", "0")])
        .await;
    assert!(bob.get("/bookmarks").await.post_ids().is_empty());
    // A bookmarked post that is deleted leaves the list.
    bob.post(&format!("/posts/{id}/bookmark"), &[("on", "1")])
        .await;
    alice.post(&format!("/posts/{id}/delete"), &[]).await;
    assert!(bob.get("/bookmarks").await.post_ids().is_empty());
    // So does a followers-only post once its bookmarker stops following; the public one stays.
    bob.follow("alice").await;
    let inner = alice
        .create_post(&[("body", "for followers"), ("visibility", "followers")])
        .await;
    let open = alice.say("for everyone").await;
    for post in [inner, open] {
        bob.post(&format!("/posts/{post}/bookmark"), &[("on", "1")])
            .await;
    }
    assert_eq!(bob.get("/bookmarks").await.post_ids(), vec![open, inner]);
    bob.post("/@alice/unfollow", &[]).await;
    assert_eq!(bob.get("/bookmarks").await.post_ids(), vec![open]);
}

/// Whether the card of post `id` on page `body` shows its `what` (like, bookmark) as pressed.
fn pressed(body: &str, id: i64, what: &str) -> bool {
    let Some(at) = body.find(&format!("id=\"actions-{id}\"")) else {
        panic!("post {id} is not on the page");
    };
    let rest = &body[at..];
    let button = rest
        .find(&format!("class=\"action {what}"))
        .map(|b| &rest[b..])
        .unwrap_or_else(|| panic!("post {id} has no {what} button"));
    button.starts_with(&format!("class=\"action {what} on\""))
}

#[actix_web::test]
async fn a_feed_page_shows_what_the_viewer_liked_and_bookmarked_however_many_they_did() {
    // One page of 70 posts: a viewer with a few marks among them, and one with nearly all.
    let app = TestApp::with_config(|c| c.limits.page_size = 80).await;
    let alice = app.signup("alice").await;
    let few = app.signup("few").await;
    let many = app.signup("many").await;
    let mut ids = Vec::new();
    for i in 0..70 {
        ids.push(alice.say(&format!("post number {i}")).await);
    }
    let liked_by_few = [ids[3], ids[40], ids[69]];
    for id in liked_by_few {
        few.post(&format!("/posts/{id}/like"), &[("on", "1")]).await;
    }
    few.post(&format!("/posts/{}/bookmark", ids[5]), &[("on", "1")])
        .await;
    let not_liked_by_many = [ids[0], ids[10], ids[33], ids[69]];
    for &id in &ids {
        if !not_liked_by_many.contains(&id) {
            many.post(&format!("/posts/{id}/like"), &[("on", "1")])
                .await;
        }
        many.post(&format!("/posts/{id}/bookmark"), &[("on", "1")])
            .await;
    }
    let page = few.get("/public").await;
    let many_page = many.get("/public").await;
    for &id in &ids {
        assert_eq!(
            pressed(&page.body, id, "like"),
            liked_by_few.contains(&id),
            "few's like of {id}"
        );
        assert_eq!(
            pressed(&page.body, id, "bookmark"),
            id == ids[5],
            "few's bookmark of {id}"
        );
        assert_eq!(
            pressed(&many_page.body, id, "like"),
            !not_liked_by_many.contains(&id),
            "many's like of {id}"
        );
        assert!(
            pressed(&many_page.body, id, "bookmark"),
            "many's bookmark of {id}"
        );
    }
    // Logged out, nothing is pressed (and there are no buttons to press).
    app.anon()
        .get("/public")
        .await
        .assert_lacks("aria-pressed=\"true\"");
}
