//! Posting, threads, and the actions on a post (like, repost, bookmark, hide, edit, delete).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::extract::{CsrfForm, CsrfUpload, Ctx, NoFields, Verified};
use super::upload::FilePart;
use super::views::components::{self, ComposeMedia, ComposeState};
use super::views::pages;
use super::{form_error, html, html_status, parse_post_id, rerender, safe_back, see_other};
use crate::domain::{PostId, ReplyPolicy, Visibility};
use crate::error::{AppError, AppResult};
use crate::service::media as media_service;
use crate::service::posts::{self as post_service, NewPost};
use crate::service::timeline;
use crate::urls::Urls;

#[derive(Deserialize, Default)]
pub struct PostForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    content_warning: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    reply_policy: String,
    #[serde(default)]
    in_reply_to: String,
    #[serde(default)]
    quote_of: String,
    back: Option<String>,
}

fn optional_id(s: &str) -> AppResult<Option<PostId>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| AppError::invalid("That post does not exist."))
}

#[derive(Deserialize, Default)]
pub struct ComposeQuery {
    reply_to: Option<String>,
    quote: Option<String>,
}

pub async fn compose(ctx: Ctx, q: web::Query<ComposeQuery>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let state = ComposeState {
        in_reply_to: optional_id(q.reply_to.as_deref().unwrap_or(""))?,
        quote_of: optional_id(q.quote.as_deref().unwrap_or(""))?,
        ..Default::default()
    };
    let context = match state.in_reply_to.or(state.quote_of) {
        Some(id) => Some(timeline::post(&ctx.core, Some(v), id).await?),
        None => None,
    };
    Ok(html(pages::compose(&ctx, &state, context.as_ref())))
}

/// Reads the composer's attachments from the form: uploads waiting from earlier steps (in
/// order, with their descriptions), minus one the person removed.
async fn compose_media(
    ctx: &Ctx,
    v: &crate::service::accounts::Viewer,
    pairs: &[(String, String)],
) -> AppResult<Vec<ComposeMedia>> {
    let field = |name: String| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    let mut ids: Vec<i64> = Vec::new();
    for id in pairs
        .iter()
        .filter(|(k, _)| k == "media_id")
        .filter_map(|(_, v)| v.parse::<i64>().ok())
    {
        if field(format!("remove_{id}")).is_some() {
            media_service::remove_waiting(&ctx.core, v, id).await?;
        } else if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(media_service::waiting(&ctx.core, v, ids)
        .await?
        .into_iter()
        .map(|m| ComposeMedia {
            alt: field(format!("alt_{}", m.id)).unwrap_or_default(),
            sensitive: field(format!("sensitive_{}", m.id)).is_some(),
            view: m,
        })
        .collect())
}

pub async fn create(ctx: Ctx, form: CsrfUpload<PostForm>) -> AppResult<HttpResponse> {
    let Verified {
        form: f,
        pairs,
        files,
    } = form.verify_full(&ctx)?;
    let v = ctx.require_viewer()?;
    let mut state = ComposeState {
        body: f.body.clone(),
        content_warning: f.content_warning.clone(),
        visibility: Visibility::parse(&f.visibility).ok(),
        reply_policy: ReplyPolicy::parse(&f.reply_policy).ok(),
        in_reply_to: optional_id(&f.in_reply_to).ok().flatten(),
        quote_of: optional_id(&f.quote_of).ok().flatten(),
        error: None,
        media: Vec::new(),
    };
    let attach_only = pairs.iter().any(|(k, v)| k == "action" && v == "attach");
    let result = async {
        state.media = compose_media(&ctx, v, &pairs).await?;
        // New files: all must be good, or none is kept.
        let mut ready = Vec::new();
        for part in files {
            match part {
                FilePart::Ready { file, .. } => ready.push(file),
                FilePart::Refused { name, reason, .. } => {
                    return Err(AppError::Invalid(format!("{name}: {reason}")));
                }
            }
        }
        let max = ctx.core.config.media.attachments_per_post;
        if state.media.len() + ready.len() > max {
            return Err(AppError::Invalid(format!(
                "A post can have at most {max} photos or videos."
            )));
        }
        let new_ids = media_service::upload(&ctx.core, v, ready).await?;
        for m in media_service::waiting(&ctx.core, v, new_ids).await? {
            state.media.push(ComposeMedia {
                view: m,
                alt: String::new(),
                sensitive: false,
            });
        }
        if attach_only {
            return Ok(None);
        }
        let input = NewPost {
            body: f.body.clone(),
            content_warning: f.content_warning.clone(),
            visibility: Visibility::parse(&f.visibility)?,
            reply_policy: ReplyPolicy::parse(&f.reply_policy)?,
            in_reply_to: optional_id(&f.in_reply_to)?,
            quote_of: optional_id(&f.quote_of)?,
            media: state
                .media
                .iter()
                .map(|m| (m.view.id, m.alt.trim().to_string(), m.sensitive))
                .collect(),
        };
        post_service::create(&ctx.core, v, input).await.map(Some)
    }
    .await;
    let result = match result {
        Ok(None) => {
            // Attached (or removed) files: the composer again, with previews to describe.
            let context = match state.in_reply_to.or(state.quote_of) {
                Some(id) => timeline::post(&ctx.core, Some(v), id).await.ok(),
                None => None,
            };
            if ctx.htmx
                && let Some(parent) = context.as_ref().filter(|_| state.in_reply_to.is_some())
            {
                return Ok(html(components::reply_box(&ctx, parent, &state)));
            }
            return Ok(html(pages::compose(&ctx, &state, context.as_ref())));
        }
        Ok(Some(created)) => Ok(created),
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => match state.in_reply_to {
            Some(parent_id) if ctx.htmx => {
                let parent = timeline::post(&ctx.core, Some(v), parent_id).await?;
                let reply = timeline::post(&ctx.core, Some(v), created.id).await?;
                Ok(html(pages::reply_posted(&ctx, &parent, &reply)))
            }
            Some(parent_id) => {
                let parent = timeline::post(&ctx.core, Some(v), parent_id).await?;
                Ok(see_other(&format!(
                    "{}#p-{}",
                    Urls::post(&parent.author.username, parent.id),
                    created.id
                )))
            }
            None => Ok(see_other(&safe_back(f.back.as_deref(), "/"))),
        },
        Err(e) => {
            let Some(msg) = form_error(&e) else {
                return Err(e);
            };
            state.error = Some(msg);
            let context_id = state.in_reply_to.or(state.quote_of);
            let context = match context_id {
                Some(id) => timeline::post(&ctx.core, Some(v), id).await.ok(),
                None => None,
            };
            if ctx.htmx
                && let Some(parent) = context.as_ref().filter(|_| state.in_reply_to.is_some())
            {
                // htmx swaps 422 answers only: the reply box comes back with the error and text.
                return Ok(html_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    components::reply_box(&ctx, parent, &state),
                ));
            }
            Ok(rerender(&e, pages::compose(&ctx, &state, context.as_ref())))
        }
    }
}

pub async fn thread(ctx: Ctx, path: web::Path<(String, String)>) -> AppResult<HttpResponse> {
    let (name, id) = path.into_inner();
    let id = parse_post_id(&id)?;
    let t = timeline::thread(&ctx.core, ctx.viewer.as_ref(), id).await?;
    if t.post.author.username != name.to_ascii_lowercase() {
        return Ok(HttpResponse::Found()
            .insert_header(("Location", Urls::post(&t.post.author.username, id)))
            .finish());
    }
    Ok(html(pages::thread(&ctx, &t, &ComposeState::default())))
}

#[derive(Deserialize)]
pub struct ToggleForm {
    on: Option<String>,
    back: Option<String>,
    can_hide: Option<String>,
}

#[derive(Clone, Copy)]
enum Toggle {
    Like,
    Repost,
    Bookmark,
    Hide,
}

async fn toggle(
    ctx: Ctx,
    id: String,
    form: CsrfForm<ToggleForm>,
    what: Toggle,
) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let id = parse_post_id(&id)?;
    let on = f.on.as_deref() != Some("0");
    let core = &ctx.core;
    match what {
        Toggle::Like => post_service::set_like(core, v, id, on).await?,
        Toggle::Repost => post_service::set_repost(core, v, id, on).await?,
        Toggle::Bookmark => post_service::set_bookmark(core, v, id, on).await?,
        Toggle::Hide => post_service::set_hidden(core, v, id, on).await?,
    }
    if ctx.htmx {
        let p = timeline::post(core, Some(v), id).await?;
        return Ok(html(components::actions(&ctx, &p, f.can_hide.is_some())));
    }
    Ok(see_other(&safe_back(f.back.as_deref(), "/")))
}

pub async fn like(
    ctx: Ctx,
    id: web::Path<String>,
    form: CsrfForm<ToggleForm>,
) -> AppResult<HttpResponse> {
    toggle(ctx, id.into_inner(), form, Toggle::Like).await
}
pub async fn repost(
    ctx: Ctx,
    id: web::Path<String>,
    form: CsrfForm<ToggleForm>,
) -> AppResult<HttpResponse> {
    toggle(ctx, id.into_inner(), form, Toggle::Repost).await
}
pub async fn bookmark(
    ctx: Ctx,
    id: web::Path<String>,
    form: CsrfForm<ToggleForm>,
) -> AppResult<HttpResponse> {
    toggle(ctx, id.into_inner(), form, Toggle::Bookmark).await
}
pub async fn hide(
    ctx: Ctx,
    id: web::Path<String>,
    form: CsrfForm<ToggleForm>,
) -> AppResult<HttpResponse> {
    toggle(ctx, id.into_inner(), form, Toggle::Hide).await
}

async fn own_post(ctx: &Ctx, name: &str, id: &str) -> AppResult<crate::store::models::PostView> {
    let v = ctx.require_viewer()?;
    let id = parse_post_id(id)?;
    let p = timeline::post(&ctx.core, Some(v), id).await?;
    if p.author.username != name.to_ascii_lowercase() || p.deleted {
        return Err(AppError::NotFound);
    }
    if p.author.id != v.id() {
        return Err(AppError::forbidden("You can only edit your own posts."));
    }
    Ok(p)
}

pub async fn edit_page(ctx: Ctx, path: web::Path<(String, String)>) -> AppResult<HttpResponse> {
    let (name, id) = path.into_inner();
    let p = own_post(&ctx, &name, &id).await?;
    Ok(html(pages::edit(
        &ctx,
        &p,
        &p.body,
        &p.content_warning,
        None,
    )))
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    content_warning: String,
}

pub async fn save_edit(
    ctx: Ctx,
    id: web::Path<String>,
    form: CsrfForm<EditForm>,
) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let id = parse_post_id(&id)?;
    match post_service::edit(&ctx.core, v, id, &f.body, &f.content_warning).await {
        Ok(()) => {
            let p = timeline::post(&ctx.core, Some(v), id).await?;
            Ok(see_other(&Urls::post(&p.author.username, id)))
        }
        Err(e) => {
            let Some(msg) = form_error(&e) else {
                return Err(e);
            };
            let p = timeline::post(&ctx.core, Some(v), id).await?;
            Ok(rerender(
                &e,
                pages::edit(&ctx, &p, &f.body, &f.content_warning, Some(&msg)),
            ))
        }
    }
}

pub async fn history(ctx: Ctx, path: web::Path<(String, String)>) -> AppResult<HttpResponse> {
    let (name, id) = path.into_inner();
    let id = parse_post_id(&id)?;
    let p = timeline::post(&ctx.core, ctx.viewer.as_ref(), id).await?;
    if p.author.username != name.to_ascii_lowercase() || p.deleted {
        return Err(AppError::NotFound);
    }
    let edits = post_service::history(&ctx.core, ctx.viewer.as_ref(), id).await?;
    Ok(html(pages::history(&ctx, &p, &edits)))
}

pub async fn confirm_delete(ctx: Ctx, id: web::Path<String>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let id = parse_post_id(&id)?;
    let p = timeline::post(&ctx.core, Some(v), id).await?;
    if p.deleted {
        return Err(AppError::NotFound);
    }
    if p.author.id != v.id() && !v.role().is_staff() {
        return Err(AppError::forbidden("You can only delete your own posts."));
    }
    Ok(html(pages::delete_confirm(&ctx, &p)))
}

pub async fn delete(
    ctx: Ctx,
    id: web::Path<String>,
    form: CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let id = parse_post_id(&id)?;
    post_service::delete(&ctx.core, v, id).await?;
    Ok(see_other(&Urls::profile(&v.account.username)))
}

#[derive(Deserialize)]
pub struct PinForm {
    on: Option<String>,
}

/// Pins a post to its author's profile, or unpins it.
pub async fn pin(
    ctx: Ctx,
    id: web::Path<String>,
    form: CsrfForm<PinForm>,
) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let id = parse_post_id(&id)?;
    post_service::set_pinned(&ctx.core, v, id, f.on.as_deref() != Some("0")).await?;
    Ok(see_other(&Urls::profile(&v.account.username)))
}
