//! Inboxes. A delivery is read (up to `federation.inbox_bytes`), its HTTP signature checked
//! against the sender's key (fetched once more if it fails, since keys rotate), the signer
//! matched with the activity's actor, and the activity stored durably before the 202: a
//! crash after the answer loses nothing, and a redelivery is acknowledged without being
//! acted on twice. Workers act on it later (`receive`).

use std::time::{Duration, SystemTime};

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use super::signatures::{self, IncomingRequest, SigError};
use super::{Federation, domain_of, routes::json_error};
use crate::error::{AppError, AppResult};
use crate::service::Core;
use crate::service::federation as fed_service;
use crate::service::federation::ActorRow;

type Fed = web::Data<std::sync::Arc<Federation>>;

pub async fn shared_inbox(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    handle(&fed, &core, &req, body, None).await
}

pub async fn inbox(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    body: web::Payload,
    name: web::Path<String>,
) -> HttpResponse {
    handle(&fed, &core, &req, body, Some(name.into_inner())).await
}

async fn handle(
    fed: &Federation,
    core: &Core,
    req: &HttpRequest,
    body: web::Payload,
    owner: Option<String>,
) -> HttpResponse {
    match receive(fed, core, req, body, owner).await {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(e) => json_error(e),
    }
}

async fn read_body(mut body: web::Payload, cap: usize) -> AppResult<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| AppError::invalid("The body could not be read."))?;
        if out.len() + chunk.len() > cap {
            return Err(AppError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn receive(
    fed: &Federation,
    core: &Core,
    req: &HttpRequest,
    body: web::Payload,
    owner: Option<String>,
) -> AppResult<()> {
    if let Some(name) = &owner {
        // An inbox of someone who does not exist here takes nothing.
        let a = crate::service::accounts::find_by_username(core, name).await?;
        if a.username.contains('@') {
            return Err(AppError::NotFound);
        }
    }
    let body = read_body(body, fed.config().inbox_bytes).await?;
    let signer = verify(fed, core, req, &body).await?;
    let activity: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| AppError::invalid("The body is not JSON."))?;
    let kind = activity.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let actor = activity
        .get("actor")
        .and_then(|a| a.as_str().or_else(|| a.get("id").and_then(|i| i.as_str())))
        .ok_or_else(|| AppError::invalid("The activity has no actor."))?;
    if actor != signer.uri {
        // Someone else's activity: only a Delete relayed by a server about its own people
        // is taken (the signer must be on the actor's server), as Mastodon allows.
        let same_server = domain_of(actor).is_some_and(|d| d == signer.domain);
        if !(kind == "Delete" && same_server) {
            return Err(AppError::forbidden(
                "The request is signed by someone other than the activity's actor.",
            ));
        }
    }
    let id = activity
        .get("id")
        .and_then(|i| i.as_str())
        .filter(|i| domain_of(i).is_some_and(|d| d == signer.domain))
        .map(str::to_string)
        // An activity without an id of its own server is deduplicated by its contents.
        .unwrap_or_else(|| {
            use sha2::Digest;
            let h = sha2::Sha256::digest(&body);
            format!(
                "sha256:{}",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, h)
            )
        });
    let text = String::from_utf8(body).map_err(|_| AppError::invalid("The body is not UTF-8."))?;
    fed_service::accept_inbound(core, id, text, signer.uri, signer.domain).await?;
    Ok(())
}

/// Checks a request's HTTP signature; answers the signing actor. 401 for a signature that
/// cannot be checked (peers that try RFC 9421 first fall back on a 4xx), 403 for a blocked
/// server. The cheap checks (our host, the date, the body's digest) come before any key is
/// fetched, so a forged request costs us no fetch.
pub async fn verify(
    fed: &Federation,
    core: &Core,
    req: &HttpRequest,
    body: &[u8],
) -> AppResult<ActorRow> {
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.path().to_string());
    let scheme = if fed.ids.base().starts_with("https://") {
        "https"
    } else {
        "http"
    };
    let method = req.method().as_str().to_string();
    let incoming = IncomingRequest {
        method: &method,
        scheme,
        path_with_query: &path,
        headers: &pairs,
        body,
    };
    // A request signed for another server (replayed here) names that server's host.
    let host = incoming.header("host").unwrap_or_default();
    if !host.eq_ignore_ascii_case(fed.ids.host()) {
        return Err(AppError::Unauthorized);
    }
    let skew = Duration::from_secs(fed.config().signature_skew_secs);
    let now = SystemTime::now();
    if let Some(date) = incoming.header("date") {
        let at = httpdate::parse_http_date(&date).map_err(|_| AppError::Unauthorized)?;
        let off = now
            .duration_since(at)
            .or_else(|e| Ok::<_, ()>(e.duration()));
        if off.map_or(true, |d| d > skew) {
            return Err(AppError::Unauthorized);
        }
    }
    if !body.is_empty() {
        let ok = match (incoming.header("digest"), incoming.header("content-digest")) {
            (Some(d), _) => signatures::verify_digest_header(&d, body).is_ok(),
            (None, Some(d)) => signatures::verify_content_digest_header(&d, body).is_ok(),
            (None, None) => false,
        };
        if !ok {
            return Err(AppError::Unauthorized);
        }
    }
    let sig = signatures::parse_request_signature(&incoming).map_err(unauthorized)?;
    let key_id = sig.key_id().to_string();
    let blocked_host = super::block_host(&key_id).ok_or(AppError::Unauthorized)?;
    if fed_service::domain_block(core, blocked_host).await? >= 2 {
        return Err(AppError::forbidden("This server is blocked here."));
    }
    // RSA verification runs on the blocking pool, off the threads that serve requests.
    let owned = std::sync::Arc::new((method.clone(), path.clone(), headers.clone(), body.to_vec()));
    let check = |key: std::sync::Arc<signatures::PublicKey>| {
        let (sig, owned) = (sig.clone(), owned.clone());
        async move {
            web::block(move || {
                let (method, path, headers, body) = &*owned;
                let pairs: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let req = IncomingRequest {
                    method,
                    scheme,
                    path_with_query: path,
                    headers: &pairs,
                    body,
                };
                sig.verify(&req, &key, now, skew)
            })
            .await
            .unwrap_or(Err(SigError::BadSignature))
        }
    };
    let (hit, fetched) = match fed.known_key(core, &key_id).await {
        Ok(Some(h)) => (Some(h), false),
        Ok(None) => (fetch_key(fed, core, &key_id).await?, true),
        Err(_) => return Err(AppError::Unauthorized),
    };
    let failure = match &hit {
        Some((key, actor)) => match check(key.clone()).await {
            Ok(()) => return Ok(actor.clone()),
            Err(e) => e,
        },
        None => SigError::BadSignature,
    };
    // Keys rotate: a wrong signature with a key we had is tried once more with a fresh
    // copy (never in a request that has just fetched it).
    if !fetched
        && matches!(failure, SigError::BadSignature)
        && let Some((key, actor)) = fetch_key(fed, core, &key_id).await?
        && check(key).await.is_ok()
    {
        return Ok(actor);
    }
    tracing::info!("refused a request signed by {key_id}: {failure}");
    Err(unauthorized(failure))
}

async fn fetch_key(
    fed: &Federation,
    core: &Core,
    key_id: &str,
) -> AppResult<Option<super::KeyHit>> {
    match fed.fetch_key(core, key_id).await {
        Ok(hit) => Ok(hit),
        Err(AppError::Forbidden(m)) => Err(AppError::Forbidden(m)),
        Err(AppError::RateLimited { retry_after_secs }) => {
            Err(AppError::RateLimited { retry_after_secs })
        }
        Err(_) => Ok(None),
    }
}

fn unauthorized(_e: SigError) -> AppError {
    AppError::Unauthorized
}
