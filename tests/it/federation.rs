//! Federation between real instances on loopback: WebFinger, actors, follows, posts, likes,
//! replies, edits, deletes and visibility crossing servers over real HTTP with real HTTP
//! signatures, and forged, tampered or replayed deliveries refused.

use std::future::Future;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde_json::{Value, json};
use weft::federation::signatures::Signer;

use crate::common::{TestApp, User};

/// An instance with federation on, reachable as `localhost:PORT` (not an IP literal, which
/// several fediverse libraries refuse).
pub async fn fed_app() -> TestApp {
    fed_app_with(|_| {}).await
}

/// [`fed_app`] with more settings changed.
pub async fn fed_app_with(f: fn(&mut weft::config::Config)) -> TestApp {
    TestApp::with_config(|c| {
        c.server.public_url = Some("http://localhost:0".into());
        c.federation.enabled = true;
        c.federation.allow_private_addresses = true;
        c.federation.request_timeout_secs = 3;
        // Retries come quickly in tests.
        c.jobs.backoff_secs = 1;
        f(c);
    })
    .await
}

pub fn host(app: &TestApp) -> String {
    format!("localhost:{}", app.addr.port())
}

pub fn actor_url(app: &TestApp, name: &str) -> String {
    format!("http://{}/users/{name}", host(app))
}

/// Polls until `f` is true (deliveries are asynchronous), failing after 15 s.
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn get_json(url: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(url)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Makes `user` on `from` find `name` on `to` through search, as a person would.
async fn look_up(user: &User, to: &TestApp, name: &str) -> String {
    let handle = format!("{name}@{}", host(to));
    let r = user.get(&format!("/search?q=%40{handle}")).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "looking up {handle}: {}",
        r.body
    );
    assert_eq!(r.location(), format!("/@{handle}"));
    handle
}

/// A remote person on a server that is gone (nothing listens on its port any more), known
/// here: (its host, its account, its actor id).
async fn ghost_on_a_dead_server(app: &TestApp) -> (String, weft::domain::AccountId, String) {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_host = format!("localhost:{}", dead.local_addr().unwrap().port());
    drop(dead);
    let uri = format!("http://{dead_host}/users/ghost");
    let (_, public) = weft::federation::make_keys().unwrap();
    let ghost = weft::service::federation::upsert_actor(
        &app.core,
        weft::service::federation::RemoteActor {
            uri: uri.clone(),
            handle: format!("ghost@{dead_host}"),
            domain: dead_host.clone(),
            inbox: format!("http://{dead_host}/inbox"),
            shared_inbox: None,
            followers_uri: None,
            url: None,
            key_id: format!("{uri}#main-key"),
            public_key: public,
            kind: "Person".into(),
            display_name: "Ghost".into(),
            bio: String::new(),
            fields: Vec::new(),
            locked: false,
            icon_url: None,
            image_url: None,
            published: None,
        },
    )
    .await
    .unwrap();
    (dead_host, ghost, uri)
}

/// `user` looks up `name` on `on` and follows them; waits for the Accept.
async fn follow_across(user: &User, on: &TestApp, name: &str) -> String {
    let handle = look_up(user, on, name).await;
    user.follow(&handle).await;
    eventually("the follow to be accepted", || async {
        user.get(&format!("/@{handle}"))
            .await
            .body
            .contains("Unfollow")
    })
    .await;
    handle
}

#[actix_web::test]
async fn discovery_webfinger_nodeinfo_and_actor_documents() {
    let app = fed_app().await;
    let alice = app.signup("alice").await;
    alice.say("hello fediverse").await;
    let h = host(&app);
    let (s, jrd) = get_json(&format!(
        "{}/.well-known/webfinger?resource=acct:alice@{h}",
        app.base
    ))
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(jrd["subject"], format!("acct:alice@{h}"));
    assert_eq!(jrd["links"][0]["href"], actor_url(&app, "alice"));
    let (s, _) = get_json(&format!(
        "{}/.well-known/webfinger?resource=acct:nobody@{h}",
        app.base
    ))
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get_json(&format!(
        "{}/.well-known/webfinger?resource=acct:alice@elsewhere.example",
        app.base
    ))
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, actor) = get_json(&actor_url(&app, "alice")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(actor["type"], "Person");
    assert_eq!(actor["preferredUsername"], "alice");
    assert_eq!(
        actor["inbox"],
        format!("{}/inbox", actor_url(&app, "alice"))
    );
    assert_eq!(
        actor["endpoints"]["sharedInbox"],
        format!("http://{h}/inbox")
    );
    assert!(
        actor["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    // The same person at the profile page's address, asked for as JSON.
    let (s, same) = get_json(&format!("{}/@alice", app.base)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(same["id"], actor["id"]);
    // ...and a browser still gets the page.
    app.anon()
        .get("/@alice")
        .await
        .assert_contains("hello fediverse");

    let (s, links) = get_json(&format!("{}/.well-known/nodeinfo", app.base)).await;
    assert_eq!(s, StatusCode::OK);
    let href = links["links"][1]["href"]
        .as_str()
        .unwrap()
        .replace(&h, &app.addr.to_string());
    let (s, info) = get_json(&href).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(info["software"]["name"], "weft");
    assert_eq!(info["usage"]["users"]["total"], 1);
    assert_eq!(info["usage"]["localPosts"], 1);

    // The post as a Note, public and addressed as Mastodon addresses public posts.
    let id = alice.newest_post_id().await;
    let (s, note) = get_json(&format!("{}/statuses/{id}", actor_url(&app, "alice"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(note["type"], "Note");
    assert_eq!(
        note["to"][0],
        "https://www.w3.org/ns/activitystreams#Public"
    );
    assert_eq!(
        note["cc"][0],
        format!("{}/followers", actor_url(&app, "alice"))
    );
    assert_eq!(note["content"], "<p>hello fediverse</p>");

    // Its public replies are listed in its replies collection.
    let reply = alice.reply(id, "answering myself").await;
    let (s, replies) = get_json(&format!(
        "{}/statuses/{id}/replies",
        actor_url(&app, "alice")
    ))
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        replies["first"]["items"][0],
        format!("{}/statuses/{reply}", actor_url(&app, "alice"))
    );
    // A followers-only post is not served to whoever asks.
    let private = alice
        .create_post(&[("body", "only friends"), ("visibility", "followers")])
        .await;
    let (s, _) = get_json(&format!("{}/statuses/{private}", actor_url(&app, "alice"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn without_federation_there_is_nothing_to_find() {
    let app = TestApp::spawn().await;
    app.signup("alice").await;
    let (s, _) = get_json(&format!(
        "{}/.well-known/webfinger?resource=acct:alice@{}",
        app.base, app.addr
    ))
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = reqwest::Client::new()
        .post(format!("{}/inbox", app.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn two_instances_follow_post_like_reply_edit_delete_and_unfollow() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;

    // bob finds alice by her handle and follows her; her server accepts at once.
    let alice_there = look_up(&bob, &a, "alice").await;
    let r = bob.follow(&alice_there).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    eventually("alice's server to accept bob", || async {
        bob.get(&format!("/@{alice_there}"))
            .await
            .body
            .contains("Unfollow")
    })
    .await;
    let bob_here = format!("bob@{}", host(&b));
    eventually("bob to appear as alice's follower", || async {
        a.anon()
            .get("/@alice/followers")
            .await
            .body
            .contains(&bob_here)
    })
    .await;
    alice.get("/notifications").await.assert_contains(&bob_here);

    // alice posts: it reaches bob's home feed, hashtags and all.
    let post = alice.say("Hello from A #weft").await;
    eventually("alice's post in bob's home feed", || async {
        bob.get("/").await.body.contains("Hello from A")
    })
    .await;
    let home = bob.get("/").await;
    home.assert_contains(&format!("href=\"/@{alice_there}\""));
    home.assert_contains("class=\"mention hashtag\"");
    let remote_id = *home.post_ids().first().unwrap();

    // bob likes it and replies: alice sees both on her server.
    let r = bob.post(&format!("/posts/{remote_id}/like"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    eventually("the like to reach alice", || async {
        alice.get("/notifications").await.body.contains("liked")
    })
    .await;
    let r = bob
        .post(&format!("/posts/{remote_id}/like"), &[("on", "0")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    eventually("the unlike to reach alice", || async {
        !alice.get("/notifications").await.body.contains("liked")
    })
    .await;
    bob.reply(remote_id, "Hi alice, from B").await;
    eventually("bob's reply in alice's thread", || async {
        a.anon()
            .get(&format!("/@alice/{post}"))
            .await
            .body
            .contains("Hi alice, from B")
    })
    .await;

    // alice edits: bob sees the new text; she deletes: it goes from bob's server.
    let r = alice
        .post(
            &format!("/posts/{post}/edit"),
            &[("body", "Hello from A, edited"), ("content_warning", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    eventually("the edit to reach bob", || async {
        bob.get("/").await.body.contains("Hello from A, edited")
    })
    .await;
    let r = alice.post(&format!("/posts/{post}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    eventually("the delete to reach bob", || async {
        !bob.get("/").await.body.contains("Hello from A")
    })
    .await;

    // bob unfollows: alice's server hears of it.
    let r = bob.post(&format!("/@{alice_there}/unfollow"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    eventually("the unfollow to reach alice", || async {
        !a.anon()
            .get("/@alice/followers")
            .await
            .body
            .contains(&bob_here)
    })
    .await;
}

#[actix_web::test]
async fn a_locked_account_accepts_one_and_rejects_another_across_servers() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let r = alice
        .post(
            "/settings/profile",
            &[("display_name", "Alice"), ("bio", ""), ("locked", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let bob = b.signup("bob").await;
    let carol = b.signup("carol").await;
    let alice_there = look_up(&bob, &a, "alice").await;
    look_up(&carol, &a, "alice").await;
    bob.follow(&alice_there).await;
    carol.follow(&alice_there).await;
    let bob_here = format!("bob@{}", host(&b));
    let carol_here = format!("carol@{}", host(&b));
    eventually("both requests to reach alice", || async {
        let r = alice.get("/follow_requests").await.body;
        r.contains(&bob_here) && r.contains(&carol_here)
    })
    .await;
    bob.get(&format!("/@{alice_there}"))
        .await
        .assert_contains("Cancel request");
    let r = alice
        .post(&format!("/follow_requests/{bob_here}/accept"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = alice
        .post(&format!("/follow_requests/{carol_here}/reject"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    eventually("the accept to reach bob", || async {
        bob.get(&format!("/@{alice_there}"))
            .await
            .body
            .contains("Unfollow")
    })
    .await;
    eventually("the reject to reach carol", || async {
        let p = carol.get(&format!("/@{alice_there}")).await.body;
        !p.contains("Cancel request") && !p.contains("Unfollow")
    })
    .await;
}

#[actix_web::test]
async fn a_followers_only_post_reaches_followers_only() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    let carol = b.signup("carol").await;
    let alice_there = look_up(&bob, &a, "alice").await;
    look_up(&carol, &a, "alice").await;
    bob.follow(&alice_there).await;
    eventually("bob to follow alice", || async {
        bob.get(&format!("/@{alice_there}"))
            .await
            .body
            .contains("Unfollow")
    })
    .await;
    alice
        .create_post(&[
            ("body", "for my followers only"),
            ("visibility", "followers"),
        ])
        .await;
    alice.say("for everyone").await;
    eventually("both posts to reach bob", || async {
        let h = bob.get("/").await.body;
        h.contains("for my followers only") && h.contains("for everyone")
    })
    .await;
    // carol (not a follower) and visitors on B see the public post only.
    let profile = carol.get(&format!("/@{alice_there}")).await;
    profile.assert_contains("for everyone");
    profile.assert_lacks("for my followers only");
    let anon = b.anon().get(&format!("/@{alice_there}")).await;
    anon.assert_lacks("for my followers only");
    b.anon()
        .get("/public")
        .await
        .assert_lacks("for my followers only");
}

/// A signed POST to an inbox, made by hand so that tests can break it.
pub struct Forged {
    url: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

impl Forged {
    pub fn signed(signer: &Signer, url: &str, body: &Value, now: SystemTime) -> Forged {
        let body = serde_json::to_vec(body).unwrap();
        let h = signer.sign_cavage("POST", url, Some(&body), now).unwrap();
        Forged {
            url: url.to_string(),
            body,
            headers: h
                .to_pairs()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }

    pub async fn send(self) -> StatusCode {
        let mut req = reqwest::Client::new()
            .post(&self.url)
            .header("Content-Type", "application/activity+json");
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        req.body(self.body).send().await.unwrap().status()
    }
}

pub async fn signer_of(app: &TestApp, name: &str) -> Signer {
    let acct = weft::service::accounts::find_by_username(&app.core, name)
        .await
        .unwrap();
    let (private, _) =
        weft::service::federation::account_key(&app.core, acct.id, weft::federation::make_keys)
            .await
            .unwrap();
    Signer::from_pem(&private, &format!("{}#main-key", actor_url(app, name))).unwrap()
}

#[actix_web::test]
async fn forged_tampered_and_replayed_deliveries_are_refused_and_nothing_is_stored() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let _bob = b.signup("bob").await;
    let _carol = b.signup("carol").await;
    let bob_key = signer_of(&b, "bob").await;
    let inbox = format!("http://{}/users/alice/inbox", host(&a));
    let bob = actor_url(&b, "bob");
    let note = |id: &str, actor: &str, text: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}/statuses/{id}/activity"),
            "type": "Create",
            "actor": actor,
            "object": {
                "id": format!("{actor}/statuses/{id}"),
                "type": "Note",
                "attributedTo": actor,
                "content": format!("<p>{text} <a href=\"{}\" class=\"u-url mention\">@alice</a></p>", actor_url(&a, "alice")),
                "to": [actor_url(&a, "alice")],
                "tag": [{"type": "Mention", "href": actor_url(&a, "alice"), "name": "@alice"}],
                "published": "2026-01-01T00:00:00Z",
            }
        })
    };
    let now = SystemTime::now();

    // Unsigned.
    let r = reqwest::Client::new()
        .post(&inbox)
        .header("Content-Type", "application/activity+json")
        .body(note("1", &bob, "unsigned").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Body changed after signing.
    let mut f = Forged::signed(&bob_key, &inbox, &note("2", &bob, "original"), now);
    f.body = serde_json::to_vec(&note("2", &bob, "tampered")).unwrap();
    assert_eq!(f.send().await, StatusCode::UNAUTHORIZED);
    // Signed with another key under bob's key id.
    let (other, _) = weft::federation::make_keys().unwrap();
    let wrong = Signer::from_pem(&other, &format!("{bob}#main-key")).unwrap();
    let f = Forged::signed(&wrong, &inbox, &note("3", &bob, "wrong key"), now);
    assert_eq!(f.send().await, StatusCode::UNAUTHORIZED);
    // A Date two hours old (a replayed request).
    let old = now - Duration::from_secs(2 * 3600);
    let f = Forged::signed(&bob_key, &inbox, &note("4", &bob, "replayed"), old);
    assert_eq!(f.send().await, StatusCode::UNAUTHORIZED);
    // bob signs an activity that claims to be carol's.
    let carol = actor_url(&b, "carol");
    let f = Forged::signed(&bob_key, &inbox, &note("5", &carol, "impostor"), now);
    assert_eq!(f.send().await, StatusCode::FORBIDDEN);
    // A genuine request made for another server, replayed here.
    let elsewhere = Forged::signed(
        &bob_key,
        "http://localhost:9/users/alice/inbox",
        &note("10", &bob, "replayed elsewhere"),
        now,
    );
    let f = Forged {
        url: inbox.clone(),
        ..elsewhere
    };
    assert_eq!(f.send().await, StatusCode::UNAUTHORIZED);
    // Too large.
    let mut big = note("6", &bob, "big");
    big["object"]["content"] = json!("x".repeat(300 * 1024));
    let f = Forged::signed(&bob_key, &inbox, &big, now);
    assert_eq!(f.send().await, StatusCode::PAYLOAD_TOO_LARGE);

    // The genuine one goes through, once, however often it is delivered.
    let genuine = note("7", &bob, "genuine");
    for _ in 0..2 {
        let f = Forged::signed(&bob_key, &inbox, &genuine, SystemTime::now());
        assert_eq!(f.send().await, StatusCode::ACCEPTED);
    }
    eventually("the genuine mention to reach alice", || async {
        alice.get("/notifications").await.body.contains("genuine")
    })
    .await;
    let n = alice.get("/notifications").await.body;
    for refused in [
        "unsigned",
        "tampered",
        "original",
        "wrong key",
        "replayed",
        "impostor",
        "big",
    ] {
        assert!(!n.contains(refused), "{refused} must not be stored");
    }
    assert_eq!(n.matches("genuine").count(), 1, "{n}");
    // RFC 9421 signatures (what newer servers try first) are checked too.
    let body = serde_json::to_vec(&note("8", &bob, "rfc nine four two one")).unwrap();
    let h = bob_key
        .sign_rfc9421("POST", &inbox, Some(&body), SystemTime::now())
        .unwrap();
    let f = Forged {
        url: inbox.clone(),
        body: body.clone(),
        headers: h
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    };
    assert_eq!(f.send().await, StatusCode::ACCEPTED);
    let mut f = Forged {
        url: inbox.clone(),
        body,
        headers: h
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    };
    f.body = serde_json::to_vec(&note("9", &bob, "rfc tampered")).unwrap();
    assert_eq!(f.send().await, StatusCode::UNAUTHORIZED);
    eventually("the RFC 9421 mention to reach alice", || async {
        alice
            .get("/notifications")
            .await
            .body
            .contains("rfc nine four two one")
    })
    .await;
    // An activity of a type weft does not act on is acknowledged, never a 500.
    let odd = json!({"@context": "https://www.w3.org/ns/activitystreams", "id": format!("{bob}#odd/1"),
                     "type": "Bite", "actor": bob, "object": actor_url(&a, "alice")});
    let f = Forged::signed(&bob_key, &inbox, &odd, SystemTime::now());
    assert_eq!(f.send().await, StatusCode::ACCEPTED);
}

#[actix_web::test]
async fn content_warnings_reposts_and_quotes_cross_servers() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    follow_across(&bob, &a, "alice").await;
    alice
        .create_post(&[
            ("body", "the ending of the film"),
            ("content_warning", "spoilers"),
        ])
        .await;
    eventually("the post behind its warning", || async {
        bob.get("/").await.body.contains("the ending of the film")
    })
    .await;
    let home = bob.get("/").await;
    home.assert_contains("spoilers");
    home.assert_contains("<details class=\"cw\"");
    let remote = *home.post_ids().first().unwrap();

    // bob reposts and quotes it; alice is told of both.
    let r = bob.post(&format!("/posts/{remote}/repost"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = bob
        .post(
            "/posts",
            &[("body", "worth a read"), ("quote_of", &remote.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let bob_here = format!("bob@{}", host(&b));
    eventually("the repost and the quote to reach alice", || async {
        let n = alice.get("/notifications").await.body;
        n.contains("reposted your post") && n.contains("quoted your post")
    })
    .await;
    // The quote shows alice's post inside it on her own server.
    let n = alice.get("/notifications").await.body;
    assert!(n.contains(&bob_here), "{n}");
    // Taking the repost back reaches her too.
    let r = bob
        .post(&format!("/posts/{remote}/repost"), &[("on", "0")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    eventually("the undone repost to reach alice", || async {
        !alice
            .get("/notifications")
            .await
            .body
            .contains("reposted your post")
    })
    .await;
}

#[actix_web::test]
async fn a_dead_server_is_retried_and_never_delays_the_others() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    follow_across(&bob, &a, "alice").await;
    // A follower on a server that is gone (nothing listens on its port any more).
    let (dead_host, ghost, uri) = ghost_on_a_dead_server(&a).await;
    weft::service::federation::remote_follow(&a.core, ghost, "alice".into(), format!("{uri}#f"))
        .await
        .unwrap();

    alice.say("delivered despite the dead one").await;
    eventually("the live server to get the post", || async {
        bob.get("/")
            .await
            .body
            .contains("delivered despite the dead one")
    })
    .await;
    // The dead server's failures are counted and shown to the admin, with a retry.
    eventually("the failures to show on the admin page", || async {
        let p = alice.get("/admin/federation").await.body;
        p.contains(&dead_host) && p.contains("Retry now")
    })
    .await;
    let p = alice.get("/admin/federation").await;
    p.assert_contains("Deliveries waiting");
    let r = alice
        .post("/admin/federation/retry", &[("domain", &dead_host)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Only admins see or change any of it.
    let mallory = a.signup("mallory").await;
    let r = mallory.get("/admin/federation").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = mallory
        .post("/admin/federation/retry", &[("domain", &dead_host)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn domain_blocks_silence_and_suspend_a_server() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let carol = a.signup("carol").await;
    let bob = b.signup("bob").await;
    let bob_there = look_up(&alice, &b, "bob").await;
    look_up(&carol, &b, "bob").await;
    alice.follow(&bob_there).await;
    eventually("alice to follow bob", || async {
        alice
            .get(&format!("/@{bob_there}"))
            .await
            .body
            .contains("Unfollow")
    })
    .await;

    // Silenced: bob's public posts reach his followers here and nobody else.
    let r = alice
        .post(
            "/admin/federation/block",
            &[("domain", &host(&b)), ("level", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    bob.say("a quiet public post").await;
    eventually("the post to reach alice", || async {
        alice.get("/").await.body.contains("a quiet public post")
    })
    .await;
    carol
        .get(&format!("/@{bob_there}"))
        .await
        .assert_lacks("a quiet public post");
    a.anon()
        .get("/public")
        .await
        .assert_lacks("a quiet public post");

    // Suspended: nothing more comes in.
    let r = alice
        .post(
            "/admin/federation/block",
            &[("domain", &host(&b)), ("level", "2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    alice
        .get("/admin/federation")
        .await
        .assert_contains("Suspended");
    bob.say("shouted into the void").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    alice.get("/").await.assert_lacks("shouted into the void");
    // A moderator is not an admin: blocks are for admins.
    let r = carol
        .post(
            "/admin/federation/block",
            &[("domain", "x.example"), ("level", "2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn secure_mode_serves_actors_only_to_signed_requests() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    let (s, _) = get_json(&actor_url(&a, "alice")).await;
    assert_eq!(s, StatusCode::OK);
    // The admin turns it on from /admin/federation (and it stays on after a restart).
    let r = alice.post("/admin/federation/secure", &[("on", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (s, _) = get_json(&actor_url(&a, "alice")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Another server's fetch is signed (by its instance actor), so it gets through.
    look_up(&bob, &a, "alice").await;
    let r = a
        .signup("mallory")
        .await
        .post("/admin/federation/secure", &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = alice.post("/admin/federation/secure", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (s, _) = get_json(&actor_url(&a, "alice")).await;
    assert_eq!(s, StatusCode::OK);
}

#[actix_web::test]
async fn a_remote_block_ends_follows_both_ways() {
    let a = fed_app().await;
    let b = fed_app().await;
    a.signup("alice").await;
    let bob = b.signup("bob").await;
    let alice_there = look_up(&bob, &a, "alice").await;
    bob.follow(&alice_there).await;
    let bob_here = format!("bob@{}", host(&b));
    eventually("bob to follow alice", || async {
        a.anon()
            .get("/@alice/followers")
            .await
            .body
            .contains(&bob_here)
    })
    .await;
    // bob's server tells alice's that bob blocked her (weft itself has no blocking yet, so
    // the activity is made by hand, signed with bob's key).
    let key = signer_of(&b, "bob").await;
    let bob_actor = actor_url(&b, "bob");
    let block = json!({"@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{bob_actor}#blocks/1"), "type": "Block",
        "actor": bob_actor, "object": actor_url(&a, "alice")});
    let f = Forged::signed(
        &key,
        &format!("http://{}/inbox", host(&a)),
        &block,
        SystemTime::now(),
    );
    assert_eq!(f.send().await, StatusCode::ACCEPTED);
    eventually("the follow to end", || async {
        !a.anon()
            .get("/@alice/followers")
            .await
            .body
            .contains(&bob_here)
    })
    .await;
    // The block holds on alice's server: bob cannot follow her again from his.
    bob.follow(&alice_there).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.anon()
        .get("/@alice/followers")
        .await
        .assert_lacks(&bob_here);

    // And the other way: alice blocks carol on B, whose server hears of it.
    let carol = b.signup("carol").await;
    let alice = a.signup("alice2").await;
    let carol_there = look_up(&alice, &b, "carol").await;
    alice.follow(&carol_there).await;
    eventually("alice2 to follow carol", || async {
        alice
            .get(&format!("/@{carol_there}"))
            .await
            .body
            .contains("Unfollow")
    })
    .await;
    let r = alice.post(&format!("/@{carol_there}/block"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let alice_here = format!("alice2@{}", host(&a));
    eventually("the Block to end the follow on B", || async {
        !b.anon()
            .get("/@carol/followers")
            .await
            .body
            .contains(&alice_here)
    })
    .await;
    let alice_on_b = look_up(&carol, &a, "alice2").await;
    assert_eq!(
        carol.follow(&alice_on_b).await.status,
        StatusCode::FORBIDDEN
    );
    // Unblocking is heard too.
    let r = alice.post(&format!("/@{carol_there}/unblock"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    eventually("the Undo(Block) to reach B", || async {
        carol.follow(&alice_on_b).await.status == StatusCode::SEE_OTHER
    })
    .await;
}

#[actix_web::test]
async fn looking_someone_up_shows_their_recent_public_posts_and_post_urls_resolve() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    let older = alice.say("an older public post").await;
    alice
        .create_post(&[("body", "not for strangers"), ("visibility", "followers")])
        .await;
    let alice_there = look_up(&bob, &a, "alice").await;
    eventually("her recent posts to be fetched", || async {
        bob.get(&format!("/@{alice_there}"))
            .await
            .body
            .contains("an older public post")
    })
    .await;
    let profile = bob.get(&format!("/@{alice_there}")).await;
    profile.assert_lacks("not for strangers");
    profile.assert_contains("on localhost:");
    // Pasting the address of a post from elsewhere opens it here.
    let url = format!("{}/statuses/{older}", actor_url(&a, "alice"));
    let r = bob
        .get(&format!(
            "/search?q={}",
            url.replace(':', "%3A").replace('/', "%2F")
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location().starts_with(&format!("/@{alice_there}/")),
        "{}",
        r.location()
    );
    let page = bob.get(&r.location()).await;
    page.assert_contains("an older public post");
    page.assert_contains("original");
    // Visitors cannot make the server fetch things.
    let r = b
        .anon()
        .get(&format!("/search?q=%40alice%40{}", host(&a)))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[actix_web::test]
async fn photos_cross_servers_with_their_descriptions_and_are_stored_here() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    follow_across(&bob, &a, "alice").await;
    // alice attaches a phone photo (EXIF with GPS) and describes it.
    let photo = weft::media::bench::synthetic_photo(800, 600, 6).unwrap();
    let r = alice
        .post_multipart(
            "/posts",
            &[("body", "A photo from A"), ("action", "attach")],
            &[("media", "IMG_1.jpg", photo, "image/jpeg")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id: String = r
        .body
        .split("name=\"media_id\" value=\"")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let alt = format!("alt_{id}");
    let r = alice
        .post_multipart(
            "/posts",
            &[
                ("body", "A photo from A"),
                ("media_id", &id),
                (&alt, "A test card, described"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    eventually("the photo to reach bob", || async {
        bob.get("/")
            .await
            .body
            .contains("alt=\"A test card, described\"")
    })
    .await;
    // B serves its own copy (fetched, re-encoded, thumbnailed), not A's address.
    let home = bob.get("/").await;
    let src = home
        .body
        .split("src=\"/media/")
        .nth(1)
        .map(|s| s.chars().take_while(|c| *c != '"').collect::<String>())
        .expect("a photo served by B");
    let (status, headers, bytes) = bob.get_bytes(&format!("/media/{src}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(
        !bytes.windows(6).any(|w| w == b"Exif\0\0"),
        "metadata must be gone"
    );
    home.assert_contains("media-grid n1");
}

#[actix_web::test]
async fn a_report_of_a_remote_post_reaches_its_server_without_the_reporter() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    follow_across(&bob, &a, "alice").await;
    alice.say("a post someone will report").await;
    eventually("the post to reach bob", || async {
        bob.get("/")
            .await
            .body
            .contains("a post someone will report")
    })
    .await;
    let remote = *bob.get("/").await.post_ids().first().unwrap();
    let form = bob.get(&format!("/posts/{remote}/report")).await;
    form.assert_contains(&format!("Also send this report to {}", host(&a)));
    let r = bob
        .post(
            &format!("/posts/{remote}/report"),
            &[("reason", "breaks the rules over there"), ("forward", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // B's moderators have it, marked as sent on; A's admin gets it from B's server.
    bob.get("/admin/reports")
        .await
        .assert_contains("sent on to their server");
    eventually("the Flag to reach alice's server", || async {
        alice
            .get("/admin/reports")
            .await
            .body
            .contains("breaks the rules over there")
    })
    .await;
    let q = alice.get("/admin/reports").await;
    q.assert_contains(&host(&b));
    q.assert_lacks("bob@");
}

/// What a fake peer answers at a path.
enum Reply {
    Json(Value),
    Redirect(&'static str),
}

/// A fake peer on `localhost:PORT` answering each path as given ("PORT" in a document
/// becomes its port); anything else is a 404.
async fn fake_peer(routes: Vec<(&'static str, Reply)>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let routes = std::sync::Arc::new(routes);
    let server = actix_web::HttpServer::new(move || {
        let routes = routes.clone();
        actix_web::App::new().default_service(actix_web::web::to(
            move |req: actix_web::HttpRequest| {
                let routes = routes.clone();
                async move {
                    match routes.iter().find(|(p, _)| *p == req.path()) {
                        Some((_, Reply::Json(d))) => actix_web::HttpResponse::Ok()
                            .content_type("application/activity+json")
                            .body(d.to_string().replace("PORT", &port.to_string())),
                        Some((_, Reply::Redirect(to))) => actix_web::HttpResponse::Found()
                            .insert_header(("Location", *to))
                            .finish(),
                        None => actix_web::HttpResponse::NotFound().finish(),
                    }
                }
            },
        ))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    port
}

/// A minimal actor document with id `id`, named `name`, padded with `pad` bytes of summary.
fn fake_actor(id: &str, name: &str, pem: &str, pad: usize) -> Reply {
    Reply::Json(
        json!({"id": id, "type": "Person", "preferredUsername": name,
        "summary": "x".repeat(pad), "inbox": format!("{id}/inbox"),
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": pem}}),
    )
}

/// `user` pastes the address of something on the fake peer into search.
async fn search_for(user: &User, port: u16, path: &str) -> crate::common::Resp {
    let q = format!("http://localhost:{port}{path}")
        .replace(':', "%3A")
        .replace('/', "%2F");
    user.get(&format!("/search?q={q}")).await
}

#[actix_web::test]
async fn a_document_must_be_served_at_its_own_id() {
    let a = fed_app().await;
    let alice = a.signup("alice").await;
    let (_, pem) = weft::federation::make_keys().unwrap();
    let actor = |id: &str| fake_actor(id, "mallory", &pem, 0);
    // /evil claims to be /users/bob on the same server, but /users/bob is someone else;
    // /other claims an id on another server altogether.
    let port = fake_peer(vec![
        ("/evil", actor("http://localhost:PORT/users/bob")),
        ("/users/bob", actor("http://localhost:PORT/users/robert")),
        ("/other", actor("http://elsewhere.example/users/bob")),
        ("/users/carol", actor("http://localhost:PORT/users/carol")),
    ])
    .await;
    for path in ["/evil", "/other"] {
        let r = search_for(&alice, port, path).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{path} must not resolve: {}",
            r.location()
        );
    }
    // A document that is where it says it is resolves.
    let r = search_for(&alice, port, "/users/carol").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/@mallory@localhost:{port}"));
}

#[actix_web::test]
async fn mentioning_someone_not_met_yet_reaches_them_and_collections_page() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    // alice has never looked bob up: the mention is resolved when the post goes out.
    alice
        .say(&format!("Hello @bob@{}, nice to meet you", host(&b)))
        .await;
    eventually("the mention to reach bob", || async {
        bob.get("/notifications")
            .await
            .body
            .contains("nice to meet you")
    })
    .await;
    // bob follows alice; her followers collection lists him, page by page.
    let alice_there = look_up(&bob, &a, "alice").await;
    bob.follow(&alice_there).await;
    let bob_actor = actor_url(&b, "bob");
    eventually("bob in alice's followers collection", || async {
        let (_, page) = get_json(&format!("{}/followers?page=true", actor_url(&a, "alice"))).await;
        page["orderedItems"]
            .as_array()
            .is_some_and(|i| i.iter().any(|x| x == &json!(bob_actor)))
    })
    .await;
    let (_, first) = get_json(&format!("{}/followers", actor_url(&a, "alice"))).await;
    assert_eq!(first["totalItems"], 1);
    assert_eq!(first["type"], "OrderedCollection");
}

#[actix_web::test]
async fn an_account_moves_to_another_server_with_its_followers() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let carol = a.signup("carol").await;
    let bob = b.signup("bob").await;
    let alice2 = b.signup("alice2").await;
    carol.follow("alice").await;
    let alice_there = follow_across(&bob, &a, "alice").await;
    let new_handle = format!("alice2@{}", host(&b));

    // Without her password, or without the alias on the new account, the move is refused
    // and the form kept.
    let r = alice
        .post(
            "/settings/migration/move",
            &[("target", &format!("@{new_handle}")), ("password", "wrong")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    r.assert_contains("That is not your password");
    let r = alice
        .post(
            "/settings/migration/move",
            &[
                ("target", &format!("@{new_handle}")),
                ("password", crate::common::PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    r.assert_contains("must first list this one as an alias");
    r.assert_contains(&format!("value=\"@{new_handle}\""));

    let r = alice2
        .post(
            "/settings/migration/aliases",
            &[("aliases", &format!("@{alice_there}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, doc) = get_json(&actor_url(&b, "alice2")).await;
    assert_eq!(doc["alsoKnownAs"][0], actor_url(&a, "alice"));
    let r = alice
        .post(
            "/settings/migration/move",
            &[
                ("target", &format!("@{new_handle}")),
                ("password", crate::common::PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Followers on both servers now follow the new account.
    eventually("carol (on A) to follow alice2 on B", || async {
        carol
            .get(&format!("/@{new_handle}"))
            .await
            .body
            .contains("Unfollow")
    })
    .await;
    eventually("bob (on B) to follow alice2", || async {
        bob.get("/@alice2").await.body.contains("Unfollow")
    })
    .await;
    a.anon()
        .get("/@alice")
        .await
        .assert_contains("This account has moved to");
    // Once moved, it cannot move again.
    let r = alice
        .post(
            "/settings/migration/move",
            &[
                ("target", &format!("@{new_handle}")),
                ("password", crate::common::PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, doc) = get_json(&actor_url(&a, "alice")).await;
    assert_eq!(doc["movedTo"], actor_url(&b, "alice2"));
}

#[actix_web::test]
async fn remote_people_show_with_their_pictures_and_as_bots_when_they_are() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    let photo = weft::media::bench::synthetic_photo(600, 600, 1).unwrap();
    let r = alice
        .post_multipart(
            "/settings/pictures",
            &[],
            &[("avatar", "me.jpg", photo, "image/jpeg")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = alice
        .post(
            "/settings/profile",
            &[("display_name", "Alice Bot"), ("bio", ""), ("bot", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, doc) = get_json(&actor_url(&a, "alice")).await;
    assert_eq!(doc["type"], "Service");
    assert!(doc["icon"]["url"].as_str().unwrap().contains("/media/"));
    a.anon().get("/@alice").await.assert_contains(">bot<");

    let alice_there = look_up(&bob, &a, "alice").await;
    bob.get(&format!("/@{alice_there}"))
        .await
        .assert_contains(">bot<");
    // Her avatar is fetched, processed and served by B itself.
    eventually("alice's avatar on B", || async {
        bob.get(&format!("/@{alice_there}"))
            .await
            .body
            .contains("<img")
    })
    .await;
    let page = bob.get(&format!("/@{alice_there}")).await;
    let src = page
        .body
        .split("src=\"/media/")
        .nth(1)
        .map(|s| s.chars().take_while(|c| *c != '"').collect::<String>())
        .expect("an avatar served by B");
    let (status, _, bytes) = bob.get_bytes(&format!("/media/{src}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (400, 400));
}

#[actix_web::test]
async fn pinned_posts_lead_the_profile_and_fill_the_featured_collection() {
    let app = fed_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let first = alice.say("my best post").await;
    let private = alice
        .create_post(&[("body", "a pinned secret"), ("visibility", "followers")])
        .await;
    for _ in 0..3 {
        alice.say("later chatter").await;
    }
    for p in [first, private] {
        let r = alice.post(&format!("/posts/{p}/pin"), &[("on", "1")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let page = app.anon().get("/@alice").await;
    let pinned_at = page.body.find("Pinned").expect("a pinned section");
    let chatter_at = page.body.find("later chatter").unwrap();
    assert!(pinned_at < chatter_at);
    page.assert_lacks("a pinned secret"); // visitors still cannot see it
    // Only her own posts, and at most limits.pinned_posts (5).
    let bobs = bob.say("bob's").await;
    let r = alice
        .post(&format!("/posts/{bobs}/pin"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for _ in 0..3 {
        let p = alice.say("another").await;
        alice.post(&format!("/posts/{p}/pin"), &[("on", "1")]).await;
    }
    let extra = alice.say("one too many").await;
    let r = alice
        .post(&format!("/posts/{extra}/pin"), &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("at most 5");

    let (_, featured) = get_json(&format!(
        "{}/collections/featured",
        actor_url(&app, "alice")
    ))
    .await;
    let ids: Vec<String> = featured["orderedItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&format!("{}/statuses/{first}", actor_url(&app, "alice"))));
    assert!(!ids.iter().any(|i| i.ends_with(&private.to_string())));
    let r = alice
        .post(&format!("/posts/{first}/pin"), &[("on", "0")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (_, featured) = get_json(&format!(
        "{}/collections/featured",
        actor_url(&app, "alice")
    ))
    .await;
    assert!(
        !featured
            .to_string()
            .contains(&format!("statuses/{first}\""))
    );
}

#[actix_web::test]
async fn a_deleted_account_goes_here_and_on_the_servers_that_knew_it() {
    let a = fed_app().await;
    let b = fed_app().await;
    let alice = a.signup("alice").await;
    let bob = b.signup("bob").await;
    let alice_there = follow_across(&bob, &a, "alice").await;
    alice.say("soon to be gone").await;
    eventually("the post to reach bob", || async {
        bob.get("/").await.body.contains("soon to be gone")
    })
    .await;

    let r = alice
        .post("/settings/delete", &[("password", "not my password")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("That is not your password");
    let r = alice
        .post("/settings/delete", &[("password", crate::common::PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Gone here: no login, no profile, no posts.
    let (_, login) = a.login("alice", crate::common::PASSWORD).await;
    assert_ne!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(a.anon().get("/@alice").await.status, StatusCode::NOT_FOUND);
    a.anon()
        .get("/public")
        .await
        .assert_lacks("soon to be gone");
    let (s, _) = get_json(&actor_url(&a, "alice")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // ...and on B, which was told.
    eventually("the Delete to reach B", || async {
        !bob.get("/").await.body.contains("soon to be gone")
    })
    .await;
    assert_eq!(
        bob.get(&format!("/@{alice_there}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn fetches_follow_few_redirects_and_read_little() {
    let a = fed_app_with(|c| {
        c.federation.max_redirects = 2;
        c.federation.fetch_bytes = 20_000;
    })
    .await;
    let alice = a.signup("alice").await;
    let (_, pem) = weft::federation::make_keys().unwrap();
    let port = fake_peer(vec![
        (
            "/r/0",
            fake_actor("http://localhost:PORT/r/0", "far", &pem, 0),
        ),
        ("/r/1", Reply::Redirect("/r/0")),
        ("/r/2", Reply::Redirect("/r/1")),
        ("/r/3", Reply::Redirect("/r/2")),
        (
            "/big",
            fake_actor("http://localhost:PORT/big", "big", &pem, 50_000),
        ),
    ])
    .await;
    // Two redirects (federation.max_redirects) are followed; three are not.
    let r = search_for(&alice, port, "/r/2").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("/@far@localhost:{port}"));
    assert_eq!(
        search_for(&alice, port, "/r/3").await.status,
        StatusCode::OK
    );
    // A document over federation.fetch_bytes is not read.
    assert_eq!(
        search_for(&alice, port, "/big").await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_server_failing_for_too_long_is_skipped_until_heard_from() {
    let a = fed_app_with(|c| {
        c.federation.unavailable_after_hours = 0;
    })
    .await;
    let alice = a.signup("alice").await;
    let (_, ghost, uri) = ghost_on_a_dead_server(&a).await;
    weft::service::federation::remote_follow(&a.core, ghost, "alice".into(), format!("{uri}#f"))
        .await
        .unwrap();
    // The first failures start the clock; with federation.unavailable_after_hours = 0 the
    // next delivery is not even tried, and the admin sees why.
    alice.say("first").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    alice.say("second").await;
    eventually("a delivery set aside as unavailable", || async {
        alice
            .get("/admin")
            .await
            .body
            .contains("skipped until it is heard from")
    })
    .await;
}
