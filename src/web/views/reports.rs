//! The report form and the moderators' queue.

use maud::{Markup, html};

use super::components::{CardMode, CardOpts, post_card};
use super::{Notice, notice, page, time};
use crate::service::reports::ReportRow;
use crate::store::models::PostView;
use crate::urls::Urls;
use crate::web::extract::Ctx;

pub fn report_form(
    ctx: &Ctx,
    p: &PostView,
    reason: &str,
    forward: bool,
    error: Option<&str>,
) -> Markup {
    let remote_host = p.author.username.split_once('@').map(|(_, h)| h);
    let max = ctx.core.config.limits.report_chars;
    let body = html! {
        div.page-head { h1 { "Report this post" } }
        @if let Some(e) = error { (notice(&Notice::Error(e))) }
        (post_card(ctx, p, &CardOpts { mode: CardMode::Embedded, ..CardOpts::default() }))
        form method="post" action=(format!("/posts/{}/report", p.id)) {
            input type="hidden" name="csrf" value=(ctx.csrf);
            div.field {
                label for="report-reason" { "What is wrong with it? (for the moderators)" }
                textarea #report-reason name="reason" rows="4" maxlength=(max) { (reason) }
                p.hint { "Up to " (max) " characters. The author is not told who reported them." }
            }
            @if let Some(h) = remote_host {
                div.field.checkbox {
                    input #report-forward type="checkbox" name="forward" value="1" checked[forward];
                    label for="report-forward" { "Also send this report to " (h) ", without your name" }
                }
            }
            div.compose-actions {
                a.button href=(Urls::post(&p.author.username, p.id)) { "Cancel" }
                button.button.primary type="submit" { "Send report" }
            }
        }
    };
    page(ctx, "Report a post", body)
}

pub fn thanks(ctx: &Ctx) -> Markup {
    let body = html! {
        div.page-head { h1 { "Thank you" } }
        p { "The moderators will look at your report." }
        p { a href="/" { "Back to your home feed" } }
    };
    page(ctx, "Report sent", body)
}

pub fn queue(ctx: &Ctx, list: &[ReportRow]) -> Markup {
    let body = html! {
        div.page-head { h1 { "Reports" } }
        p { a href="/admin" { "← Administration" } }
        @if list.is_empty() {
            p.empty { "No reports. When someone reports a post it shows here." }
        } @else {
            div.table-wrap {
                table.data {
                    thead { tr { th { "When" } th { "From" } th { "About" } th { "Reason" } th { "State" } } }
                    tbody {
                        @for r in list {
                            tr {
                                td { (time(r.created_at)) }
                                td { (r.reporter) }
                                td {
                                    a href=(Urls::profile(&r.target)) { "@" (r.target) }
                                    @if let Some(p) = r.post { " · " a href=(Urls::post(&r.target, p)) { "the post" } }
                                }
                                td { (r.reason) @if r.forwarded { " (sent on to their server)" } }
                                td {
                                    @if r.resolved_at.is_some() {
                                        "Resolved"
                                    } @else {
                                        form.inline method="post" action=(format!("/admin/reports/{}/resolve", r.id)) {
                                            input type="hidden" name="csrf" value=(ctx.csrf);
                                            button.link type="submit" { "Mark resolved" }
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
    page(ctx, "Reports", body)
}
