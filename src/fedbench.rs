//! `weft bench federation`: two measurements on loopback, with real instances, real HTTP and
//! real signatures.
//!
//! - Inbound: a second instance's person signs N distinct Create(Note) activities (made
//!   before the clock starts) that are POSTed to the first instance's inbox by C concurrent
//!   connections. Reported: accepted per second (verify + parse + dedupe + durable store,
//!   up to the 202) and processed per second (until every post is stored and visible).
//! - Delivery: one post to followers on `inboxes` loopback servers, each its own host:port
//!   (so its own "server"): most answer after `latency_ms`, `failing_pct` answer 503 at once
//!   and `hanging_pct` never answer within the request timeout. Reported: the time until
//!   every healthy inbox has the post.
//!
//! The load generator and the peers share the machine's cores with the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

use crate::config::Config;
use crate::domain::{Role, Visibility};
use crate::federation::signatures::Signer;
use crate::service::{Core, accounts, federation as fed_service, posts};

pub struct Options {
    pub activities: usize,
    pub concurrency: usize,
    pub inboxes: usize,
    pub latency_ms: u64,
    pub failing_pct: usize,
    pub hanging_pct: usize,
}

/// A request body and the signature headers to send with it.
type Signed = (Vec<u8>, Vec<(&'static str, String)>);

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.server.bind = "127.0.0.1:0".into();
    c.server.public_url = Some("http://localhost:0".into());
    c.server.data_dir = dir.to_path_buf();
    c.federation.enabled = true;
    c.federation.allow_private_addresses = true;
    c.rate_limits.posts_per_account = u32::MAX;
    c
}

/// A running instance; `stop` ends it (before its data directory goes).
struct Instance {
    core: Core,
    handle: actix_web::dev::ServerHandle,
    done: tokio::task::JoinHandle<()>,
}

impl Instance {
    async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.done.await;
    }
}

async fn start(dir: &std::path::Path, tweak: impl FnOnce(&mut Config)) -> anyhow::Result<Instance> {
    let mut c = config(dir);
    tweak(&mut c);
    let running = crate::app::start(c)?;
    let core = running.core.clone();
    let handle = running.handle.clone();
    let done = actix_web::rt::spawn(async move {
        let _ = running.run().await;
    });
    Ok(Instance { core, handle, done })
}

async fn person(core: &Core, name: &str) -> anyhow::Result<accounts::Viewer> {
    accounts::create_user(core, name, "bench password 123", None, Role::User)
        .await
        .map_err(|e| anyhow::anyhow!("creating {name}: {e}"))?;
    let account = accounts::find_by_username(core, name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(accounts::Viewer {
        account,
        session_hash: Vec::new(),
        csrf: String::new(),
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub async fn run(o: &Options) -> anyhow::Result<String> {
    crate::federation::client::install_crypto();
    let mut out = String::new();
    out.push_str(&inbound(o).await?);
    out.push_str(&delivery(o).await?);
    out.push_str("(the load generator and the loopback peers share this machine's cores)\n");
    Ok(out)
}

async fn inbound(o: &Options) -> anyhow::Result<String> {
    let (da, db) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (ia, ib) = (
        start(da.path(), |_| {}).await?,
        start(db.path(), |_| {}).await?,
    );
    let (a, b) = (ia.core.clone(), ib.core.clone());
    person(&a, "alice").await?;
    let bob = person(&b, "bob").await?;
    let (private, _) = fed_service::account_key(&b, bob.id(), crate::federation::make_keys).await?;
    let bob_actor = format!("{}/users/bob", b.urls.base());
    let alice_actor = format!("{}/users/alice", a.urls.base());
    let signer = Signer::from_pem(&private, &format!("{bob_actor}#main-key"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let inbox = format!("{}/inbox", a.urls.base());
    let make = |i: usize| -> anyhow::Result<Signed> {
        let note = format!("{bob_actor}/statuses/bench{i}");
        let body = serde_json::to_vec(&json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note}/activity"),
            "type": "Create",
            "actor": bob_actor,
            "to": [alice_actor],
            "object": {
                "id": note, "type": "Note", "attributedTo": bob_actor,
                "content": format!("<p>Benchmark note {i} for <span class=\"h-card\"><a class=\"u-url mention\" href=\"{alice_actor}\">@alice</a></span> #bench</p>"),
                "to": [alice_actor],
                "tag": [{"type": "Mention", "href": alice_actor, "name": "@alice"},
                        {"type": "Hashtag", "href": "https://x.example/tags/bench", "name": "#bench"}],
                "published": "2026-12-01T00:00:00Z",
            }
        }))?;
        let h = signer
            .sign_cavage("POST", &inbox, Some(&body), SystemTime::now())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((body, h.to_pairs()))
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.concurrency)
        .build()?;
    let target = inbox.clone();
    let send =
        move |client: reqwest::Client, body: Vec<u8>, headers: Vec<(&'static str, String)>| {
            let inbox = target.clone();
            async move {
                let mut req = client
                    .post(&inbox)
                    .header("Content-Type", "application/activity+json");
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                req.body(body).send().await.map(|r| r.status().as_u16())
            }
        };
    // Warm-up: the first delivery makes A fetch bob's actor and key.
    let (body, headers) = make(usize::MAX)?;
    let status = send(client.clone(), body, headers).await?;
    anyhow::ensure!(status == 202, "warm-up delivery answered {status}");
    let signed: Vec<_> = (0..o.activities).map(make).collect::<Result<_, _>>()?;
    let queue = Arc::new(std::sync::Mutex::new(signed));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..o.concurrency {
        let (queue, errors, client) = (queue.clone(), errors.clone(), client.clone());
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((body, headers)) = next else { break };
                match send(client.clone(), body, headers).await {
                    Ok(202) => {}
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let accepted = started.elapsed();
    // Processed: every note stored (bob's post count on A counts them).
    let bob_there = format!("bob@{}", b.urls.host());
    loop {
        let n = accounts::find_by_username(&a, &bob_there)
            .await
            .map(|acc| acc.posts_count)
            .unwrap_or(0);
        if n as usize > o.activities || started.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let processed = started.elapsed();
    ia.stop().await;
    ib.stop().await;
    let n = o.activities as f64;
    Ok(format!(
        "inbound: {} signed Create(Note) activities, {} connections, {} errors\n  \
         accepted (verify + parse + dedupe + durable store, to the 202): {:.0}/s ({:.2} s)\n  \
         processed (stored as posts, notified, fanned out): {:.0}/s ({:.2} s)\n",
        o.activities,
        o.concurrency,
        errors.load(Ordering::Relaxed),
        n / accepted.as_secs_f64(),
        accepted.as_secs_f64(),
        n / processed.as_secs_f64(),
        processed.as_secs_f64(),
    ))
}

#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    Healthy,
    Failing,
    Hanging,
}

async fn delivery(o: &Options) -> anyhow::Result<String> {
    let da = tempfile::tempdir()?;
    let ia = start(da.path(), |c| c.federation.request_timeout_secs = 10).await?;
    let a = ia.core.clone();
    let alice = person(&a, "alice").await?;
    // The peers: one listener (so one host:port, one "server") per inbox.
    let healthy_done = Arc::new(AtomicUsize::new(0));
    let first_seen = Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    let t0 = Arc::new(std::sync::Mutex::new(Instant::now()));
    let mut listeners = Vec::new();
    let mut behaviours = Vec::new();
    for i in 0..o.inboxes {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        let b = if i * 100 < o.inboxes * o.failing_pct {
            Behaviour::Failing
        } else if i * 100 < o.inboxes * (o.failing_pct + o.hanging_pct) {
            Behaviour::Hanging
        } else {
            Behaviour::Healthy
        };
        behaviours.push((l.local_addr()?.port(), b));
        listeners.push(l);
    }
    let table: Arc<std::collections::HashMap<u16, Behaviour>> =
        Arc::new(behaviours.iter().copied().collect());
    let latency = Duration::from_millis(o.latency_ms);
    let (hd, fs, t0c, tb) = (
        healthy_done.clone(),
        first_seen.clone(),
        t0.clone(),
        table.clone(),
    );
    let mut server = HttpServer::new(move || {
        let (hd, fs, t0c, tb) = (hd.clone(), fs.clone(), t0c.clone(), tb.clone());
        App::new().route(
            "/inbox",
            web::post().to(move |req: actix_web::HttpRequest, _body: web::Bytes| {
                let (hd, fs, t0c, tb) = (hd.clone(), fs.clone(), t0c.clone(), tb.clone());
                async move {
                    let port = req.app_config().local_addr().port();
                    match tb.get(&port).copied().unwrap_or(Behaviour::Healthy) {
                        Behaviour::Failing => HttpResponse::ServiceUnavailable().finish(),
                        Behaviour::Hanging => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            HttpResponse::Accepted().finish()
                        }
                        Behaviour::Healthy => {
                            tokio::time::sleep(latency).await;
                            if let (Ok(t), Ok(mut f)) = (t0c.lock(), fs.lock()) {
                                f.push(t.elapsed().as_secs_f64());
                            }
                            hd.fetch_add(1, Ordering::Relaxed);
                            HttpResponse::Accepted().finish()
                        }
                    }
                }
            }),
        )
    })
    .workers(1)
    .backlog(1024)
    .shutdown_timeout(0)
    .disable_signals();
    for l in listeners {
        server = server.listen(l)?;
    }
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    // Each peer follows alice (as if its Follow had arrived and been accepted).
    let key = crate::federation::make_keys()?.1;
    for (i, (port, _)) in behaviours.iter().enumerate() {
        let host = format!("localhost:{port}");
        let uri = format!("http://{host}/users/p{i}");
        let id = fed_service::upsert_actor(
            &a,
            fed_service::RemoteActor {
                uri: uri.clone(),
                handle: format!("p{i}@{host}"),
                domain: host.clone(),
                inbox: format!("http://{host}/inbox"),
                shared_inbox: None,
                followers_uri: None,
                url: None,
                key_id: format!("{uri}#main-key"),
                public_key: key.clone(),
                kind: "Person".into(),
                display_name: String::new(),
                bio: String::new(),
                fields: Vec::new(),
                locked: false,
                icon_url: None,
                image_url: None,
                published: None,
            },
        )
        .await?;
        fed_service::remote_follow(&a, id, "alice".into(), format!("{uri}#follow")).await?;
    }
    // Let the Accepts of those follows go out and settle before the clock starts.
    let healthy = behaviours
        .iter()
        .filter(|(_, b)| *b == Behaviour::Healthy)
        .count();
    let settle = Instant::now();
    while healthy_done.load(Ordering::Relaxed) < healthy
        && settle.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    healthy_done.store(0, Ordering::Relaxed);
    if let Ok(mut f) = first_seen.lock() {
        f.clear();
    }
    if let Ok(mut t) = t0.lock() {
        *t = Instant::now();
    }
    let started = Instant::now();
    posts::create(
        &a,
        &alice,
        posts::NewPost {
            body: "One post for a thousand servers".into(),
            content_warning: String::new(),
            visibility: Visibility::Public,
            reply_policy: crate::domain::ReplyPolicy::Anyone,
            in_reply_to: None,
            quote_of: None,
            media: Vec::new(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    while healthy_done.load(Ordering::Relaxed) < healthy
        && started.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all = started.elapsed();
    let mut seen = first_seen.lock().map(|f| f.clone()).unwrap_or_default();
    handle.stop(false).await;
    ia.stop().await;
    Ok(format!(
        "delivery: one post to {} inboxes on {} loopback servers ({} answer after {} ms, {} fail with 503, {} hang past the 10 s timeout)\n  \
         all {} healthy inboxes had it after {:.2} s (median arrival {:.2} s); {} arrived\n",
        o.inboxes,
        o.inboxes,
        healthy,
        o.latency_ms,
        behaviours
            .iter()
            .filter(|(_, b)| *b == Behaviour::Failing)
            .count(),
        behaviours
            .iter()
            .filter(|(_, b)| *b == Behaviour::Hanging)
            .count(),
        healthy,
        all.as_secs_f64(),
        median(&mut seen),
        healthy_done.load(Ordering::Relaxed),
    ))
}
