use reqwest::StatusCode;

use crate::common::{TestApp, post_path};

#[actix_web::test]
async fn a_post_shows_links_mentions_tags_and_line_breaks_escaped() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let id = alice
        .say("hi @bob see https://example.org/x.\nnew line #Rust <script>alert(1)</script>")
        .await;
    let page = app.anon().get(&post_path("alice", id)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("href=\"/@bob\"");
    page.assert_contains("href=\"https://example.org/x\"");
    page.assert_contains("href=\"/tags/rust\"");
    page.assert_contains("<br>");
    page.assert_contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    page.assert_lacks("<script>alert(1)");
    // The tag page lists it.
    app.anon()
        .get("/tags/rust")
        .await
        .assert_contains(&format!("id=\"p-{id}\""));
}

#[actix_web::test]
async fn over_long_and_empty_posts_are_refused_with_the_text_kept() {
    let app = TestApp::with_config(|c| c.limits.post_chars = 20).await;
    let alice = app.signup("alice").await;
    let long = "é".repeat(21);
    let r = alice
        .post(
            "/posts",
            &[
                ("body", &long),
                ("content_warning", "spoilers"),
                ("visibility", "followers"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("at most 20 characters; this one has 21");
    r.assert_contains(&long);
    r.assert_contains("value=\"spoilers\"");
    r.assert_contains("value=\"followers\" selected");
    let r = alice.post("/posts", &[("body", "   \n ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("Write something");
    let ok = "é".repeat(20);
    alice.say(&ok).await;
    let profile = app.anon().get("/@alice?tab=replies").await;
    assert_eq!(
        profile.post_ids().len(),
        1,
        "only the valid post was stored"
    );
    let r = alice
        .post("/posts", &[("body", "x"), ("visibility", "galaxy")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn a_content_warning_hides_the_text_behind_a_summary() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let id = alice
        .create_post(&[
            ("body", "the butler did it"),
            ("content_warning", "book spoilers"),
        ])
        .await;
    let page = app.anon().get(&post_path("alice", id)).await;
    let cw = page.body.find("<details class=\"cw\">").expect("cw block");
    let summary = page.body[cw..].find("book spoilers").expect("cw label") + cw;
    let text = page.body[cw..].find("the butler did it").expect("text") + cw;
    assert!(summary < text, "the warning comes before the hidden text");
}

#[actix_web::test]
async fn a_thread_shows_ancestors_the_post_and_a_tree_of_replies() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let root = alice.say("root post").await;
    let r1 = bob.reply(root, "first reply").await;
    let r2 = carol.reply(root, "second reply").await;
    let r11 = alice.reply(r1, "reply to first").await;
    let r111 = carol.reply(r11, "deep reply").await;

    let page = app.anon().get(&post_path("bob", r1)).await;
    let ids = page.post_ids();
    // root (ancestor), r1 (focus), then r11 and r111 nested below; r2 is not under r1.
    assert_eq!(ids, vec![root, r1, r11, r111], "{}", page.body);
    page.assert_contains("Earlier in the conversation");

    let page = app.anon().get(&post_path("alice", root)).await;
    assert_eq!(page.post_ids(), vec![root, r1, r11, r111, r2]);
    // The nesting is real: r11 sits inside an inner list under r1.
    let r1_pos = page.body.find(&format!("id=\"p-{r1}\"")).unwrap();
    let inner = page.body[r1_pos..].find("<ol class=\"replies\">").unwrap() + r1_pos;
    let r11_pos = page.body.find(&format!("id=\"p-{r11}\"")).unwrap();
    assert!(inner < r11_pos);
    // The wrong author in the URL redirects to the right one.
    let r = app.anon().get(&post_path("carol", root)).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.location(), post_path("alice", root));
    // Counts follow.
    page.assert_contains("<span class=\"count\">2</span>");
}

#[actix_web::test]
async fn replies_to_deleted_or_invisible_posts_are_refused() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let gone = alice.say("soon gone").await;
    let r = alice.post(&format!("/posts/{gone}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = bob
        .post(
            "/posts",
            &[("body", "late reply"), ("in_reply_to", &gone.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("deleted or is not visible");
    r.assert_contains("late reply");

    let private = alice
        .create_post(&[("body", "followers only"), ("visibility", "followers")])
        .await;
    let r = bob
        .post(
            "/posts",
            &[("body", "sneaky"), ("in_reply_to", &private.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = bob
        .post("/posts", &[("body", "nope"), ("in_reply_to", "999999999")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = bob
        .post("/posts", &[("body", "nope"), ("in_reply_to", "abc")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.anon()
            .get("/@bob?tab=replies")
            .await
            .post_ids()
            .is_empty()
    );
}

#[actix_web::test]
async fn quotes_embed_the_quoted_post_and_only_public_posts_can_be_quoted() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let orig = alice.say("quotable words").await;
    let q = bob
        .create_post(&[("body", "so true"), ("quote_of", &orig.to_string())])
        .await;
    let page = app.anon().get(&post_path("bob", q)).await;
    page.assert_contains("so true");
    page.assert_contains("class=\"quote-embed\"");
    page.assert_contains("quotable words");
    assert!(page.post_ids().contains(&orig));
    // A quote may carry no text of its own.
    bob.create_post(&[("body", ""), ("quote_of", &orig.to_string())])
        .await;
    let page = bob.get(&post_path("alice", orig)).await;
    page.assert_contains("title=\"Quote\"");
    page.assert_contains("<span class=\"count\">2</span>");

    let private = alice
        .create_post(&[("body", "secret"), ("visibility", "followers")])
        .await;
    bob.follow("alice").await;
    let r = bob
        .post(
            "/posts",
            &[("body", "leak"), ("quote_of", &private.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_contains("Only public posts can be quoted");
    // Deleting the quoted post leaves the quote with a note.
    alice.post(&format!("/posts/{orig}/delete"), &[]).await;
    let page = app.anon().get(&post_path("bob", q)).await;
    page.assert_contains("The quoted post is not available");
    page.assert_lacks("quotable words");
}

#[actix_web::test]
async fn reposts_reach_followers_and_can_be_undone() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    carol.follow("bob").await;
    let id = alice.say("worth sharing").await;
    let r = bob
        .post(&format!("/posts/{id}/repost"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Twice is once.
    bob.post(&format!("/posts/{id}/repost"), &[("on", "1")])
        .await;
    let home = carol.get("/").await;
    home.assert_contains("worth sharing");
    home.assert_contains("reposted");
    let reposts = app.anon().get("/@bob?tab=reposts").await;
    assert_eq!(reposts.post_ids(), vec![id]);
    app.anon()
        .get(&post_path("alice", id))
        .await
        .assert_contains("<span class=\"count\">1</span>");

    bob.post(&format!("/posts/{id}/repost"), &[("on", "0")])
        .await;
    carol.get("/").await.assert_lacks("worth sharing");
    assert!(
        app.anon()
            .get("/@bob?tab=reposts")
            .await
            .post_ids()
            .is_empty()
    );

    let private = alice
        .create_post(&[("body", "not for sharing"), ("visibility", "followers")])
        .await;
    bob.follow("alice").await;
    let r = bob
        .post(&format!("/posts/{private}/repost"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn likes_count_and_can_be_undone_and_htmx_gets_the_fragment() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = alice.say("like me").await;
    let r = bob
        .post_htmx(&format!("/posts/{id}/like"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.starts_with("<footer class=\"actions\""),
        "{}",
        r.body
    );
    r.assert_contains("aria-pressed=\"true\"");
    r.assert_lacks("<html");
    app.anon()
        .get(&post_path("alice", id))
        .await
        .assert_contains("<span class=\"count\">1</span>");
    let r = bob
        .post(
            &format!("/posts/{id}/like"),
            &[("on", "0"), ("back", "/public")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/public");
    app.anon()
        .get(&post_path("alice", id))
        .await
        .assert_lacks("<span class=\"count\">1</span>");
    // A redirect target off the site is ignored.
    let r = bob
        .post(
            &format!("/posts/{id}/like"),
            &[("on", "1"), ("back", "//evil.example/")],
        )
        .await;
    assert_eq!(r.location(), "/");
    // Liking what one cannot see is not found.
    let private = alice
        .create_post(&[("body", "x"), ("visibility", "followers")])
        .await;
    let r = bob
        .post(&format!("/posts/{private}/like"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn editing_keeps_the_history_and_only_the_author_may_edit() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = alice.say("first version").await;
    let r = bob
        .post(&format!("/posts/{id}/edit"), &[("body", "hacked")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        bob.get(&format!("/@alice/{id}/edit")).await.status,
        StatusCode::FORBIDDEN
    );
    let r = alice
        .post(&format!("/posts/{id}/edit"), &[("body", "second version")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    alice
        .post(
            &format!("/posts/{id}/edit"),
            &[("body", "third version"), ("content_warning", "cw")],
        )
        .await;
    let page = app.anon().get(&post_path("alice", id)).await;
    page.assert_contains("third version");
    page.assert_contains(">edited</a>");
    page.assert_lacks("first version");
    let hist = app.anon().get(&format!("/@alice/{id}/history")).await;
    assert_eq!(hist.status, StatusCode::OK);
    let (a, b, c) = (
        hist.body.find("third version").unwrap(),
        hist.body.find("second version").unwrap(),
        hist.body.find("first version").unwrap(),
    );
    assert!(a < b && b < c, "newest first");
    let r = alice
        .post(&format!("/posts/{id}/edit"), &[("body", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("Write something");
    app.anon()
        .get(&post_path("alice", id))
        .await
        .assert_contains("third version");
    assert!(bob.get(&format!("/@bob/{id}")).await.status == StatusCode::FOUND);
}

#[actix_web::test]
async fn deleting_is_for_the_author_and_keeps_replies_under_a_note() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = alice.say("to be deleted").await;
    let reply = bob.reply(id, "a reply that stays").await;
    let r = bob.post(&format!("/posts/{id}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        bob.get(&format!("/posts/{id}/delete")).await.status,
        StatusCode::FORBIDDEN
    );
    alice
        .get(&format!("/posts/{id}/delete"))
        .await
        .assert_contains("Delete this post?");
    let r = alice.post(&format!("/posts/{id}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.anon().get(&post_path("bob", reply)).await;
    page.assert_contains("This post was deleted");
    page.assert_contains("a reply that stays");
    page.assert_lacks("to be deleted");
    app.anon()
        .get("/public")
        .await
        .assert_lacks("to be deleted");
    let r = alice.post(&format!("/posts/{id}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "deleting twice");
}

#[actix_web::test]
async fn reply_controls_hold_for_the_whole_conversation() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let dave = app.signup("dave").await;
    alice.follow("bob").await;

    let root = alice
        .create_post(&[
            ("body", "people I follow only"),
            ("reply_policy", "following"),
        ])
        .await;
    let r = carol
        .post(
            "/posts",
            &[("body", "me too"), ("in_reply_to", &root.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_contains("Only people the author follows");
    r.assert_contains("me too");
    let page = carol.get(&post_path("alice", root)).await;
    page.assert_contains("Only people the author follows can reply");
    page.assert_lacks("id=\"reply-body\"");

    let bob_reply = bob.reply(root, "allowed").await;
    // Bob's own reply allows anyone, but the conversation's rule still holds.
    let r = carol
        .post(
            "/posts",
            &[("body", "via bob"), ("in_reply_to", &bob_reply.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    alice.reply(bob_reply, "the author can always reply").await;

    let m = alice
        .create_post(&[
            ("body", "only @dave may answer"),
            ("reply_policy", "mentioned"),
        ])
        .await;
    let r = bob
        .post("/posts", &[("body", "x"), ("in_reply_to", &m.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    dave.reply(m, "thanks for asking").await;
    let page = app.anon().get(&post_path("alice", m)).await;
    page.assert_contains("thanks for asking");
}

#[actix_web::test]
async fn the_author_can_hide_a_reply() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let root = alice.say("my post").await;
    let rude = bob.reply(root, "rude reply").await;
    let r = carol
        .post(&format!("/posts/{rude}/hide"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = bob
        .post(&format!("/posts/{root}/hide"), &[("on", "1")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only replies can be hidden"
    );
    let r = alice
        .post(&format!("/posts/{rude}/hide"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.anon().get(&post_path("alice", root)).await;
    let hidden = page.body.find("hidden-reply").expect("collapsed");
    let text = page.body.find("rude reply").expect("still reachable");
    assert!(hidden < text);
    alice
        .post(&format!("/posts/{rude}/hide"), &[("on", "0")])
        .await;
    app.anon()
        .get(&post_path("alice", root))
        .await
        .assert_lacks("hidden-reply\"");
}

#[actix_web::test]
async fn followers_only_and_mentioned_only_posts_stay_private() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let follower = app.signup("fran").await;
    let stranger = app.signup("sam").await;
    let mentioned = app.signup("mia").await;
    follower.follow("alice").await;
    let fo = alice
        .create_post(&[("body", "for followers #x"), ("visibility", "followers")])
        .await;
    let mo = alice
        .create_post(&[("body", "psst @mia #x"), ("visibility", "mentioned")])
        .await;
    let anon = app.anon();
    for who in [&anon, &stranger] {
        for path in ["/public", "/@alice", "/@alice?tab=replies", "/tags/x"] {
            let p = who.get(path).await;
            p.assert_lacks("for followers");
            p.assert_lacks("psst");
        }
        assert_eq!(
            who.get(&post_path("alice", fo)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            who.get(&post_path("alice", mo)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            who.get(&format!("/@alice/{fo}/history")).await.status,
            StatusCode::NOT_FOUND
        );
    }
    stranger.get("/").await.assert_lacks("for followers");
    follower.get("/").await.assert_contains("for followers");
    follower
        .get("/@alice")
        .await
        .assert_contains("for followers");
    assert_eq!(
        follower.get(&post_path("alice", fo)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        follower.get(&post_path("alice", mo)).await.status,
        StatusCode::NOT_FOUND
    );
    follower.get("/").await.assert_lacks("psst");
    assert_eq!(
        mentioned.get(&post_path("alice", mo)).await.status,
        StatusCode::OK
    );
    mentioned
        .get("/notifications")
        .await
        .assert_contains("psst");
    // A stranger's reply to a followers-only post is refused; a follower's works.
    let r = stranger
        .post(
            "/posts",
            &[("body", "hi"), ("in_reply_to", &fo.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    follower.reply(fo, "hello from a follower").await;
}

#[actix_web::test]
async fn htmx_replies_come_back_in_place_and_errors_keep_the_text() {
    let app = TestApp::with_config(|c| c.limits.post_chars = 30).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let root = alice.say("talk to me").await;
    let r = bob
        .post_htmx(
            "/posts",
            &[
                ("body", "in place reply"),
                ("in_reply_to", &root.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .starts_with("<section class=\"reply-box\" id=\"reply\""),
        "{}",
        r.body
    );
    r.assert_contains("in place reply");
    r.assert_lacks("<html");
    let long = "x".repeat(31);
    let r = bob
        .post_htmx(
            "/posts",
            &[("body", &long), ("in_reply_to", &root.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains(&long);
    r.assert_contains("at most 30 characters");
}

#[actix_web::test]
async fn removing_a_mention_in_an_edit_takes_away_access() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let mia = app.signup("mia").await;
    let id = alice
        .create_post(&[("body", "psst @mia"), ("visibility", "mentioned")])
        .await;
    assert_eq!(
        mia.get(&post_path("alice", id)).await.status,
        StatusCode::OK
    );
    let r = alice
        .post(&format!("/posts/{id}/edit"), &[("body", "never mind")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        mia.get(&post_path("alice", id)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = mia
        .post(
            "/posts",
            &[("body", "hm"), ("in_reply_to", &id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn a_private_quote_does_not_notify_an_author_who_cannot_see_it() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let id = alice.say("public words").await;
    bob.create_post(&[
        ("body", "between us"),
        ("quote_of", &id.to_string()),
        ("visibility", "followers"),
    ])
    .await;
    let home = alice.get("/").await;
    home.assert_lacks("unread\"");
    alice
        .get("/notifications")
        .await
        .assert_lacks("quoted your post");
    // Unliking works even after losing sight of a post.
    let private = alice
        .create_post(&[("body", "x"), ("visibility", "followers")])
        .await;
    bob.follow("alice").await;
    bob.post(&format!("/posts/{private}/like"), &[("on", "1")])
        .await;
    bob.post("/@alice/unfollow", &[]).await;
    let r = bob
        .post(&format!("/posts/{private}/like"), &[("on", "0")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    alice
        .get(&post_path("alice", private))
        .await
        .assert_lacks("<span class=\"count\">1</span>");
}
