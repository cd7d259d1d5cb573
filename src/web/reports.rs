//! Reporting a post, and the moderators' queue of reports.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, NoFields};
use super::views::reports as views;
use super::{form_error, html, parse_post_id, rerender, see_other};
use crate::error::AppResult;
use crate::service::{reports, timeline};

pub async fn page(ctx: Ctx, id: web::Path<String>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let p = timeline::post(&ctx.core, Some(v), parse_post_id(&id)?).await?;
    Ok(html(views::report_form(&ctx, &p, "", true, None)))
}

#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    reason: String,
    forward: Option<String>,
}

pub async fn create(
    ctx: Ctx,
    id: web::Path<String>,
    form: CsrfForm<ReportForm>,
) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let id = parse_post_id(&id)?;
    let forward = f.forward.is_some();
    match reports::report_post(&ctx.core, v, id, &f.reason, forward).await {
        Ok(()) => Ok(html(views::thanks(&ctx))),
        Err(e) => match form_error(&e) {
            Some(msg) => {
                let p = timeline::post(&ctx.core, Some(v), id).await?;
                Ok(rerender(
                    &e,
                    views::report_form(&ctx, &p, &f.reason, forward, Some(&msg)),
                ))
            }
            None => Err(e),
        },
    }
}

pub async fn queue(ctx: Ctx) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let list = reports::list(&ctx.core, v).await?;
    Ok(html(views::queue(&ctx, &list)))
}

pub async fn resolve(
    ctx: Ctx,
    id: web::Path<i64>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    reports::resolve(&ctx.core, v, *id).await?;
    Ok(see_other("/admin/reports"))
}
