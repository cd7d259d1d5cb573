//! Sign-up, log-in and log-out pages.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Deserialize;

use super::extract::{CsrfForm, Ctx, NoFields};
use super::views::pages::{self, SignupState};
use super::{
    clear_session_cookie, form_error, html, html_status, rerender, see_other, session_cookie,
};
use crate::error::AppResult;
use crate::service::accounts::{self, SignupInput, SignupOutcome};

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn login_page(ctx: Ctx) -> AppResult<HttpResponse> {
    if ctx.viewer.is_some() {
        return Ok(see_other("/"));
    }
    Ok(html(pages::login(&ctx, "", None, None)))
}

pub async fn login(ctx: Ctx, form: CsrfForm<LoginForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    match accounts::login(&ctx.core, &f.username, &f.password, &ctx.client).await {
        Ok(token) => {
            let mut resp = see_other("/");
            let _ = resp.add_cookie(&session_cookie(&ctx.core, &token));
            Ok(resp)
        }
        Err(e) => match form_error(&e) {
            Some(msg) => Ok(rerender(
                &e,
                pages::login(&ctx, &f.username, Some(&msg), None),
            )),
            None => Err(e),
        },
    }
}

#[derive(Deserialize, Default)]
pub struct SignupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    reason: String,
}

pub async fn signup_page(ctx: Ctx) -> AppResult<HttpResponse> {
    if ctx.viewer.is_some() {
        return Ok(see_other("/"));
    }
    Ok(html(pages::signup(&ctx, &SignupState::default())))
}

pub async fn signup(ctx: Ctx, form: CsrfForm<SignupForm>) -> AppResult<HttpResponse> {
    let f = form.verify(&ctx)?;
    let input = SignupInput {
        username: f.username.clone(),
        password: f.password,
        email: f.email.clone(),
        reason: f.reason.clone(),
    };
    match accounts::signup(&ctx.core, input, &ctx.client).await {
        Ok(SignupOutcome::LoggedIn(token)) => {
            let mut resp = see_other("/");
            let _ = resp.add_cookie(&session_cookie(&ctx.core, &token));
            Ok(resp)
        }
        Ok(SignupOutcome::Pending) => Ok(html_status(
            StatusCode::ACCEPTED,
            pages::login(
                &ctx,
                &f.username,
                None,
                Some(
                    "Your account was created. An admin will review it; you can log in once it is approved.",
                ),
            ),
        )),
        Err(e) => match form_error(&e) {
            Some(msg) => Ok(rerender(
                &e,
                pages::signup(
                    &ctx,
                    &SignupState {
                        username: f.username,
                        email: f.email,
                        reason: f.reason,
                        error: Some(msg),
                    },
                ),
            )),
            None => Err(e),
        },
    }
}

pub async fn logout(ctx: Ctx, form: CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    form.verify(&ctx)?;
    if let Some(v) = &ctx.viewer {
        accounts::logout(&ctx.core, v).await?;
    }
    let mut resp = see_other("/");
    let _ = resp.add_cookie(&clear_session_cookie(&ctx.core));
    Ok(resp)
}
