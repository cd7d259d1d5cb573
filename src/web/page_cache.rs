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
//! Only handlers that mark their response [`Shareable`] (the same page for every visitor
//! without a session) are kept. The visitor's own CSRF token is spliced in on every hit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, SET_COOKIE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{Error, HttpMessage, HttpResponse};

use super::extract::{AnonCsrf, CSRF_COOKIE, SESSION_COOKIE};
use crate::service::Core;

/// Put in a response's extensions by a handler whose page is the same for every visitor
/// without a session (their CSRF token aside).
#[derive(Clone, Copy)]
pub struct Shareable;

/// Counts shown on the admin page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Pages served from memory.
    pub hits: u64,
    /// Shareable pages that had to be rendered.
    pub misses: u64,
    pub entries: usize,
}

pub struct PageCache {
    entries: Mutex<HashMap<String, Entry>>,
    max_entries: usize,
    ttl: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct Entry {
    generation: u64,
    made: Instant,
    status: StatusCode,
    headers: HeaderMap,
    /// The body cut at each place the token was: joined with the next visitor's token.
    parts: Vec<Bytes>,
}

impl PageCache {
    pub fn new(max_entries: usize, ttl: Duration) -> PageCache {
        PageCache {
            entries: Mutex::new(HashMap::new()),
            max_entries,
            ttl,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn enabled(&self) -> bool {
        self.max_entries > 0 && !self.ttl.is_zero()
    }

    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.lock().map(|m| m.len()).unwrap_or(0),
        }
    }

    fn get(&self, key: &str, generation: u64, token: &str) -> Option<HttpResponse> {
        let map = self.entries.lock().ok()?;
        let e = map.get(key)?;
        if e.generation != generation || e.made.elapsed() >= self.ttl {
            return None;
        }
        let len = e.parts.iter().map(Bytes::len).sum::<usize>()
            + token.len() * e.parts.len().saturating_sub(1);
        let mut body = BytesMut::with_capacity(len);
        for (i, p) in e.parts.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(token.as_bytes());
            }
            body.extend_from_slice(p);
        }
        let mut res = HttpResponse::with_body(e.status, BoxBody::new(body.freeze()));
        for (k, v) in &e.headers {
            res.headers_mut().append(k.clone(), v.clone());
        }
        Some(res)
    }

    fn put(&self, key: String, entry: Entry) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if map.len() >= self.max_entries && !map.contains_key(&key) {
            // Entries of an older generation are dead anyway; if all are current, start over
            // rather than keep a second structure for least-recently-used order.
            let generation = entry.generation;
            map.retain(|_, e| e.generation == generation);
            if map.len() >= self.max_entries {
                map.clear();
            }
        }
        map.insert(key, entry);
    }
}

/// Cuts `body` at every occurrence of `token`. `None` unless the body is text containing it.
fn split(body: &Bytes, token: &str) -> Option<Vec<Bytes>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut parts = Vec::new();
    let mut last = 0;
    for (at, _) in text.match_indices(token) {
        parts.push(body.slice(last..at));
        last = at + token.len();
    }
    if parts.is_empty() {
        return None;
    }
    parts.push(body.slice(last..));
    Some(parts)
}

/// The middleware: sits inside `security` (which gives a new visitor their token) so that
/// it sees that token, and the security headers are added to hits and misses alike.
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
    if !cache.enabled()
        || req.method() != Method::GET
        || wants_json
        || req.cookie(SESSION_COOKIE).is_some()
    {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let token = req
        .extensions()
        .get::<AnonCsrf>()
        .map(|a| a.0.clone())
        .or_else(|| req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()))
        .unwrap_or_default();
    // Too short a token could occur in the page by chance and be replaced there.
    if token.len() < 20 {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let htmx = if req.headers().contains_key("HX-Request") {
        "h"
    } else {
        "f"
    };
    let key = format!("{htmx}{}?{}", req.path(), req.query_string());
    let generation = core.db.generation();
    if let Some(res) = cache.get(&key, generation, &token) {
        cache.hits.fetch_add(1, Ordering::Relaxed);
        return Ok(req.into_response(res));
    }
    let res = next.call(req).await?;
    let keep = res.status() == StatusCode::OK
        && res.response().extensions().get::<Shareable>().is_some()
        && !res.headers().contains_key(SET_COOKIE);
    if !keep {
        return Ok(res.map_into_boxed_body());
    }
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
    cache.misses.fetch_add(1, Ordering::Relaxed);
    if let Some(parts) = split(&body, &token) {
        cache.put(
            key,
            Entry {
                generation,
                made: Instant::now(),
                status: head.status(),
                headers: head.headers().clone(),
                parts,
            },
        );
    }
    Ok(ServiceResponse::new(req, head.set_body(BoxBody::new(body))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_join_round_trip() {
        let token = "t0k3n-abcdefghijklmnopqrstuvwxyz";
        let body = Bytes::from(format!("<a>{token}</a><b x=\"{token}\">"));
        let parts = split(&body, token).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(&parts[0][..], b"<a>");
        assert_eq!(&parts[2][..], b"\">");
        assert!(split(&Bytes::from_static(b"no token here"), token).is_none());
        assert!(split(&Bytes::from_static(&[0xFF, 0xFE]), token).is_none());
    }

    #[test]
    fn entries_expire_and_follow_the_generation() {
        let cache = PageCache::new(2, Duration::from_secs(60));
        let entry = |generation| Entry {
            generation,
            made: Instant::now(),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            parts: vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")],
        };
        cache.put("/x".into(), entry(1));
        assert!(cache.get("/x", 1, "TOKEN").is_some());
        assert!(
            cache.get("/x", 2, "TOKEN").is_none(),
            "a write happened since"
        );
        cache.put("/y".into(), entry(2));
        cache.put("/z".into(), entry(2));
        // Full: the entry of the old generation made room.
        assert_eq!(cache.stats().entries, 2);
        assert!(cache.get("/y", 2, "T").is_some() && cache.get("/z", 2, "T").is_some());

        let stale = PageCache::new(2, Duration::from_millis(1));
        stale.put("/x".into(), entry(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(stale.get("/x", 1, "T").is_none(), "too old");
    }
}
