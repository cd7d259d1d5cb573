//! The one error type at the edges and its mapping to HTTP. This is the only place that knows
//! status codes, and it never shows an internal cause to a client: those go to the log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::{DOCTYPE, html};

use crate::domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("login required")]
    Unauthorized,
    /// Bad input; the message is safe and written for the person who sent it.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too large")]
    TooLarge,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("the form has expired")]
    Csrf,
    #[error("unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::Invalid(e.0)
    }
}

impl AppError {
    pub fn forbidden(msg: impl Into<String>) -> Self {
        AppError::Forbidden(msg.into())
    }
    pub fn invalid(msg: impl Into<String>) -> Self {
        AppError::Invalid(msg.into())
    }

    /// A title and a sentence that tells the person what to do next.
    pub fn public_message(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => (
                "Not found",
                "This page does not exist, or it is not visible to you.".into(),
            ),
            AppError::Forbidden(m) => ("Not allowed", m.clone()),
            AppError::Unauthorized => ("Log in first", "You need to log in to do that.".into()),
            AppError::Invalid(m) => ("Check what you entered", m.clone()),
            AppError::Conflict(m) => ("Already done", m.clone()),
            AppError::TooLarge => (
                "Too large",
                "What you sent is larger than this instance accepts. Send something smaller."
                    .into(),
            ),
            AppError::RateLimited { retry_after_secs } => (
                "Slow down",
                format!(
                    "Too many attempts. Try again in {} minute(s).",
                    retry_after_secs.div_ceil(60).max(1)
                ),
            ),
            AppError::Csrf => (
                "The form has expired",
                "Go back, reload the page and submit the form again.".into(),
            ),
            AppError::Unavailable => (
                "Unavailable",
                "The instance is busy or shutting down. Try again in a moment.".into(),
            ),
            AppError::Internal(_) => (
                "Something went wrong",
                "An internal error happened on our side; it has been logged. Try again later."
                    .into(),
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(e) = self {
            tracing::error!("internal error: {e:#}");
        }
        let status = self.status_code();
        let (title, message) = self.public_message();
        let mut resp = HttpResponse::build(status);
        if let AppError::RateLimited { retry_after_secs } = self {
            resp.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        resp.content_type("text/html; charset=utf-8")
            .body(error_page(status, title, &message).into_string())
    }
}

/// A page in the site's style for any error, standalone so it renders even when the request
/// never reached a handler (bad path, oversized body).
pub fn error_page(status: StatusCode, title: &str, message: &str) -> maud::Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · weft" }
                link rel="stylesheet" href=(crate::assets::url("style.css"));
                link rel="icon" href=(crate::assets::url("favicon.svg")) type="image/svg+xml";
            }
            body {
                header.topbar { nav.nav aria-label="Main" { a.brand href="/" { "weft" } } }
                main.main {
                    section.error-page {
                        p.error-code { (status.as_u16()) }
                        h1 { (title) }
                        p { (message) }
                        @if status == StatusCode::UNAUTHORIZED {
                            p { a.button.primary href="/login" { "Log in" } " " a.button href="/signup" { "Sign up" } }
                        } @else {
                            p { a.button href="/" { "Go to the home page" } }
                        }
                    }
                }
            }
        }
    }
}
