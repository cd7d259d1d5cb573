//! HTML routes over the services, one file per area. Handlers are thin: extract, call one
//! service, render a view or redirect. No SQL here, and no imports from `api` or `federation`.

pub mod admin;
pub mod auth;
pub mod extract;
pub mod feeds;
pub mod media;
pub mod middleware;
pub mod page_cache;
pub mod posts;
pub mod profiles;
pub mod reports;
pub mod search;
pub mod settings;
pub mod upload;
pub mod views;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError, web};
use maud::Markup;

use crate::error::{AppError, AppResult};
use crate::service::Core;
use extract::SESSION_COOKIE;

/// Registers every HTML route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // The pages a visitor without a session may be served from memory come first: the
    // router tries patterns in order, and a page served from memory costs little else (the
    // thread page, last in the table, spent half its time matching patterns).
    cfg.service(shared("/", web::get().to(feeds::home)))
        .service(shared("/public", web::get().to(feeds::public)))
        .service(shared("/tags/{tag}", web::get().to(search::tag)))
        .service(shared("/@{name}", web::get().to(profiles::show)))
        // Digits only, so `/@{name}/followers` and the like still reach their own routes.
        .service(shared("/@{name}/{id:[0-9]+}", web::get().to(posts::thread)))
        .route("/healthz", web::get().to(healthz))
        .route("/static/{file}", web::get().to(static_file))
        .route("/tags/{tag}/follow", web::post().to(search::follow_tag))
        .route("/tags/{tag}/unfollow", web::post().to(search::unfollow_tag))
        .route("/search", web::get().to(search::search))
        .route("/search/suggest", web::get().to(search::suggest))
        .route("/explore", web::get().to(search::explore))
        .route("/settings/search", web::get().to(search::settings))
        .route("/settings/migration", web::get().to(settings::migration))
        .route(
            "/settings/migration/aliases",
            web::post().to(settings::save_aliases),
        )
        .route(
            "/settings/migration/move",
            web::post().to(settings::move_account),
        )
        .route("/settings/search", web::post().to(search::save_settings))
        .route("/admin/search", web::get().to(search::admin))
        .route("/admin/search/rebuild", web::post().to(search::rebuild))
        .route(
            "/admin/trends/tags/{tag}/{action}",
            web::post().to(search::trend_tag),
        )
        .route(
            "/admin/trends/posts/{id}/{action}",
            web::post().to(search::trend_post),
        )
        .route("/bookmarks", web::get().to(feeds::bookmarks))
        .route("/notifications", web::get().to(feeds::notifications))
        .route("/notifications/read", web::post().to(feeds::mark_read))
        .route("/compose", web::get().to(posts::compose))
        .route("/posts", web::post().to(posts::create))
        .route("/posts/{id}/like", web::post().to(posts::like))
        .route("/posts/{id}/repost", web::post().to(posts::repost))
        .route("/posts/{id}/bookmark", web::post().to(posts::bookmark))
        .route("/posts/{id}/hide", web::post().to(posts::hide))
        .route("/posts/{id}/pin", web::post().to(posts::pin))
        .route("/posts/{id}/edit", web::post().to(posts::save_edit))
        .route("/posts/{id}/delete", web::get().to(posts::confirm_delete))
        .route("/posts/{id}/delete", web::post().to(posts::delete))
        .route("/login", web::get().to(auth::login_page))
        .route("/login", web::post().to(auth::login))
        .route("/signup", web::get().to(auth::signup_page))
        .route("/signup", web::post().to(auth::signup))
        .route("/logout", web::post().to(auth::logout))
        .route("/settings", web::get().to(settings::show))
        .route("/settings/profile", web::post().to(settings::save_profile))
        .route("/settings/delete", web::post().to(settings::delete_account))
        .route(
            "/settings/pictures",
            web::post().to(settings::save_pictures),
        )
        .route(
            "/settings/password",
            web::post().to(settings::change_password),
        )
        .route(
            "/settings/logout_others",
            web::post().to(settings::logout_others),
        )
        .route("/follow_requests", web::get().to(profiles::requests))
        .route(
            "/follow_requests/{name}/accept",
            web::post().to(profiles::accept),
        )
        .route(
            "/follow_requests/{name}/reject",
            web::post().to(profiles::reject),
        )
        .route("/admin", web::get().to(admin::show))
        .route("/admin/reports", web::get().to(reports::queue))
        .route(
            "/admin/reports/{id}/resolve",
            web::post().to(reports::resolve),
        )
        .route("/posts/{id}/report", web::get().to(reports::page))
        .route("/posts/{id}/report", web::post().to(reports::create))
        .route("/admin/federation", web::get().to(admin::federation))
        .route(
            "/admin/federation/secure",
            web::post().to(admin::secure_mode),
        )
        .route(
            "/admin/federation/block",
            web::post().to(admin::block_domain),
        )
        .route(
            "/admin/federation/retry",
            web::post().to(admin::retry_domain),
        )
        .route("/admin/settings", web::post().to(admin::save_settings))
        .route("/admin/jobs/{id}", web::post().to(admin::job))
        .route(
            "/admin/accounts/{name}/role",
            web::post().to(admin::set_role),
        )
        .route(
            "/admin/accounts/{name}/verify",
            web::post().to(admin::verify),
        )
        .route(
            "/admin/accounts/{name}/approve",
            web::post().to(admin::approve),
        )
        .route(
            "/admin/accounts/{name}/reject",
            web::post().to(admin::reject),
        )
        .route("/@{name}/followers", web::get().to(profiles::followers))
        .route("/@{name}/following", web::get().to(profiles::following))
        .route("/@{name}/follow", web::post().to(profiles::follow))
        .route("/@{name}/unfollow", web::post().to(profiles::unfollow))
        .route(
            "/@{name}/{action:block|unblock}",
            web::post().to(profiles::block),
        )
        .route(
            "/@{name}/remove_follower",
            web::post().to(profiles::remove_follower),
        )
        .route("/@{name}/{id}/edit", web::get().to(posts::edit_page))
        .route("/@{name}/{id}/history", web::get().to(posts::history))
        .route("/@{name}/{id}/media/{n}", web::get().to(media::lightbox))
        .route("/media/{file}", web::get().to(media::file));
}

pub async fn not_found() -> AppResult<HttpResponse> {
    Err(AppError::NotFound)
}

async fn healthz(core: web::Data<Core>) -> HttpResponse {
    let ok = core
        .db
        .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await
        .is_ok();
    if ok {
        HttpResponse::Ok().content_type("text/plain").body("ok")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable")
    }
}

async fn static_file(path: web::Path<String>) -> AppResult<HttpResponse> {
    let (asset, immutable) = crate::assets::get(&path).ok_or(AppError::NotFound)?;
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .body(asset.bytes.into_owned()))
}

pub fn html(m: Markup) -> HttpResponse {
    html_status(StatusCode::OK, m)
}

pub fn html_status(status: StatusCode, m: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(m.into_string())
}

/// A route whose page looks the same to every visitor without a session (their CSRF token
/// aside), so `page_cache` may keep it: the public feed (and `/` logged out), hashtag pages,
/// profiles and threads.
fn shared(path: &str, route: actix_web::Route) -> impl actix_web::dev::HttpServiceFactory {
    web::resource(path)
        .route(route)
        .wrap(actix_web::middleware::from_fn(page_cache::serve))
}

/// 303 to a path on this site.
pub fn see_other(path: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, path.to_string()))
        .finish()
}

/// A local path to go back to; anything that could leave the site falls back to `default`.
pub fn safe_back(back: Option<&str>, default: &str) -> String {
    match back {
        Some(b)
            if b.starts_with('/')
                && !b.starts_with("//")
                && !b.contains('\\')
                && !b.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            b.to_string()
        }
        _ => default.to_string(),
    }
}

/// The message to show inside a form for errors the person can fix; None for the rest,
/// which go to the error page.
pub fn form_error(e: &AppError) -> Option<String> {
    match e {
        AppError::Invalid(_)
        | AppError::Forbidden(_)
        | AppError::Conflict(_)
        | AppError::RateLimited { .. } => Some(e.public_message().1),
        _ => None,
    }
}

/// A page re-rendered because of `e` (a form with its error), with the error's status and,
/// for rate limits, `Retry-After`.
pub fn rerender(e: &AppError, m: Markup) -> HttpResponse {
    let mut resp = html_status(e.status_code(), m);
    if let AppError::RateLimited { retry_after_secs } = e
        && let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

pub fn session_cookie(core: &Core, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .secure(core.urls.secure())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(60))
        .finish()
}

pub fn clear_session_cookie(core: &Core) -> Cookie<'static> {
    let mut c = session_cookie(core, "");
    c.make_removal();
    c
}

/// Parses a post id from a path segment; anything else is simply not found.
pub fn parse_post_id(s: &str) -> AppResult<crate::domain::PostId> {
    s.parse().map_err(|_| AppError::NotFound)
}
