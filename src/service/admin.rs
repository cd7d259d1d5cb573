//! What admins and moderators do: instance settings, roles, verified badges, approving
//! sign-ups.

use super::accounts::Viewer;
use super::{Core, InstanceSettings, Page};
use crate::domain::{self, RegistrationMode, Role, now_secs};
use crate::error::{AppError, AppResult};
use crate::store::models::{Account, AccountStatus};
use crate::store::{accounts, settings};

fn require_admin(viewer: &Viewer) -> AppResult<()> {
    if viewer.role() == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden("Only admins can do that."))
    }
}

fn require_staff(viewer: &Viewer) -> AppResult<()> {
    if viewer.role().is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only moderators and admins can do that.",
        ))
    }
}

#[derive(Debug, Clone)]
pub struct SettingsInput {
    pub name: String,
    pub description: String,
    pub registration: String,
    pub login_required: bool,
}

pub async fn update_settings(core: &Core, viewer: &Viewer, input: SettingsInput) -> AppResult<()> {
    require_admin(viewer)?;
    let name = domain::short_text(&input.name, 60, "The instance name")?;
    if name.is_empty() {
        return Err(AppError::invalid("Give the instance a name."));
    }
    let description = domain::long_text(&input.description, 1000, "The description")?;
    let registration = RegistrationMode::parse(&input.registration)?;
    let new = InstanceSettings {
        name,
        description,
        registration,
        login_required: input.login_required,
        secure_mode: false,
    };
    let s = new.clone();
    core.db
        .write(move |c| {
            settings::set(c, "name", &s.name)?;
            settings::set(c, "description", &s.description)?;
            settings::set(c, "registration", s.registration.as_str())?;
            settings::set(
                c,
                "login_required",
                if s.login_required { "true" } else { "false" },
            )?;
            Ok(())
        })
        .await?;
    core.update_settings(|s| {
        s.name = new.name;
        s.description = new.description;
        s.registration = new.registration;
        s.login_required = new.login_required;
    });
    Ok(())
}

/// Sets a role. Admins only; an admin cannot demote themself (the instance keeps an admin).
pub async fn set_role(
    core: &Core,
    viewer: Option<&Viewer>,
    username: &str,
    role: Role,
) -> AppResult<()> {
    if let Some(v) = viewer {
        require_admin(v)?;
        if v.account.username == username.to_ascii_lowercase() && role != Role::Admin {
            return Err(AppError::invalid(
                "You cannot remove your own admin role; ask another admin.",
            ));
        }
    }
    let account = super::accounts::find_by_username(core, username).await?;
    core.db
        .write(move |c| {
            accounts::set_role(c, account.id, role)?;
            // Checked inside the write: two admins demoting each other at once must not
            // leave the instance without one.
            let admins: i64 = c.query_row(
                "SELECT count(*) FROM accounts WHERE role = 2 AND status = 0",
                [],
                |r| r.get(0),
            )?;
            if admins == 0 {
                return Err(AppError::invalid(
                    "The instance must keep at least one admin.",
                ));
            }
            Ok(())
        })
        .await
}

pub async fn set_verified(
    core: &Core,
    viewer: &Viewer,
    username: &str,
    verified: bool,
) -> AppResult<()> {
    require_admin(viewer)?;
    let account = super::accounts::find_by_username(core, username).await?;
    let at = verified.then(now_secs);
    core.db
        .write(move |c| Ok(accounts::set_verified(c, account.id, at)?))
        .await?;
    Ok(())
}

/// Approves or rejects a pending sign-up. Moderators may do this too.
pub async fn decide_signup(
    core: &Core,
    viewer: &Viewer,
    username: &str,
    approve: bool,
) -> AppResult<()> {
    require_staff(viewer)?;
    let account = super::accounts::find_by_username(core, username).await?;
    if account.status != AccountStatus::Pending {
        return Err(AppError::Conflict(format!(
            "{} is not waiting for approval.",
            account.username
        )));
    }
    let ids = core.ids.clone();
    core.db
        .write(move |c| {
            if approve {
                accounts::set_status(c, account.id, AccountStatus::Active)?;
                super::search::queue_people(c, &ids, &[account.id])?;
            } else {
                accounts::delete_pending(c, account.id)?;
            }
            Ok(())
        })
        .await?;
    core.jobs.wake();
    Ok(())
}

pub async fn list_accounts(
    core: &Core,
    viewer: &Viewer,
    pending_only: bool,
    before: Option<i64>,
) -> AppResult<Page<Account>> {
    require_staff(viewer)?;
    let limit = core.config.limits.page_size * 2;
    let status = pending_only.then_some(AccountStatus::Pending);
    let items = core
        .db
        .read(move |c| {
            Ok(accounts::list(
                c,
                status,
                before.unwrap_or(i64::MAX),
                limit,
            )?)
        })
        .await?;
    let next = super::next_cursor(&items, limit, |a| a.id.0);
    Ok(Page { items, next })
}

/// What the job queue is doing, for the admin page.
#[derive(Debug, Clone, Default)]
pub struct JobsOverview {
    /// (kind, queued, dead)
    pub counts: Vec<(String, i64, i64)>,
    pub dead: Vec<crate::store::jobs::DeadJob>,
    /// Accounts with a bounded home feed.
    pub home_feeds: i64,
}

pub async fn jobs_overview(core: &Core, viewer: &Viewer) -> AppResult<JobsOverview> {
    require_admin(viewer)?;
    core.db
        .read(|c| {
            Ok(JobsOverview {
                counts: crate::store::jobs::counts(c)?,
                dead: crate::store::jobs::list_dead(c, 50)?,
                home_feeds: crate::store::home::feed_count(c)?,
            })
        })
        .await
}

/// Puts a dead job back in the queue, or deletes it.
pub async fn decide_dead_job(core: &Core, viewer: &Viewer, id: i64, retry: bool) -> AppResult<()> {
    require_admin(viewer)?;
    let now_ms = crate::domain::now_secs() * 1000;
    let found = core
        .db
        .write(move |c| {
            Ok(if retry {
                crate::store::jobs::retry_dead(c, id, now_ms)?
            } else {
                crate::store::jobs::delete_dead(c, id)?
            })
        })
        .await?;
    core.jobs.wake();
    if found {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
