//! The admin page: instance settings, sign-up approvals, roles and verified badges.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, NoFields};
use super::views::Notice;
use super::views::pages::{self, AdminPage};
use super::{html, see_other};
use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::service::admin::{self, SettingsInput};

#[derive(Deserialize, Default)]
pub struct AdminQuery {
    before: Option<i64>,
    done: Option<String>,
}

pub async fn show(
    ctx: Ctx,
    q: web::Query<AdminQuery>,
    cache: web::Data<crate::web::page_cache::PageCache>,
) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    if !v.role().is_staff() {
        return Err(AppError::forbidden(
            "Only moderators and admins can see this page.",
        ));
    }
    let accounts = admin::list_accounts(&ctx.core, v, false, q.before).await?;
    let pending = admin::list_accounts(&ctx.core, v, true, None).await?;
    let notice = q.done.as_deref().map(|_| Notice::Info("Saved."));
    let is_admin = v.role() == crate::domain::Role::Admin;
    let jobs = if is_admin {
        Some(admin::jobs_overview(&ctx.core, v).await?)
    } else {
        None
    };
    Ok(html(pages::admin(
        &ctx,
        &AdminPage {
            accounts: &accounts,
            pending: &pending.items,
            notice,
            jobs: jobs.as_ref(),
            page_cache: is_admin.then(|| cache.stats()),
        },
    )))
}

#[derive(Deserialize)]
pub struct JobForm {
    #[serde(default)]
    action: String,
}

/// Retry or delete a dead job.
pub async fn job(ctx: Ctx, id: web::Path<i64>, form: CsrfForm<JobForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    admin::decide_dead_job(&ctx.core, v, *id, f.action == "retry").await?;
    Ok(see_other("/admin?done=1#jobs"))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    registration: String,
    login_required: Option<String>,
}

pub async fn save_settings(ctx: Ctx, form: CsrfForm<SettingsForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    admin::update_settings(
        &ctx.core,
        v,
        SettingsInput {
            name: f.name,
            description: f.description,
            registration: f.registration,
            login_required: f.login_required.is_some(),
        },
    )
    .await?;
    Ok(see_other("/admin?done=settings"))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<RoleForm>,
) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let role = Role::parse(&f.role)?;
    admin::set_role(&ctx.core, Some(v), &name, role).await?;
    Ok(see_other("/admin?done=role"))
}

#[derive(Deserialize)]
pub struct OnForm {
    on: Option<String>,
}

pub async fn verify(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<OnForm>,
) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    admin::set_verified(&ctx.core, v, &name, f.on.as_deref() != Some("0")).await?;
    Ok(see_other("/admin?done=verify"))
}

pub async fn approve(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    admin::decide_signup(&ctx.core, v, &name, true).await?;
    Ok(see_other("/admin?done=approve"))
}

pub async fn reject(
    ctx: Ctx,
    name: web::Path<String>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    admin::decide_signup(&ctx.core, v, &name, false).await?;
    Ok(see_other("/admin?done=reject"))
}

#[derive(Deserialize, Default)]
pub struct FederationQuery {
    done: Option<String>,
}

/// `/admin/federation`: the delivery queue, known servers, domain blocks.
pub async fn federation(ctx: Ctx, q: web::Query<FederationQuery>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let o = crate::service::federation::overview(&ctx.core, v).await?;
    let n = match q.done.as_deref() {
        Some("retry") => Some(Notice::Info(
            "Failures forgotten; its deliveries are queued again.",
        )),
        Some(_) => Some(Notice::Info("Saved.")),
        None => None,
    };
    Ok(html(super::views::federation::admin(&ctx, &o, n)))
}

#[derive(Deserialize)]
pub struct BlockForm {
    #[serde(default)]
    domain: String,
    #[serde(default)]
    level: i64,
}

pub async fn block_domain(ctx: Ctx, form: CsrfForm<BlockForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    crate::service::federation::block_domain(&ctx.core, v, f.domain, f.level).await?;
    Ok(see_other("/admin/federation?done=1#servers"))
}

#[derive(Deserialize)]
pub struct DomainForm {
    #[serde(default)]
    domain: String,
}

pub async fn retry_domain(ctx: Ctx, form: CsrfForm<DomainForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    crate::service::federation::retry_instance(&ctx.core, v, f.domain).await?;
    Ok(see_other("/admin/federation?done=retry#servers"))
}

#[derive(Deserialize)]
pub struct SecureForm {
    on: Option<String>,
}

pub async fn secure_mode(ctx: Ctx, form: CsrfForm<SecureForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    crate::service::federation::set_secure_mode(&ctx.core, v, f.on.is_some()).await?;
    Ok(see_other("/admin/federation?done=1#status"))
}
