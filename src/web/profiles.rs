//! Profiles, follower lists, following and follow requests.

use actix_web::{HttpResponse, web};

use super::extract::{CsrfForm, Ctx, NoFields, PageQuery};
use super::views::components;
use super::views::pages::{self, ListPage};
use super::{html, see_other};
use crate::error::{AppError, AppResult};
use crate::service::accounts;
use crate::service::follows::{self, ListKind};
use crate::service::timeline;
use crate::store::feeds::ProfileTab;
use crate::store::models::{Account, AccountStatus};
use crate::urls::Urls;

async fn visible_account(ctx: &Ctx, name: &str) -> AppResult<Account> {
    let a = accounts::find_by_username(&ctx.core, name).await?;
    if a.status != AccountStatus::Active {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

pub async fn show(
    ctx: Ctx,
    name: web::Path<String>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let tab = ProfileTab::parse(q.tab.as_deref());
    let p = timeline::profile_page(&ctx.core, ctx.viewer.as_ref(), &name, tab, q.before).await?;
    if *name != p.account.username {
        return Ok(HttpResponse::Found()
            .insert_header(("Location", Urls::profile(&p.account.username)))
            .finish());
    }
    Ok(html(pages::profile(
        &ctx,
        &p.account,
        &p.relationship,
        tab,
        &p.page,
        p.moved_to.as_deref(),
        &p.pinned,
    )))
}

async fn list(
    ctx: Ctx,
    name: &str,
    kind: ListPage,
    before: Option<i64>,
) -> AppResult<HttpResponse> {
    let a = visible_account(&ctx, name).await?;
    let svc_kind = match kind {
        ListPage::Followers => ListKind::Followers,
        ListPage::Following => ListKind::Following,
    };
    let page = follows::list(&ctx.core, a.id, svc_kind, before).await?;
    Ok(html(pages::account_list(&ctx, &a, kind, &page)))
}

pub async fn followers(
    ctx: Ctx,
    name: web::Path<String>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    list(ctx, &name, ListPage::Followers, q.before).await
}

pub async fn following(
    ctx: Ctx,
    name: web::Path<String>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    list(ctx, &name, ListPage::Following, q.before).await
}

/// After a follow change: the new button for htmx, or back to the profile.
async fn after_follow_change(ctx: &Ctx, name: &str) -> AppResult<HttpResponse> {
    if ctx.htmx {
        let a = visible_account(ctx, name).await?;
        let rel = follows::relationship(&ctx.core, ctx.viewer.as_ref(), a.id).await?;
        return Ok(html(components::follow_button(ctx, &a, &rel)));
    }
    Ok(see_other(&Urls::profile(&name.to_ascii_lowercase())))
}

pub async fn follow(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    follows::follow(&ctx.core, v, &name).await?;
    after_follow_change(&ctx, &name).await
}

pub async fn unfollow(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    follows::unfollow(&ctx.core, v, &name).await?;
    after_follow_change(&ctx, &name).await
}

pub async fn remove_follower(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    follows::remove_follower(&ctx.core, v, &name).await?;
    Ok(see_other(&format!("/@{}/followers", v.account.username)))
}

pub async fn requests(ctx: Ctx, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let page = follows::requests(&ctx.core, v, q.before).await?;
    Ok(html(pages::follow_requests(&ctx, &page)))
}

pub async fn accept(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    follows::accept(&ctx.core, v, &name).await?;
    Ok(see_other("/follow_requests"))
}

pub async fn reject(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    follows::reject(&ctx.core, v, &name).await?;
    Ok(see_other("/follow_requests"))
}

/// Blocks (`/@name/block`) or unblocks (`/@name/unblock`) someone.
pub async fn block(
    ctx: Ctx,
    path: web::Path<(String, String)>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let (name, action) = path.into_inner();
    crate::service::blocks::block(&ctx.core, v, &name, action == "block").await?;
    Ok(see_other(&Urls::profile(&name.to_ascii_lowercase())))
}
