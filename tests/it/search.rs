//! Search, hashtags, trends and autocompletion on the real server with a real Tantivy index in
//! the temp data directory. Index updates are jobs; `settle` waits until they have run and the
//! index has committed them (what a person sees within about a second).

use reqwest::StatusCode;

use crate::common::{Resp, TestApp, User};

async fn settle(app: &TestApp) {
    weft::service::search::settle(&app.core).await.unwrap();
}

fn enc(q: &str) -> String {
    serde_urlencoded::to_string([("q", q)]).unwrap()
}

async fn search(u: &User, q: &str) -> Resp {
    let r = u.get(&format!("/search?{}", enc(q))).await;
    assert_eq!(r.status, StatusCode::OK, "search {q:?}: {}", r.body);
    r
}

/// The composer's suggestions for `q` (already URL-encoded), as JSON.
async fn suggest(u: &User, q: &str) -> serde_json::Value {
    let r = u.get(&format!("/search/suggest?q={q}")).await;
    assert_eq!(r.status, StatusCode::OK);
    serde_json::from_str(&r.body).unwrap()
}

async fn found(u: &User, q: &str) -> Vec<i64> {
    search(u, q).await.post_ids()
}

#[actix_web::test]
async fn words_phrases_exclusions_authors_tags_and_dates_find_the_right_posts() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let cafe = alice.say("Café au lait at the corner #Morning").await;
    let green = alice.say("green tea is calming").await;
    let reversed = bob.say("tea that is green, oddly").await;
    let reply = bob.reply(green, "I prefer green tea too").await;
    settle(&app).await;
    let anon = app.anon();

    // Case and accents fold: "cafe" finds "Café"; the match is highlighted.
    let r = search(&anon, "cafe").await;
    assert_eq!(r.post_ids(), vec![cafe]);
    r.assert_contains("<mark>Café</mark>");

    let mut tea = found(&anon, "tea").await;
    tea.sort();
    let mut all_tea = vec![green, reversed, reply];
    all_tea.sort();
    assert_eq!(tea, all_tea);
    // Newest first by default.
    assert_eq!(found(&anon, "tea").await, vec![reply, reversed, green]);

    let mut phrase = found(&anon, "\"green tea\"").await;
    phrase.sort();
    assert_eq!(phrase, vec![green, reply]);
    assert_eq!(found(&anon, "tea -green").await, Vec::<i64>::new());
    assert_eq!(found(&anon, "tea -calming -prefer").await, vec![reversed]);
    assert_eq!(found(&anon, "tea from:bob").await, vec![reply, reversed]);
    assert_eq!(found(&anon, "#morning").await, vec![cafe]);
    assert_eq!(found(&anon, "tea is:reply").await, vec![reply]);
    assert_eq!(found(&anon, "tea -is:reply from:alice").await, vec![green]);
    assert_eq!(found(&anon, "tea after:2020-01-01").await.len(), 3);
    assert_eq!(found(&anon, "tea before:2020-01-01").await.len(), 0);
    // Most relevant first: the post that says "green tea" twice... any order, same set.
    let r = anon
        .get(&format!("/search?{}&order=relevant", enc("green tea")))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut rel = r.post_ids();
    rel.sort();
    assert_eq!(rel, all_tea);
}

#[actix_web::test]
async fn results_page_by_keyset_with_load_more() {
    let app = TestApp::with_config(|c| c.limits.page_size = 3).await;
    let alice = app.signup("alice").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(alice.say(&format!("pagination word number {i}")).await);
    }
    settle(&app).await;
    ids.reverse();
    let anon = app.anon();
    let mut seen = Vec::new();
    let mut path = format!("/search?{}", enc("pagination"));
    loop {
        let r = anon.get(&path).await;
        seen.extend(r.post_ids());
        let Some(i) = r.body.find("cursor=") else {
            break;
        };
        let cursor: String = r.body[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        path = format!("/search?{}&cursor={cursor}", enc("pagination"));
        assert!(seen.len() <= 7, "paging does not end");
    }
    assert_eq!(seen, ids);
}

#[actix_web::test]
async fn private_posts_never_reach_strangers_through_search_tags_trends_or_suggestions() {
    let app = TestApp::spawn().await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let dave = app.signup("dave").await;
    let mia = app.signup("mia").await;
    carol.follow("bob").await;
    let secret = bob
        .create_post(&[
            ("body", "hushword for followers #hushtag"),
            ("visibility", "followers"),
        ])
        .await;
    let dm = bob
        .create_post(&[
            ("body", "whisperword for @mia #hushtag"),
            ("visibility", "mentioned"),
        ])
        .await;
    // Make the private post look like it is trending: many people "engage".
    carol.post(&format!("/posts/{secret}/like"), &[]).await;
    settle(&app).await;
    let anon = app.anon();

    assert_eq!(found(&carol, "hushword").await, vec![secret]);
    assert_eq!(found(&bob, "hushword").await, vec![secret]);
    for who in [&dave, &anon, &mia] {
        assert!(found(who, "hushword").await.is_empty());
        assert!(
            found(who, "#hushtag from:bob")
                .await
                .iter()
                .all(|&id| id != secret)
        );
    }
    assert_eq!(found(&mia, "whisperword").await, vec![dm]);
    for who in [&dave, &anon, &carol] {
        assert!(found(who, "whisperword").await.is_empty());
    }
    for who in [&dave, &anon, &carol, &mia, &bob] {
        // A tag used only privately is not a public hashtag anywhere.
        let tags = who.get("/search?q=hush&type=tags").await;
        tags.assert_lacks("#hushtag");
        let s = who.get("/search/suggest?q=%23hush").await;
        assert_eq!(s.status, StatusCode::OK);
        assert!(!s.body.contains("hushtag"), "{}", s.body);
        let explore = who.get("/explore").await;
        explore.assert_lacks("hushtag");
        explore.assert_lacks("hushword");
    }
    let tag_page = dave.get("/tags/hushtag").await;
    assert!(tag_page.post_ids().is_empty());
    tag_page.assert_contains("0 posts");
}

#[actix_web::test]
async fn people_who_opt_out_leave_search_at_once_and_come_back_when_they_opt_in() {
    let app = TestApp::spawn().await;
    let erin = app.signup("erin").await;
    erin.post(
        "/settings/profile",
        &[("display_name", "Erin Quux"), ("bio", "glassblower")],
    )
    .await;
    let p = erin.say("zanzibar lighthouse #erinsparty").await;
    settle(&app).await;
    let anon = app.anon();
    anon.get("/search?q=erinsp&type=tags")
        .await
        .assert_contains("#erinsparty");
    assert_eq!(found(&anon, "zanzibar").await, vec![p]);
    anon.get("/search?q=glassblower&type=people")
        .await
        .assert_contains("@erin");

    let r = erin.post("/settings/search", &[("opt_out", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A hashtag only she used is not suggested any more either.
    let tags = anon.get("/search?q=erinsp&type=tags").await;
    assert_eq!(tags.status, StatusCode::OK);
    tags.assert_lacks("#erinsparty");
    let s = suggest(&anon, "%23erinsp").await;
    assert_eq!(s["tags"].as_array().unwrap().len(), 0, "{s}");
    // At once: results are checked against the database, before the index job has run.
    assert!(found(&anon, "zanzibar").await.is_empty());
    anon.get("/search?q=erin&type=people")
        .await
        .assert_lacks("@erin");
    erin.get("/settings/search")
        .await
        .assert_contains("checked");
    settle(&app).await;
    assert!(found(&anon, "zanzibar").await.is_empty());
    assert!(
        app.anon()
            .get("/search/suggest?q=%40eri")
            .await
            .body
            .find("erin")
            .is_none()
    );
    // The post itself stays public on the profile.
    assert!(anon.get("/@erin").await.post_ids().contains(&p));

    erin.post("/settings/search", &[]).await;
    settle(&app).await;
    assert_eq!(found(&anon, "zanzibar").await, vec![p]);
    anon.get("/search?q=Quux&type=people")
        .await
        .assert_contains("@erin");
}

#[actix_web::test]
async fn edits_and_deletes_reach_search_results() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let p = alice.say("first version mentions walrus").await;
    settle(&app).await;
    let anon = app.anon();
    assert_eq!(found(&anon, "walrus").await, vec![p]);

    alice
        .post(
            &format!("/posts/{p}/edit"),
            &[("body", "second version mentions narwhal")],
        )
        .await;
    settle(&app).await;
    assert!(found(&anon, "walrus").await.is_empty());
    assert_eq!(found(&anon, "narwhal").await, vec![p]);

    alice.post(&format!("/posts/{p}/delete"), &[]).await;
    // Gone at once (the database decides), and from the index once the job ran.
    assert!(found(&anon, "narwhal").await.is_empty());
    settle(&app).await;
    assert!(found(&anon, "narwhal").await.is_empty());
    assert_eq!(app.core.search.stats().unwrap().posts, 0);
}

#[actix_web::test]
async fn a_rebuilt_index_gives_the_same_results() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    bob.follow("alice").await;
    for i in 0..30 {
        let who = if i % 3 == 0 { &bob } else { &alice };
        let vis = if i % 5 == 0 { "followers" } else { "public" };
        who.create_post(&[
            (
                "body",
                &format!("rebuild sample {i} #topic{} word{}", i % 4, i % 7),
            ),
            ("visibility", vis),
        ])
        .await;
    }
    let gone = alice.say("rebuild sample to delete").await;
    alice.post(&format!("/posts/{gone}/delete"), &[]).await;
    settle(&app).await;
    let queries = [
        "rebuild",
        "sample word3",
        "#topic1",
        "rebuild -word2 from:alice",
        "\"sample 1\"",
    ];
    let before: Vec<(Vec<i64>, Vec<i64>)> = {
        let mut v = Vec::new();
        for q in queries {
            v.push((found(&app.anon(), q).await, found(&bob, q).await));
        }
        v
    };
    assert_eq!(before[0].0.len(), 20, "public posts only");
    assert_eq!(before[0].1.len(), 20, "the page is full");

    let r = alice.post("/admin/search/rebuild", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for _ in 0..500 {
        if !app.core.search.is_rebuilding() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!app.core.search.is_rebuilding());
    for (i, q) in queries.iter().enumerate() {
        assert_eq!(found(&app.anon(), q).await, before[i].0, "{q}");
        assert_eq!(found(&bob, q).await, before[i].1, "{q}");
    }
    assert_eq!(app.core.search.stats().unwrap().posts, 30);
    alice
        .get("/admin/search")
        .await
        .assert_contains("Posts indexed");
}

#[actix_web::test]
async fn trends_count_distinct_people_so_one_spammer_does_not_trend() {
    let app = TestApp::spawn().await;
    let admin = app.signup("admin").await;
    let spammer = app.signup("spammer").await;
    let mut people = Vec::new();
    for name in ["ann", "ben", "cy"] {
        people.push(app.signup(name).await);
    }
    for i in 0..25 {
        spammer.say(&format!("buy now #spamtag {i}")).await;
    }
    for (i, p) in people.iter().enumerate() {
        p.say(&format!("the eclipse tonight #eclipse {i}")).await;
    }
    let popular = people[0].say("look at this photo of the moon").await;
    for p in &people[1..] {
        p.post(&format!("/posts/{popular}/like"), &[]).await;
    }
    spammer.post(&format!("/posts/{popular}/repost"), &[]).await;
    // A post liked by its own author only does not trend.
    let lonely = spammer.say("like me").await;
    spammer.post(&format!("/posts/{lonely}/like"), &[]).await;

    let anon = app.anon();
    let explore = anon.get("/explore").await;
    assert_eq!(explore.status, StatusCode::OK);
    let tags_section = section(&explore.body, "trending-tags");
    assert!(tags_section.contains("#eclipse"), "{tags_section}");
    assert!(
        tags_section.contains("3 people, 3 posts today"),
        "{tags_section}"
    );
    assert!(!tags_section.contains("spamtag"), "{tags_section}");
    let posts_section = section(&explore.body, "trending-posts");
    assert!(posts_section.contains(&format!("id=\"p-{popular}\"")));
    assert!(
        posts_section.contains("3 people liked, reposted"),
        "{posts_section}"
    );
    assert!(!posts_section.contains(&format!("id=\"p-{lonely}\"")));

    // Only staff can hide; hiding takes effect at once.
    let r = people[0].post("/admin/trends/tags/eclipse/hide", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = people[0]
        .post(&format!("/admin/trends/posts/{popular}/hide"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(section(&anon.get("/explore").await.body, "trending-tags").contains("#eclipse"));
    admin
        .get("/explore")
        .await
        .assert_contains("Hide from trends");
    let r = admin.post("/admin/trends/tags/eclipse/hide", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    admin
        .post(&format!("/admin/trends/posts/{popular}/hide"), &[])
        .await;
    let explore = anon.get("/explore").await;
    assert!(!section(&explore.body, "trending-tags").contains("#eclipse"));
    assert!(!section(&explore.body, "trending-posts").contains(&format!("id=\"p-{popular}\"")));
    admin.get("/admin/search").await.assert_contains("#eclipse");
    admin.post("/admin/trends/tags/eclipse/unhide", &[]).await;
    assert!(section(&anon.get("/explore").await.body, "trending-tags").contains("#eclipse"));
}

/// The HTML of the element with this id, up to the next section.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &body[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}

#[actix_web::test]
async fn malformed_queries_are_answered_calmly() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    alice.say("an ordinary post about kites").await;
    settle(&app).await;
    let long = "kites ".repeat(2000);
    let queries = [
        "\"unbalanced quote kites",
        "kites\"",
        "\"\"\"",
        "-",
        "--kites",
        "from:",
        "#",
        "before:2026-13-45 kites",
        "after:yesterday",
        "has: is: lang:",
        "\u{0}\u{1}\u{7f} kites \u{1b}[31m",
        "🪁🪁 kites 風箏",
        "(kites OR AND NOT) ^2 ~ * ? [ ] { } \\",
        &long,
    ];
    for q in queries {
        for kind in ["posts", "people", "tags"] {
            let r = alice.get(&format!("/search?{}&type={kind}", enc(q))).await;
            assert_eq!(r.status, StatusCode::OK, "{q:?} ({kind}): {}", r.body);
        }
        let r = alice.get(&format!("/search/suggest?{}", enc(q))).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // A malformed query degrades to plain words.
    assert_eq!(found(&alice, "\"unbalanced quote kites").await.len(), 0);
    assert_eq!(found(&alice, "kites\"").await.len(), 1);
    assert_eq!(found(&alice, &long).await.len(), 1);
    // A broken cursor or order is ignored, not an error.
    let r = alice.get("/search?q=kites&cursor=zzz&order=sideways").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.post_ids().len(), 1);
}

#[actix_web::test]
async fn people_and_hashtags_are_searched_with_counts_and_suggested_while_typing() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    alice
        .post(
            "/settings/profile",
            &[
                ("display_name", "Alice Liddell"),
                ("bio", "falls down rabbit holes"),
            ],
        )
        .await;
    let _alfred = app.signup("alfred").await;
    let bob = app.signup("bob").await;
    bob.say("#gardening today").await;
    bob.say("more #gardening").await;
    bob.say("#garlic is a vegetable").await;
    settle(&app).await;
    let anon = app.anon();

    let r = anon.get("/search?q=liddell&type=people").await;
    r.assert_contains("@alice");
    r.assert_lacks("@alfred");
    let r = anon.get("/search?q=rabbit&type=people").await;
    r.assert_contains("@alice");
    let r = anon.get("/search?q=al&type=people").await;
    r.assert_contains("@alice");
    r.assert_contains("@alfred");
    r.assert_lacks("@bob");

    let r = anon.get("/search?q=%23gar&type=tags").await;
    r.assert_contains("#gardening");
    r.assert_contains("2 posts");
    r.assert_contains("#garlic");

    let s = suggest(&anon, "%40ali").await;
    assert_eq!(s["accounts"][0]["username"], "alice");
    assert_eq!(s["accounts"][0]["display_name"], "Alice Liddell");
    let s = suggest(&anon, "%23gard").await;
    assert_eq!(s["tags"][0]["name"], "gardening");
    assert_eq!(s["tags"][0]["posts"], 2);
    let s = suggest(&anon, "plain").await;
    assert_eq!(s["accounts"].as_array().unwrap().len(), 0);
    assert_eq!(s["tags"].as_array().unwrap().len(), 0);

    // Deleting a post takes its tag use with it.
    let garlic = bob.newest_post_id().await;
    bob.post(&format!("/posts/{garlic}/delete"), &[]).await;
    anon.get("/search?q=%23gar&type=tags")
        .await
        .assert_lacks("#garlic");
}

#[actix_web::test]
async fn a_followed_hashtag_brings_its_public_posts_to_the_home_feed() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice").await;
    let stranger = app.signup("stranger").await;
    // Before following, and before alice's home feed exists.
    let early = stranger.say("first light #astro").await;
    let r = alice.post("/tags/astro/follow", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    alice
        .get("/tags/astro")
        .await
        .assert_contains("Unfollow hashtag");
    alice
        .get("/settings/search")
        .await
        .assert_contains("#astro");
    let home = alice.get("/").await.post_ids();
    assert_eq!(home, vec![early]);
    // Let the bounded home feed be built, then a new tagged post fans out into it.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let later = stranger.say("the moon tonight #Astro").await;
    let private = stranger
        .create_post(&[("body", "not for you #astro"), ("visibility", "followers")])
        .await;
    let reply = stranger.reply(later, "replying #astro").await;
    let untagged = stranger.say("no tag here").await;
    settle(&app).await;
    for _ in 0..100 {
        if alice.get("/").await.post_ids().contains(&later) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let home = alice.get("/").await.post_ids();
    assert_eq!(home, vec![later, early]);
    for id in [private, reply, untagged] {
        assert!(!home.contains(&id));
    }
    let alice_id = app
        .core
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT id FROM accounts WHERE username = 'alice'",
                [],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .await
        .unwrap();
    let pull =
        weft::service::home::page_by_pull(&app.core, weft::domain::AccountId(alice_id), None)
            .await
            .unwrap();
    let pulled: Vec<i64> = pull.items.iter().map(|i| i.post.id.0).collect();
    assert_eq!(pulled, home, "the bounded feed matches the pull query");

    // htmx gets the new button in place; unfollowing takes the posts away again.
    let r = alice.post_htmx("/tags/astro/unfollow", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    r.assert_contains("Follow hashtag");
    assert!(alice.get("/").await.post_ids().is_empty());
    let r = app.anon().post("/tags/astro/follow", &[]).await;
    assert_ne!(r.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn a_missing_or_unreadable_index_is_rebuilt_in_the_background_on_start() {
    for damage in ["missing", "garbage manifest"] {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::common::test_config(dir.path());
        {
            // Accounts and posts written by the tools (a seed), with no index at all.
            let core = weft::service::Core::open_offline(config.clone()).unwrap();
            weft::service::seed::run(
                &core,
                &weft::service::seed::SeedOptions {
                    users: 30,
                    posts: 400,
                    follows: 5,
                    graph: weft::service::seed::Graph::Uniform,
                    seed: 7,
                    heavy_users: 0,
                    heavy_follows: 0,
                },
                &|_: &str, _: u64, _: u64| {},
            )
            .unwrap();
            core.close();
        }
        if damage == "garbage manifest" {
            let search = dir.path().join("search");
            std::fs::create_dir_all(&search).unwrap();
            std::fs::write(search.join("MANIFEST"), "not an index\u{0}\u{1}").unwrap();
        }
        let app = TestApp::start(dir, config);
        for _ in 0..500 {
            let s = app.core.search.stats().unwrap();
            if s.posts > 0 && !app.core.search.is_rebuilding() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let s = app.core.search.stats().unwrap();
        assert!(s.posts > 300, "{damage}: {s:?}");
        assert!(s.people >= 30, "{damage}: {s:?}");
        let r = app.anon().get("/search?q=user1&type=people").await;
        r.assert_contains("@user1");
    }
}

#[actix_web::test]
async fn an_account_follows_at_most_the_configured_number_of_hashtags() {
    let app = TestApp::with_config(|c| c.search.followed_tags_max = 2).await;
    let alice = app.signup("alice").await;
    for t in ["one", "two"] {
        let r = alice.post(&format!("/tags/{t}/follow"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    // Following one already followed again is fine; a third is refused with what to do.
    let r = alice.post("/tags/two/follow", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = alice.post("/tags/three/follow", &[]).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    r.assert_contains("at most 2 hashtags");
    alice.post("/tags/one/unfollow", &[]).await;
    let r = alice.post("/tags/three/follow", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}
