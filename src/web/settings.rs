//! The settings page: profile, password, sessions.

use std::collections::HashMap;

use actix_web::HttpResponse;
use serde::Deserialize;

use super::extract::{CsrfForm, CsrfUpload, Ctx, NoFields, Verified};
use super::upload::FilePart;
use super::views;
use super::views::Notice;
use super::views::pages::{self, ProfileFormState, SettingsPage};
use super::{form_error, html, rerender, see_other};
use crate::error::{AppError, AppResult};
use crate::service::accounts::{self, ProfileInput, Viewer};
use crate::service::{federation, media};

fn profile_state(v: &Viewer) -> ProfileFormState {
    ProfileFormState {
        display_name: v.account.display_name.clone(),
        bio: v.account.bio.clone(),
        fields: v.account.fields.clone(),
        locked: v.account.locked,
        bot: v.account.bot,
    }
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    saved: Option<String>,
}

pub async fn show(ctx: Ctx, q: actix_web::web::Query<SettingsQuery>) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let sessions = accounts::sessions(&ctx.core, v).await?;
    let msg = match q.saved.as_deref() {
        Some("profile") => Some(Notice::Info("Your profile was saved.")),
        Some("password") => Some(Notice::Info(
            "Your password was changed, and your other sessions were logged out.",
        )),
        Some("sessions") => Some(Notice::Info("All your other sessions were logged out.")),
        Some("pictures") => Some(Notice::Info("Your pictures were saved.")),
        _ => None,
    };
    Ok(html(pages::settings(
        &ctx,
        &SettingsPage {
            profile: profile_state(v),
            sessions: &sessions,
            notice: msg,
            section_error: None,
        },
    )))
}

pub async fn save_profile(
    ctx: Ctx,
    form: CsrfForm<HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let max = ctx.core.config.limits.profile_fields;
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let fields: Vec<(String, String)> = (0..max)
        .map(|i| {
            (
                get(&format!("field_name_{i}")),
                get(&format!("field_value_{i}")),
            )
        })
        .collect();
    let input = ProfileInput {
        display_name: get("display_name"),
        bio: get("bio"),
        fields: fields.clone(),
        locked: f.get("locked").is_some_and(|x| x == "1" || x == "on"),
        bot: f.get("bot").is_some_and(|x| x == "1" || x == "on"),
    };
    let kept = ProfileFormState {
        display_name: input.display_name.clone(),
        bio: input.bio.clone(),
        fields,
        locked: input.locked,
        bot: input.bot,
    };
    match accounts::update_profile(&ctx.core, v, input).await {
        Ok(()) => Ok(see_other("/settings?saved=profile")),
        Err(e) => {
            let Some(msg) = form_error(&e) else {
                return Err(e);
            };
            let sessions = accounts::sessions(&ctx.core, v).await?;
            Ok(rerender(
                &e,
                pages::settings(
                    &ctx,
                    &SettingsPage {
                        profile: kept,
                        sessions: &sessions,
                        notice: None,
                        section_error: Some(("profile", msg)),
                    },
                ),
            ))
        }
    }
}

/// Avatar and header: a new file replaces the picture, a ticked box removes it.
pub async fn save_pictures(
    ctx: Ctx,
    form: CsrfUpload<HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    let Verified { form: f, files, .. } = form.verify_full(&ctx)?;
    let v = ctx.require_viewer()?;
    let result = async {
        for which in ["avatar", "header"] {
            if f.contains_key(&format!("remove_{which}")) {
                media::set_profile_image(&ctx.core, v, which == "header", None).await?;
            }
        }
        for part in files {
            let header = match part.field() {
                "avatar" => false,
                "header" => true,
                _ => continue,
            };
            match part {
                FilePart::Ready { file, .. } => {
                    media::set_profile_image(&ctx.core, v, header, Some(file)).await?;
                }
                FilePart::Refused { name, reason, .. } => {
                    return Err(AppError::Invalid(format!("{name}: {reason}")));
                }
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other("/settings?saved=pictures")),
        Err(e) => {
            let Some(msg) = form_error(&e) else {
                return Err(e);
            };
            let sessions = accounts::sessions(&ctx.core, v).await?;
            Ok(rerender(
                &e,
                pages::settings(
                    &ctx,
                    &SettingsPage {
                        profile: profile_state(v),
                        sessions: &sessions,
                        notice: None,
                        section_error: Some(("pictures", msg)),
                    },
                ),
            ))
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(ctx: Ctx, form: CsrfForm<PasswordForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    match accounts::change_password(&ctx.core, v, &f.current_password, &f.new_password).await {
        Ok(()) => Ok(see_other("/settings?saved=password")),
        Err(e) => section_error(&ctx, v, e, "password").await,
    }
}

pub async fn logout_others(ctx: Ctx, form: CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    accounts::logout_others(&ctx.core, v).await?;
    Ok(see_other("/settings?saved=sessions"))
}

#[derive(serde::Deserialize, Default)]
pub struct MigrationQuery {
    done: Option<String>,
}

/// `/settings/migration`: aliases (to move here) and moving away.
pub async fn migration(
    ctx: Ctx,
    q: actix_web::web::Query<MigrationQuery>,
) -> AppResult<HttpResponse> {
    let v = ctx.require_viewer()?;
    let (moved, aliases) = federation::migration(&ctx.core, v.id()).await?;
    let n = match q.done.as_deref() {
        Some("aliases") => Some(Notice::Info("Saved.")),
        Some("moved") => Some(Notice::Info("Your followers are being moved.")),
        _ => None,
    };
    Ok(html(views::federation::migration(
        &ctx,
        moved.as_deref(),
        &aliases,
        n,
        ("", ""),
    )))
}

#[derive(serde::Deserialize)]
pub struct AliasesForm {
    #[serde(default)]
    aliases: String,
}

pub async fn save_aliases(ctx: Ctx, form: CsrfForm<AliasesForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    let handles: Vec<String> = f
        .aliases
        .split([',', '\n'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    match federation::set_aliases(&ctx.core, v, handles).await {
        Ok(_) => Ok(see_other("/settings/migration?done=aliases")),
        Err(e) => migration_error(&ctx, v, e, (&f.aliases, "")).await,
    }
}

#[derive(serde::Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    target: String,
    #[serde(default)]
    password: String,
}

pub async fn move_account(ctx: Ctx, form: CsrfForm<MoveForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    match federation::move_account(&ctx.core, v, &f.target, &f.password).await {
        Ok(()) => Ok(see_other("/settings/migration?done=moved")),
        Err(e) => migration_error(&ctx, v, e, ("", &f.target)).await,
    }
}

/// The page again with what was typed and what to do about the error.
async fn migration_error(
    ctx: &Ctx,
    v: &crate::service::accounts::Viewer,
    e: crate::error::AppError,
    typed: (&str, &str),
) -> AppResult<HttpResponse> {
    let Some(msg) = crate::web::form_error(&e) else {
        return Err(e);
    };
    let (moved, aliases) = federation::migration(&ctx.core, v.id()).await?;
    Ok(crate::web::rerender(
        &e,
        views::federation::migration(
            ctx,
            moved.as_deref(),
            &aliases,
            Some(Notice::Error(&msg)),
            typed,
        ),
    ))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    password: String,
}

/// Deletes the viewer's account (password confirmed) and logs them out.
pub async fn delete_account(ctx: Ctx, form: CsrfForm<DeleteForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let v = ctx.require_viewer()?;
    match accounts::delete_account(&ctx.core, v, &f.password).await {
        Ok(()) => {
            let mut resp = see_other("/");
            let _ = resp.add_cookie(&crate::web::clear_session_cookie(&ctx.core));
            Ok(resp)
        }
        Err(e) => section_error(&ctx, v, e, "delete").await,
    }
}

/// The settings page again with `e` shown in `section` (its form's own error).
async fn section_error(
    ctx: &Ctx,
    v: &Viewer,
    e: AppError,
    section: &'static str,
) -> AppResult<HttpResponse> {
    let Some(msg) = form_error(&e) else {
        return Err(e);
    };
    let sessions = accounts::sessions(&ctx.core, v).await?;
    Ok(rerender(
        &e,
        pages::settings(
            ctx,
            &SettingsPage {
                profile: profile_state(v),
                sessions: &sessions,
                notice: None,
                section_error: Some((section, msg)),
            },
        ),
    ))
}
