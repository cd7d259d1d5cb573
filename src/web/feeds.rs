//! Feed pages: home, public, bookmarks, notifications (hashtag pages are in `search`).

use actix_web::{HttpResponse, web};

use super::extract::{CsrfForm, Ctx, PageQuery};
use super::views::components::ComposeState;
use super::views::pages;
use super::{html, see_other};
use crate::error::AppResult;
use crate::service::{notifications, timeline};

/// `/` is the home feed for people logged in, and the public feed for everyone else.
pub async fn home(ctx: Ctx, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let Some(v) = &ctx.viewer else {
        return public(ctx, q).await;
    };
    let page = timeline::home(&ctx.core, v, q.before).await?;
    Ok(html(pages::home(&ctx, &ComposeState::default(), &page)))
}

pub async fn public(ctx: Ctx, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let page = timeline::public(&ctx.core, ctx.viewer.as_ref(), q.before).await?;
    Ok(html(pages::public(&ctx, &page)))
}

pub async fn bookmarks(ctx: Ctx, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let page = timeline::bookmarks(&ctx.core, v, q.before).await?;
    Ok(html(pages::bookmarks(&ctx, &page)))
}

pub async fn notifications(ctx: Ctx, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let page = notifications::list(&ctx.core, v, q.before).await?;
    Ok(html(pages::notifications(&ctx, &page)))
}

#[derive(serde::Deserialize)]
pub struct MarkReadForm {
    up_to: Option<String>,
}

pub async fn mark_read(ctx: Ctx, form: CsrfForm<MarkReadForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let up_to = f.up_to.and_then(|s| s.parse().ok());
    notifications::mark_all_read(&ctx.core, v, up_to).await?;
    Ok(see_other("/notifications"))
}
