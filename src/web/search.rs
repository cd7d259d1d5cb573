//! Search, explore, hashtag pages and follows, autocompletion, and the search settings and
//! admin pages.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, NoFields, PageQuery};
use super::views::Notice;
use super::views::components::next_url;
use super::views::search as views;
use super::{html, safe_back, see_other};
use crate::error::{AppError, AppResult};
use crate::search::Cursor;
use crate::service::search::{self, Kind};
use crate::service::{timeline, trends};
use crate::urls::Urls;

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    order: Option<String>,
    cursor: Option<String>,
}

pub async fn search(ctx: Ctx, p: web::Query<SearchParams>) -> AppResult<HttpResponse> {
    let p = p.into_inner();
    let q = p.q.unwrap_or_default();
    let kind = Kind::parse(p.kind.as_deref());
    let order = search::parse_order(p.order.as_deref());
    let cursor = p.cursor.as_deref().and_then(Cursor::from_param);
    let core = &ctx.core;
    // `@name@host` or the address of a person or post elsewhere: fetched and shown here.
    // Logged-in people only, so visitors cannot make this server fetch for them.
    if ctx.viewer.is_some()
        && looks_remote(&q)
        && let Some(f) = core.federation.get()
    {
        use crate::service::federation::Resolved;
        match f
            .resolve(core.get_ref().clone(), q.trim().to_string())
            .await
        {
            Ok(Some(Resolved::Account(name))) => {
                return Ok(crate::web::see_other(&crate::urls::Urls::profile(&name)));
            }
            Ok(Some(Resolved::Post(author, id))) => {
                return Ok(crate::web::see_other(&crate::urls::Urls::post(&author, id)));
            }
            Ok(None) => {}
            Err(e) => tracing::info!("looking up {q}: {e}"),
        }
    }
    let (mut posts, mut next, mut people, mut tags) = (Vec::new(), None, Vec::new(), Vec::new());
    if !q.trim().is_empty() {
        match kind {
            Kind::Posts => {
                let r = search::posts(core, ctx.viewer.as_ref(), &q, order, cursor).await?;
                posts = r.hits;
                next = r.next;
            }
            Kind::People => people = search::people(core, &q, core.config.limits.page_size).await?,
            Kind::Tags => tags = search::tags(core, &q, core.config.limits.page_size).await?,
        }
    }
    Ok(html(views::search(
        &ctx,
        &views::SearchPage {
            q: &q,
            kind,
            order,
            rebuilding: core.search.is_rebuilding(),
            posts: &posts,
            next,
            people: &people,
            tags: &tags,
        },
    )))
}

/// A query that names something on another server.
fn looks_remote(q: &str) -> bool {
    let q = q.trim();
    if q.starts_with("https://") || q.starts_with("http://") {
        return !q.contains(char::is_whitespace);
    }
    let h = q.strip_prefix('@').unwrap_or(q);
    matches!(h.split_once('@'), Some((n, d)) if !n.is_empty() && (d.contains('.') || d.contains(':')))
        && !h.contains(char::is_whitespace)
}

pub async fn explore(ctx: Ctx) -> AppResult<HttpResponse> {
    let e = trends::explore(&ctx.core, ctx.viewer.as_ref()).await?;
    Ok(html(views::explore(&ctx, &e)))
}

#[derive(Deserialize)]
pub struct SuggestParams {
    q: Option<String>,
}

/// `GET /search/suggest?q=@ali` (or `#we`): people or hashtags for the composer, as JSON.
pub async fn suggest(ctx: Ctx, p: web::Query<SuggestParams>) -> AppResult<HttpResponse> {
    let q = p.into_inner().q.unwrap_or_default();
    let s = search::autocomplete(&ctx.core, q.trim()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(s))
}

pub async fn tag(
    ctx: Ctx,
    tag: web::Path<String>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let tag = search::normalize_tag(&tag);
    if tag.is_empty() {
        return Err(AppError::NotFound);
    }
    let page = timeline::tag(&ctx.core, ctx.viewer.as_ref(), &tag, q.before).await?;
    let (count, following) = search::tag_header(&ctx.core, ctx.viewer.as_ref(), &tag).await?;
    let next = next_url(&Urls::tag(&tag), &[], page.next);
    Ok(html(views::tag(
        &ctx,
        &tag,
        count,
        following,
        &page.items,
        next,
    )))
}

#[derive(Deserialize)]
pub struct BackForm {
    back: Option<String>,
}

async fn set_tag_follow(
    ctx: Ctx,
    tag: &str,
    form: CsrfForm<BackForm>,
    on: bool,
) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let tag = search::normalize_tag(tag);
    search::set_tag_follow(&ctx.core, v, &tag, on).await?;
    if ctx.htmx {
        return Ok(html(views::tag_follow_button(&ctx, &tag, on)));
    }
    Ok(see_other(&safe_back(f.back.as_deref(), &Urls::tag(&tag))))
}

pub async fn follow_tag(
    ctx: Ctx,
    tag: web::Path<String>,
    form: CsrfForm<BackForm>,
) -> AppResult<HttpResponse> {
    set_tag_follow(ctx, &tag, form, true).await
}

pub async fn unfollow_tag(
    ctx: Ctx,
    tag: web::Path<String>,
    form: CsrfForm<BackForm>,
) -> AppResult<HttpResponse> {
    set_tag_follow(ctx, &tag, form, false).await
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn settings(ctx: Ctx, q: web::Query<SavedQuery>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let opted_out = search::is_opted_out(&ctx.core, v).await?;
    let tags = search::followed_tags(&ctx.core, v).await?;
    let msg = q
        .saved
        .is_some()
        .then_some(Notice::Info("Your search settings were saved."));
    Ok(html(views::settings(&ctx, opted_out, &tags, msg)))
}

#[derive(Deserialize)]
pub struct OptOutForm {
    opt_out: Option<String>,
}

pub async fn save_settings(ctx: Ctx, form: CsrfForm<OptOutForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let out = f.opt_out.is_some_and(|x| x == "1" || x == "on");
    search::set_opt_out(&ctx.core, v, out).await?;
    Ok(see_other("/settings/search?saved=1"))
}

pub async fn admin(ctx: Ctx, q: web::Query<SavedQuery>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let (tags, post_ids) = trends::hidden(&ctx.core, v).await?;
    let mut hidden_posts = Vec::new();
    for id in post_ids {
        if let Ok(p) = timeline::post(&ctx.core, Some(v), id).await {
            hidden_posts.push(p);
        }
    }
    let stats = ctx.core.search.stats();
    let msg = match q.saved.as_deref() {
        Some("rebuild") => Some(Notice::Info(
            "The rebuild started. This page shows its progress when you reload it.",
        )),
        Some(_) => Some(Notice::Info("Trends were updated.")),
        None => None,
    };
    Ok(html(views::admin(
        &ctx,
        &views::AdminSearch {
            stats: stats.as_ref(),
            rebuilding: ctx.core.search.is_rebuilding(),
            rebuilt: ctx.core.search.rebuilt_so_far(),
            hidden_tags: &tags,
            hidden_posts: &hidden_posts,
            notice: msg,
        },
    )))
}

pub async fn rebuild(ctx: Ctx, form: CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    if v.role() != crate::domain::Role::Admin {
        return Err(AppError::forbidden(
            "Only admins can rebuild the search index.",
        ));
    }
    if ctx.core.search.is_rebuilding() {
        return Err(AppError::Conflict(
            "The search index is already being rebuilt.".into(),
        ));
    }
    let core = ctx.core.clone();
    actix_web::rt::spawn(async move {
        let res = tokio::task::spawn_blocking(move || search::rebuild_blocking(&core)).await;
        if let Ok(Err(e)) = res {
            tracing::error!("rebuilding the search index: {e:#}");
        }
    });
    Ok(see_other("/admin/search?saved=rebuild"))
}

/// `hide` or `unhide` in a trends path.
fn hide_action(action: &str) -> AppResult<bool> {
    match action {
        "hide" => Ok(true),
        "unhide" => Ok(false),
        _ => Err(AppError::NotFound),
    }
}

/// Hiding is done from Explore, letting back in from the admin page: back where it was done.
fn after_trend_change(hidden: bool) -> HttpResponse {
    see_other(if hidden {
        "/explore"
    } else {
        "/admin/search?saved=trends"
    })
}

pub async fn trend_tag(
    ctx: Ctx,
    path: web::Path<(String, String)>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let (tag, action) = path.into_inner();
    let hidden = hide_action(&action)?;
    trends::set_tag_hidden(&ctx.core, v, &tag, hidden).await?;
    Ok(after_trend_change(hidden))
}

pub async fn trend_post(
    ctx: Ctx,
    path: web::Path<(String, String)>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let (id, action) = path.into_inner();
    let id = super::parse_post_id(&id)?;
    let hidden = hide_action(&action)?;
    trends::set_post_hidden(&ctx.core, v, id, hidden).await?;
    Ok(after_trend_change(hidden))
}
