//! Request extractors: `Ctx` (who is asking, their CSRF token, what the layout needs) and
//! `CsrfForm<T>` (a form body that can only be read after its CSRF token is checked).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};
use crate::service::accounts::{self, Client, Viewer};
use crate::service::{Core, InstanceSettings};

pub const SESSION_COOKIE: &str = "weft_session";
pub const CSRF_COOKIE: &str = "weft_csrf";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The CSRF token of a visitor without a session; set by middleware when the cookie is new.
#[derive(Clone)]
pub struct AnonCsrf(pub String);

/// Everything about the current request that pages and handlers need.
pub struct Ctx {
    pub core: Data<Core>,
    pub viewer: Option<Viewer>,
    pub csrf: String,
    pub unread: i64,
    pub follow_requests: i64,
    pub settings: InstanceSettings,
    pub path: String,
    /// Path and query: where "back" should return to.
    pub here: String,
    pub htmx: bool,
    pub client: Client,
}

impl Ctx {
    pub fn require_viewer(&self) -> AppResult<&Viewer> {
        self.viewer.as_ref().ok_or(AppError::Unauthorized)
    }
    pub fn is_admin(&self) -> bool {
        self.viewer
            .as_ref()
            .is_some_and(|v| v.role() == crate::domain::Role::Admin)
    }
    pub fn is_staff(&self) -> bool {
        self.viewer.as_ref().is_some_and(|v| v.role().is_staff())
    }
    pub fn viewer_id(&self) -> Option<crate::domain::AccountId> {
        self.viewer.as_ref().map(|v| v.id())
    }
}

/// Pages that stay readable when an admin requires login to read.
fn open_without_login(path: &str) -> bool {
    matches!(path, "/login" | "/signup" | "/healthz") || path.starts_with("/static/")
}

/// The client's address: the connecting one, or, when that is a trusted reverse proxy, the
/// nearest untrusted address in `X-Forwarded-For` (proxies append, so read from the right).
fn client_ip(req: &HttpRequest, trusted: &[std::net::IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<std::net::IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
        .to_string()
}

pub fn client_of(req: &HttpRequest) -> Client {
    let trusted = req
        .app_data::<Data<Core>>()
        .map(|c| c.config.server.trusted_proxies.clone())
        .unwrap_or_default();
    Client {
        ip: client_ip(req, &trusted),
        user_agent: req
            .headers()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    }
}

/// The CSRF token of a visitor without a session: the one `middleware::security` has just
/// made for them, or the one in their cookie.
pub fn anon_csrf(req: &HttpRequest) -> Option<String> {
    // Two statements: `cookie()` writes the parsed cookies into the extensions.
    let new = req.extensions().get::<AnonCsrf>().map(|a| a.0.clone());
    new.or_else(|| req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()))
}

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Ctx, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let core = req.app_data::<Data<Core>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let anon = anon_csrf(req).unwrap_or_default();
        let path = req.path().to_string();
        let here = match req.query_string() {
            "" => path.clone(),
            q => format!("{path}?{q}"),
        };
        let htmx = req.headers().contains_key("HX-Request");
        let client = client_of(req);
        Box::pin(async move {
            let core = core.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
            // The nav counts are for full pages; htmx fragments have no navigation.
            let found = match token {
                Some(t) => accounts::viewer_for_token(&core, &t, !htmx).await?,
                None => None,
            };
            let (viewer, counts) = match found {
                Some((v, c)) => (Some(v), c),
                None => (None, accounts::NavCounts::default()),
            };
            let settings = core.settings();
            if settings.login_required && viewer.is_none() && !open_without_login(&path) {
                return Err(AppError::Unauthorized);
            }
            let csrf = viewer.as_ref().map(|v| v.csrf.clone()).unwrap_or(anon);
            Ok(Ctx {
                core,
                viewer,
                csrf,
                unread: counts.unread,
                follow_requests: counts.follow_requests,
                settings,
                path,
                here,
                htmx,
                client,
            })
        })
    }
}

/// A url-encoded form body, size-limited, whose fields are only available through
/// [`CsrfForm::verify`] so that no handler can forget the CSRF check.
pub struct CsrfForm<T> {
    body: actix_web::web::Bytes,
    header_token: Option<String>,
    /// Files of a multipart form (empty for urlencoded ones).
    files: Vec<super::upload::FilePart>,
    _t: std::marker::PhantomData<T>,
}

/// A verified form: the typed fields, every field as a pair (for repeated or dynamic
/// names), and the files.
pub struct Verified<T> {
    pub form: T,
    pub pairs: Vec<(String, String)>,
    pub files: Vec<super::upload::FilePart>,
}

#[derive(serde::Deserialize)]
struct TokenOnly {
    csrf: Option<String>,
}

impl<T: DeserializeOwned> CsrfForm<T> {
    /// Like `verify`, and also hands over all pairs and the files.
    pub fn verify_full(mut self, ctx: &Ctx) -> AppResult<Verified<T>> {
        let files = std::mem::take(&mut self.files);
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&self.body).unwrap_or_default();
        let form = self.verify(ctx)?;
        Ok(Verified { form, pairs, files })
    }

    /// Checks the token against the requester's and parses the form.
    pub fn verify(self, ctx: &Ctx) -> AppResult<T> {
        let sent = match self.header_token {
            Some(t) => Some(t),
            None => serde_urlencoded::from_bytes::<TokenOnly>(&self.body)
                .ok()
                .and_then(|t| t.csrf),
        };
        match sent {
            Some(t)
                if !ctx.csrf.is_empty() && constant_time_eq(t.as_bytes(), ctx.csrf.as_bytes()) => {}
            _ => return Err(AppError::Csrf),
        }
        serde_urlencoded::from_bytes::<T>(&self.body).map_err(|_| {
            AppError::invalid(
                "The form was incomplete or malformed. Reload the page and try again.",
            )
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<T: 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<CsrfForm<T>, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        read_form(req, payload, false)
    }
}

/// A form that may carry files (`multipart/form-data`). Files are only read from a logged-in
/// session whose CSRF token came first (in the header, or as the first fields of the form,
/// where every form of ours puts it), so nobody can make the server spool a large body to
/// disk without being someone it trusts.
pub struct CsrfUpload<T>(pub CsrfForm<T>);

impl<T: DeserializeOwned> CsrfUpload<T> {
    pub fn verify_full(self, ctx: &Ctx) -> AppResult<Verified<T>> {
        self.0.verify_full(ctx)
    }
}

impl<T: 'static> FromRequest for CsrfUpload<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<CsrfUpload<T>, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = read_form::<T>(req, payload, true);
        Box::pin(async move { form.await.map(CsrfUpload) })
    }
}

fn read_form<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    files_allowed: bool,
) -> Pin<Box<dyn Future<Output = Result<CsrfForm<T>, AppError>>>> {
    let limit = req
        .app_data::<Data<Core>>()
        .map(|c| c.config.limits.form_bytes)
        .unwrap_or(64 * 1024);
    let header_token = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let multipart = files_allowed && super::upload::is_multipart(req);
    let core = req.app_data::<Data<Core>>().cloned();
    let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
    let req2 = req.clone();
    let ct_ok = multipart
        || req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if !ct_ok {
            return Err(AppError::invalid("Send this form as a normal web form."));
        }
        if multipart {
            let core = core.ok_or(AppError::Unavailable)?;
            let viewer = match session {
                Some(t) => accounts::viewer_for_token(&core, &t, false).await?,
                None => None,
            };
            let Some((viewer, _)) = viewer else {
                return Err(AppError::Unauthorized);
            };
            let header_ok = header_token
                .as_deref()
                .is_some_and(|t| constant_time_eq(t.as_bytes(), viewer.csrf.as_bytes()));
            let gate = super::upload::Gate {
                csrf: viewer.csrf,
                header_ok,
            };
            let (body, files) = super::upload::read(&core, &req2, payload, &gate).await?;
            return Ok(CsrfForm {
                body,
                header_token,
                files,
                _t: std::marker::PhantomData,
            });
        }
        if declared.is_some_and(|n| n > limit) {
            return Err(AppError::TooLarge);
        }
        let mut body = actix_web::web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| AppError::invalid("The upload was interrupted."))?;
            if body.len() + chunk.len() > limit {
                return Err(AppError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(CsrfForm {
            body: body.freeze(),
            header_token,
            files: Vec::new(),
            _t: std::marker::PhantomData,
        })
    })
}

pub(crate) fn tokens_match(a: &str, b: &str) -> bool {
    !b.is_empty() && constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// `?before=ID` on every paginated page.
#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    pub before: Option<i64>,
    pub tab: Option<String>,
}

/// A form with no fields but the CSRF token (logout, follow, delete…).
#[derive(serde::Deserialize)]
pub struct NoFields {}
