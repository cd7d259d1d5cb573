//! Headers every response carries, and the CSRF cookie for visitors without one.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, HttpMessage};

use super::extract::{AnonCsrf, CSRF_COOKIE};
use crate::service::Core;

/// No inline script or style anywhere: htmx and CSS come from our own origin.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub async fn security(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // Files (static assets, uploads) carry no forms and are cached: no token for them.
    let is_file = req.path().starts_with("/media/") || req.path().starts_with("/static/");
    let new_token = if !is_file && req.cookie(CSRF_COOKIE).is_none() {
        crate::service::accounts::random_token().ok()
    } else {
        None
    };
    if let Some(t) = &new_token {
        req.extensions_mut().insert(AnonCsrf(t.clone()));
    }
    let secure = req
        .app_data::<Data<Core>>()
        .is_some_and(|c| c.urls.secure());
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    for (k, v) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ] {
        // A handler may set a stricter policy of its own (uploaded files are sandboxed).
        let name = HeaderName::from_static(k);
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(v));
        }
    }
    if let Some(t) = new_token {
        let cookie = Cookie::build(CSRF_COOKIE, t)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .finish();
        let _ = res.response_mut().add_cookie(&cookie);
    }
    Ok(res)
}
