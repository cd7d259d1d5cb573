//! The admin's federation page: whether it is on, the delivery queue, the servers this one
//! talks with (failures, blocks) and the domain-block form.

use maud::{Markup, html};

use super::{Notice, notice, page};
use crate::service::federation::FederationOverview;
use crate::web::extract::Ctx;

fn when(t: Option<i64>) -> Markup {
    match t {
        Some(t) => super::time(t),
        None => html! { "—" },
    }
}

fn level(b: i64) -> &'static str {
    match b {
        2 => "Suspended",
        1 => "Silenced",
        _ => "",
    }
}

pub fn admin(ctx: &Ctx, o: &FederationOverview, n: Option<Notice<'_>>) -> Markup {
    let cfg = &ctx.core.config.federation;
    let body = html! {
        div.page-head { h1 { "Federation" } }
        p { a href="/admin" { "← Administration" } }
        @if let Some(n) = &n { (notice(n)) }
        section.settings-section #status {
            h2 { "Status" }
            @if cfg.enabled {
                p { "Federation is on: people elsewhere find this instance as " strong { (ctx.core.urls.host()) } "." }
                @if cfg.allow_private_addresses {
                    p.notice.error role="alert" { "allow_private_addresses is on: this server fetches from loopback and private addresses. Use it for development and tests only." }
                }
                form method="post" action="/admin/federation/secure" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    div.field.checkbox {
                        input #secure-mode type="checkbox" name="on" value="1" checked[ctx.settings.secure_mode];
                        label for="secure-mode" { "Secure mode: serve people and posts only to signed requests from other servers (some servers then cannot see public posts without following)" }
                    }
                    button.button type="submit" { "Save" }
                }
            } @else {
                p { "Federation is off. Start the server with " code { "--federation --public-url https://your.domain" } " (or set " code { "federation.enabled" } ") to talk with other servers. Blocks set here apply once it is on." }
            }
            dl.facts {
                div { dt { "Deliveries waiting" } dd { (o.deliveries_queued) } }
                div { dt { "Deliveries given up" } dd { (o.deliveries_dead) " " a href="/admin#jobs" { "(retry on the jobs list)" } } }
                div { dt { "Received, not yet processed" } dd { (o.inbox_queued) } }
            }
        }
        section.settings-section #block {
            h2 { "Block a server" }
            form method="post" action="/admin/federation/block" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div.field {
                    label for="block-domain" { "Domain" }
                    input #block-domain type="text" name="domain" placeholder="spam.example" required autocomplete="off";
                }
                div.field {
                    label for="block-level" { "What happens" }
                    select #block-level name="level" {
                        option value="1" { "Silence: their posts reach only people here who follow them" }
                        option value="2" { "Suspend: nothing is received from or sent to them" }
                        option value="0" { "Lift a block" }
                    }
                }
                button.button.primary type="submit" { "Save" }
            }
        }
        section.settings-section #servers {
            h2 { "Servers" }
            @if o.instances.is_empty() {
                p.empty { "No other server has been in touch yet." }
            } @else {
                div.table-wrap {
                    table.data {
                        thead { tr { th { "Server" } th { "People known" } th { "Failed deliveries" } th { "Failing since" } th { "Last delivered" } th { "Block" } th { span.visually-hidden { "Actions" } } } }
                        tbody {
                            @for i in &o.instances {
                                tr {
                                    td { (i.domain) }
                                    td { (i.accounts) }
                                    td { (i.failures) }
                                    td { (when(i.first_failure_at)) }
                                    td { (when(i.last_success_at)) }
                                    td { (level(i.block)) }
                                    td {
                                        @if i.failures > 0 {
                                            form.inline method="post" action="/admin/federation/retry" {
                                                input type="hidden" name="csrf" value=(ctx.csrf);
                                                input type="hidden" name="domain" value=(i.domain);
                                                button.link type="submit" { "Retry now" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(ctx, "Federation", body)
}

/// The account-migration settings: aliases (to move here) and moving away.
pub fn migration(
    ctx: &Ctx,
    moved_to: Option<&str>,
    aliases: &[String],
    n: Option<Notice<'_>>,
    typed: (&str, &str),
) -> Markup {
    let body = html! {
        div.page-head { h1 { "Moving accounts" } }
        p { a href="/settings" { "← Settings" } }
        @if let Some(n) = &n { (notice(n)) }
        section.settings-section #aliases {
            h2 { "Moving here from another account" }
            p { "To bring your followers from another account (on Mastodon, GoToSocial or another weft), first name it here, then start the move from that account." }
            @if !aliases.is_empty() {
                p { "This account is also known as:" }
                ul { @for a in aliases { li { (a) } } }
            }
            form method="post" action="/settings/migration/aliases" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div.field {
                    label for="aliases-input" { "Your other account (a handle such as @you@example.org; leave empty to remove)" }
                    input #aliases-input type="text" name="aliases" value=(typed.0) autocomplete="off";
                }
                button.button.primary type="submit" { "Save" }
            }
        }
        section.settings-section #move {
            h2 { "Moving this account elsewhere" }
            @if let Some(to) = moved_to {
                p { "This account has moved to " (to) ". Your followers were asked to follow the new account." }
            } @else {
                p { "Your followers here and on other servers will follow the new account instead. The new account must first name this one as an alias (\"also known as\")." }
                form method="post" action="/settings/migration/move" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    div.field {
                        label for="move-target" { "The new account (a handle such as @you@example.org)" }
                        input #move-target type="text" name="target" value=(typed.1) required autocomplete="off";
                    }
                    div.field {
                        label for="move-password" { "Your current password" }
                        input #move-password type="password" name="password" required autocomplete="current-password";
                    }
                    button.button.danger type="submit" { "Move my followers" }
                }
            }
        }
    };
    page(ctx, "Moving accounts", body)
}
