//! Pages for visitors who are not logged in, kept in memory until the next write.
//!
//! A public page, a profile or a thread looks the same to every visitor without a session,
//! apart from the visitor's CSRF token. When a post is linked from elsewhere, hundreds of such
//! visitors a second ask for the same page; rendering it once per write instead of once per
//! visit is what keeps a small machine up. An entry is used only while
//! - the database's write generation has not moved since the page was read (any committed
//!   change, so a deleted or edited post is never shown from here),
//! - it is younger than `feeds.public_cache_ms` (relative times, trends), and
//! - the request carries no session cookie.
//!
//! The middleware wraps only the routes whose page is the same for every visitor without a
//! session (`web::shared`), so nothing else is buffered or scanned. Such a page is rendered with a random placeholder, made at
//! start and never sent, where the CSRF token goes, and each visitor's own token (checked to
//! be one this server could have issued) replaces it on every hit. Keys are the path, the
//! `before` and `tab` parameters and whether htmx asked; any other query is not cached, so
//! pages cannot be multiplied by junk parameters. Memory is bounded by
//! `feeds.public_cache_mib`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderMap, SET_COOKIE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{Error, HttpMessage, HttpResponse};

use super::extract::{AnonCsrf, SESSION_COOKIE, anon_csrf};
use crate::service::{Core, accounts};

/// Counts shown on the admin page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Pages served from memory.
    pub hits: u64,
    /// Pages that had to be rendered (and were kept).
    pub misses: u64,
    pub entries: usize,
    pub bytes: usize,
}

pub struct PageCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
    ttl: Duration,
    /// Rendered where a visitor's CSRF token goes; the same alphabet and length as a token,
    /// so escaping leaves it alone. Never leaves the process.
    placeholder: String,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Arc<Entry>>,
    bytes: usize,
    /// The generation whose older entries were last dropped.
    swept: u64,
}

struct Entry {
    generation: u64,
    made: Instant,
    status: StatusCode,
    headers: HeaderMap,
    /// The body cut at each placeholder: joined with the visitor's token.
    parts: Vec<Bytes>,
    size: usize,
}

impl PageCache {
    pub fn new(max_bytes: usize, ttl: Duration) -> PageCache {
        // Without randomness there is no placeholder an attacker cannot guess: no cache.
        let (placeholder, max_bytes) = match accounts::random_token() {
            Ok(t) => (t, max_bytes),
            Err(_) => (String::new(), 0),
        };
        PageCache {
            inner: Mutex::new(Inner::default()),
            max_bytes,
            ttl,
            placeholder,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn enabled(&self) -> bool {
        self.max_bytes > 0 && !self.ttl.is_zero()
    }

    pub fn stats(&self) -> Stats {
        let (entries, bytes) = self
            .inner
            .lock()
            .map(|i| (i.map.len(), i.bytes))
            .unwrap_or_default();
        Stats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries,
            bytes,
        }
    }

    fn get(&self, key: &str, generation: u64, token: &str) -> Option<HttpResponse> {
        let e = self.inner.lock().ok()?.map.get(key).cloned()?;
        if e.generation != generation || e.made.elapsed() >= self.ttl {
            return None;
        }
        let mut res = HttpResponse::with_body(e.status, BoxBody::new(join(&e.parts, token)));
        for (k, v) in &e.headers {
            res.headers_mut().append(k.clone(), v.clone());
        }
        Some(res)
    }

    /// Keeps `entry` if it is still current: a page whose render overlapped a write is dead
    /// on arrival, and must neither replace a live entry nor decide what is evicted.
    fn put(&self, key: String, mut entry: Entry, current: u64) {
        entry.size = key.len() + entry.parts.iter().map(Bytes::len).sum::<usize>();
        if entry.size > self.max_bytes / 4 || entry.generation != current {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(old) = inner.map.remove(&key) {
            inner.bytes -= old.size;
        }
        if inner.bytes + entry.size > self.max_bytes {
            // Entries of an older generation are dead anyway. If the rest still leave no room,
            // arbitrary ones go (the map's order): as good as least-recently-used for pages
            // asked for at random, without a second structure to keep.
            // The sweep runs once per generation, not on every insert into a full cache.
            let generation = entry.generation;
            if inner.swept != generation {
                inner.swept = generation;
                inner.map.retain(|_, e| e.generation == generation);
                inner.bytes = inner.map.values().map(|e| e.size).sum();
            }
            while inner.bytes + entry.size > self.max_bytes {
                let Some(k) = inner.map.keys().next().cloned() else {
                    break;
                };
                if let Some(e) = inner.map.remove(&k) {
                    inner.bytes -= e.size;
                }
            }
        }
        inner.bytes += entry.size;
        inner.map.insert(key, Arc::new(entry));
    }
}

fn join(parts: &[Bytes], token: &str) -> Bytes {
    let len =
        parts.iter().map(Bytes::len).sum::<usize>() + token.len() * parts.len().saturating_sub(1);
    let mut body = BytesMut::with_capacity(len);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(token.as_bytes());
        }
        body.extend_from_slice(p);
    }
    body.freeze()
}

/// Cuts `body` at every occurrence of `token` (the whole body if there is none).
fn split(body: &Bytes, token: &str) -> Vec<Bytes> {
    let Ok(text) = std::str::from_utf8(body) else {
        return vec![body.clone()];
    };
    let mut parts = Vec::new();
    let mut last = 0;
    for (at, _) in text.match_indices(token) {
        parts.push(body.slice(last..at));
        last = at + token.len();
    }
    parts.push(body.slice(last..));
    parts
}

/// The cache key, if the query holds only parameters the shareable pages read.
fn key_of(req: &ServiceRequest) -> Option<String> {
    // Percent-encoded spellings of a path route to the same page: not kept, so they cannot
    // multiply it.
    if req.path() != req.match_info().as_str() {
        return None;
    }
    let htmx = if req.headers().contains_key("HX-Request") {
        'h'
    } else {
        'f'
    };
    let mut before = None;
    let mut tab = None;
    for pair in req.query_string().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=')?;
        match k {
            // As a number, so `007` and `7` are one page.
            "before" if before.is_none() && v.bytes().all(|b| b.is_ascii_digit()) => {
                before = Some(v.parse::<i64>().ok()?);
            }
            // The profile tabs (`store::feeds::ProfileTab`); other values show the Posts tab.
            "tab" if tab.is_none() && matches!(v, "posts" | "replies" | "reposts") => {
                tab = Some(v);
            }
            _ => return None,
        }
    }
    let before = before.map(|b| b.to_string()).unwrap_or_default();
    Some(format!(
        "{htmx}{}?{before}&{}",
        req.path(),
        tab.unwrap_or("")
    ))
}

/// The middleware, on the shared routes only: inside `security` (which gives a new visitor
/// their token) so that it sees that token, and the security headers are added to hits and
/// misses alike.
pub async fn serve(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let cache = req.app_data::<Data<PageCache>>().cloned();
    let core = req.app_data::<Data<Core>>().cloned();
    let (Some(cache), Some(core)) = (cache, core) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // ActivityStreams JSON served from the same URLs (content negotiation) is not kept.
    let wants_json = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("json"));
    // A hit skips the handler and its login gate: turning login on raises the generation
    // (`Core::replace_settings`), and a page that asks for a login is not a 200.
    let candidate = cache.enabled()
        && req.method() == Method::GET
        && !wants_json
        && req.cookie(SESSION_COOKIE).is_none();
    let looked_up = candidate
        .then(|| {
            let token = anon_csrf(req.request()).filter(|t| accounts::is_token_shaped(t))?;
            Some((token, key_of(&req)?))
        })
        .flatten();
    let Some((token, key)) = looked_up else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let generation = core.db.generation();
    if let Some(res) = cache.get(&key, generation, &token) {
        cache.hits.fetch_add(1, Ordering::Relaxed);
        return Ok(req.into_response(res));
    }

    // Render with the placeholder; this visitor gets their own token put back below.
    req.extensions_mut()
        .insert(AnonCsrf(cache.placeholder.clone()));
    let res = next.call(req).await?;
    // Only pages carry a token; anything else (a file, JSON) passes through unread.
    let html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if !html {
        return Ok(res.map_into_boxed_body());
    }
    let keep = res.status() == StatusCode::OK && !res.headers().contains_key(SET_COOKIE);
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let body = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("reading a page for the cache: {}", e.into());
            return Ok(ServiceResponse::new(
                req,
                HttpResponse::InternalServerError().finish(),
            ));
        }
    };
    let parts = split(&body, &cache.placeholder);
    let mine = if parts.len() == 1 {
        body
    } else {
        join(&parts, &token)
    };
    if keep {
        cache.misses.fetch_add(1, Ordering::Relaxed);
        cache.put(
            key,
            Entry {
                generation,
                made: Instant::now(),
                status: head.status(),
                headers: head.headers().clone(),
                parts,
                size: 0,
            },
            core.db.generation(),
        );
    }
    Ok(ServiceResponse::new(req, head.set_body(BoxBody::new(mine))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_join_round_trip() {
        let token = "t0k3n-abcdefghijklmnopqrstuvwxyz";
        let body = Bytes::from(format!("<a>{token}</a><b x=\"{token}\">"));
        let parts = split(&body, token);
        assert_eq!(parts.len(), 3);
        assert_eq!(&parts[0][..], b"<a>");
        assert_eq!(&parts[2][..], b"\">");
        assert_eq!(&join(&parts, "T")[..], b"<a>T</a><b x=\"T\">");
        assert_eq!(split(&Bytes::from_static(b"no token here"), token).len(), 1);
        assert_eq!(split(&Bytes::from_static(&[0xFF, 0xFE]), token).len(), 1);
    }

    fn entry(generation: u64, body: &'static [u8]) -> Entry {
        Entry {
            generation,
            made: Instant::now(),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            parts: vec![Bytes::from_static(body), Bytes::from_static(b"!")],
            size: 0,
        }
    }

    #[test]
    fn entries_expire_follow_the_generation_and_fit_the_budget() {
        // Each entry below takes 9 bytes (key, parts); at most a quarter of the budget each.
        let cache = PageCache::new(36, Duration::from_secs(60));
        let body = |r: HttpResponse| r.into_body().try_into_bytes().ok().unwrap();
        cache.put("/x".into(), entry(1, b"123456"), 1);
        assert_eq!(&body(cache.get("/x", 1, "T").unwrap())[..], b"123456T!");
        assert!(cache.get("/x", 2, "T").is_none(), "a write happened since");
        for k in ["/y", "/z", "/w"] {
            cache.put(k.into(), entry(2, b"123456"), 2);
        }
        assert_eq!(cache.stats().bytes, 36);
        // Over budget: the entry of the old generation made room.
        cache.put("/v".into(), entry(2, b"123456"), 2);
        let s = cache.stats();
        assert_eq!((s.entries, s.bytes), (4, 36));
        assert!(cache.get("/v", 2, "T").is_some() && cache.get("/y", 2, "T").is_some());
        // All current: one of them goes.
        cache.put("/u".into(), entry(2, b"123456"), 2);
        let s = cache.stats();
        assert_eq!((s.entries, s.bytes), (4, 36));
        assert!(cache.get("/u", 2, "T").is_some());
        // A page whose render overlapped a write is not kept, and leaves the live one alone.
        cache.put("/u".into(), entry(1, b"654321"), 2);
        assert_eq!(&body(cache.get("/u", 2, "T").unwrap())[..], b"123456T!");
        // An entry over a quarter of the budget is not kept.
        cache.put("/big".into(), entry(2, b"0123456789"), 2);
        assert!(cache.get("/big", 2, "T").is_none());

        let stale = PageCache::new(40, Duration::from_millis(1));
        stale.put("/x".into(), entry(1, b"a"), 1);
        std::thread::sleep(Duration::from_millis(5));
        assert!(stale.get("/x", 1, "T").is_none(), "too old");
    }
}
