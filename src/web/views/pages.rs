//! Whole pages, each wrapped in the layout.

use maud::{Markup, html};

use super::components::{
    self, CardMode, CardOpts, ComposeState, account_row, compose_form, feed, follow_button,
    next_url, post_card, reply_box,
};
use super::{Notice, icons, notice, page, page_of, time};
use crate::domain::RegistrationMode;
use crate::service::Page;
use crate::service::timeline::{Thread, ThreadNode};
use crate::store::feeds::ProfileTab;
use crate::store::models::{
    Account, AccountListItem, AccountStatus, FeedItem, Notification, NotificationKind, PostEdit,
    PostView, Relationship, Session,
};
use crate::urls::Urls;
use crate::web::extract::Ctx;

fn heading(title: &str) -> Markup {
    html! { div.page-head { h1 { (title) } } }
}

pub fn home(ctx: &Ctx, compose: &ComposeState, p: &Page<FeedItem>) -> Markup {
    let top = html! {
        (heading("Home"))
        section.composer aria-label="New post" { (compose_form(ctx, compose, "")) }
    };
    let cards = feed(
        ctx,
        &p.items,
        next_url("/", &[], p.next),
        "Your home feed is empty. Follow people from the public feed to see their posts here.",
    );
    page_of(ctx, "Home", &[top, cards])
}

pub fn public(ctx: &Ctx, p: &Page<FeedItem>) -> Markup {
    let body = html! {
        (heading("Public"))
        @if ctx.viewer.is_none() {
            section.welcome {
                h2 { "Welcome to " (ctx.settings.name) }
                @if !ctx.settings.description.is_empty() { p { (ctx.settings.description) } }
                p { "This is what people here are talking about. " a href="/signup" { "Sign up" } " or " a href="/login" { "log in" } " to join in." }
            }
        }
        (feed(ctx, &p.items, next_url("/public", &[], p.next), "Nobody has posted publicly yet."))
    };
    page(ctx, "Public", body)
}

pub fn bookmarks(ctx: &Ctx, p: &Page<FeedItem>) -> Markup {
    let body = html! {
        (heading("Bookmarks"))
        p.hint { "Only you can see what you bookmark." }
        (feed(ctx, &p.items, next_url("/bookmarks", &[], p.next), "Nothing bookmarked yet. Use the bookmark button on a post to keep it here."))
    };
    page(ctx, "Bookmarks", body)
}

fn notification_text(n: &Notification) -> (&'static str, Markup) {
    let who = html! { a href=(Urls::profile(&n.actor.username)) { bdi { (n.actor.name()) } } };
    match n.kind {
        NotificationKind::Reply => ("reply", html! { (who) " replied to you" }),
        NotificationKind::Mention => ("mention", html! { (who) " mentioned you" }),
        NotificationKind::Quote => ("quote", html! { (who) " quoted your post" }),
        NotificationKind::Repost => ("repost", html! { (who) " reposted your post" }),
        NotificationKind::Like => ("like", html! { (who) " liked your post" }),
        NotificationKind::Follow => ("follow", html! { (who) " followed you" }),
        NotificationKind::FollowRequest => (
            "follow-request",
            html! { (who) " asked to follow you · " a href="/follow_requests" { "Review requests" } },
        ),
    }
}

pub fn notifications(ctx: &Ctx, p: &Page<Notification>) -> Markup {
    let body = html! {
        div.page-head {
            h1 { "Notifications" }
            @if ctx.unread > 0 || p.items.iter().any(|n| n.unread) {
                form.inline method="post" action="/notifications/read" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    @if let Some(newest) = p.items.first() { input type="hidden" name="up_to" value=(newest.id); }
                    button.button type="submit" { "Mark all as read" }
                }
            }
        }
        div.feed.paged {
            @if p.items.is_empty() && p.next.is_none() {
                p.empty { "No notifications yet. Replies, mentions, likes, reposts and new followers show up here." }
            }
            @for n in &p.items {
                @let (kind, text) = notification_text(n);
                div class=(format!("notification {kind}{}", if n.unread { " unread" } else { "" })) {
                    p.notification-line {
                        span.kind-icon { @match n.kind {
                            NotificationKind::Like => (icons::heart()),
                            NotificationKind::Repost => (icons::repost()),
                            NotificationKind::Follow | NotificationKind::FollowRequest => (icons::user()),
                            NotificationKind::Quote => (icons::quote()),
                            _ => (icons::reply()),
                        } }
                        span { (text) }
                        " · " (time(n.created_at))
                        @if n.unread { span.unread-dot aria-label="unread" {} }
                    }
                    @if let Some(post) = &n.post {
                        (post_card(ctx, post, &CardOpts::default()))
                    }
                }
            }
            (components::load_more(next_url("/notifications", &[], p.next)))
        }
    };
    page(ctx, "Notifications", body)
}

fn thread_node(ctx: &Ctx, node: &ThreadNode, root_author: &str, depth: usize) -> Markup {
    let viewer_name = ctx.viewer.as_ref().map(|v| v.account.username.as_str());
    let can_hide = viewer_name
        .is_some_and(|me| me == root_author || node.post.in_reply_to_author.as_deref() == Some(me));
    let card = post_card(
        ctx,
        &node.post,
        &CardOpts {
            mode: CardMode::Feed,
            can_hide,
            ..CardOpts::default()
        },
    );
    // Deep threads stop indenting so phones keep a readable width.
    let class = if depth < 5 {
        "reply-node"
    } else {
        "reply-node flat"
    };
    html! {
        li class=(class) {
            @if node.post.hidden {
                details.hidden-reply {
                    summary { "A reply hidden by the author · Show" }
                    (card)
                }
            } @else {
                (card)
            }
            @if !node.children.is_empty() {
                ol.replies {
                    @for c in &node.children { (thread_node(ctx, c, root_author, depth + 1)) }
                }
            }
        }
    }
}

pub fn thread(ctx: &Ctx, t: &Thread, compose: &ComposeState) -> Markup {
    let root_author = t
        .ancestors
        .first()
        .map(|a| a.author.username.clone())
        .unwrap_or_else(|| t.post.author.username.clone());
    let viewer_name = ctx.viewer.as_ref().map(|v| v.account.username.as_str());
    let focus_can_hide = viewer_name
        .is_some_and(|me| me == root_author || t.post.in_reply_to_author.as_deref() == Some(me));
    // A content warning hides the text everywhere, the tab title included.
    let title = if t.post.content_warning.is_empty() && !t.post.deleted {
        format!(
            "{}: \"{}\"",
            t.post.author.name(),
            t.post.body.chars().take(40).collect::<String>()
        )
    } else {
        format!("Post by {}", t.post.author.name())
    };
    let body = html! {
        (heading("Conversation"))
        @if !t.ancestors.is_empty() {
            ol.ancestors aria-label="Earlier in the conversation" {
                @for a in &t.ancestors { li { (post_card(ctx, a, &CardOpts::default())) } }
            }
        }
        (post_card(ctx, &t.post, &CardOpts { mode: CardMode::Focus, can_hide: focus_can_hide, ..CardOpts::default() }))
        p.reply-policy { (t.post.reply_policy.label()) }
        @match &t.reply_blocked {
            None => (reply_box(ctx, &t.post, compose)),
            Some(why) => p.notice.info #reply { (why) @if ctx.viewer.is_none() { " " a href="/login" { "Log in" } } },
        }
        section.replies-section aria-label="Replies" {
            @if t.replies.is_empty() {
                p.empty { "No replies yet." }
            } @else {
                ol.replies.top {
                    @for n in &t.replies { (thread_node(ctx, n, &root_author, 0)) }
                }
            }
            @if t.truncated { p.hint { "This conversation has more replies than one page shows." } }
        }
    };
    page(ctx, &title, body)
}

/// After an htmx reply: a fresh reply box, then the new reply right below it.
pub fn reply_posted(ctx: &Ctx, parent: &PostView, reply: &PostView) -> Markup {
    html! {
        (reply_box(ctx, parent, &ComposeState::default()))
        div.new-reply { (post_card(ctx, reply, &CardOpts::default())) }
    }
}

pub fn compose(ctx: &Ctx, s: &ComposeState, context: Option<&PostView>) -> Markup {
    let title = if s.in_reply_to.is_some() {
        "Reply"
    } else if s.quote_of.is_some() {
        "Quote post"
    } else {
        "New post"
    };
    let body = html! {
        (heading(title))
        @if let Some(p) = context {
            @if s.in_reply_to.is_some() {
                (post_card(ctx, p, &CardOpts::default()))
            }
        }
        section.composer { (compose_form(ctx, s, "")) }
        @if let Some(p) = context {
            @if s.quote_of.is_some() {
                p.hint { "Quoting:" }
                div.quote-embed { (post_card(ctx, p, &CardOpts { mode: CardMode::Embedded, ..CardOpts::default() })) }
            }
        }
    };
    page(ctx, title, body)
}

pub fn edit(ctx: &Ctx, p: &PostView, body_text: &str, cw: &str, error: Option<&str>) -> Markup {
    let url = Urls::post(&p.author.username, p.id);
    let body = html! {
        (heading("Edit post"))
        form.compose method="post" action=(format!("/posts/{}/edit", p.id)) {
            input type="hidden" name="csrf" value=(ctx.csrf);
            @if let Some(e) = error { p.notice.error role="alert" { (e) } }
            label for="edit-body" { "Text" }
            textarea #edit-body name="body" rows="5" { (body_text) }
            div.field {
                label for="edit-cw" { "Content warning (optional)" }
                input #edit-cw type="text" name="content_warning" value=(cw);
            }
            p.hint { "Earlier versions stay visible in the post's edit history." }
            div.compose-actions {
                a.button href=(url) { "Cancel" }
                button.primary type="submit" { "Save" }
            }
        }
    };
    page(ctx, "Edit post", body)
}

pub fn history(ctx: &Ctx, p: &PostView, edits: &[PostEdit]) -> Markup {
    let body = html! {
        (heading("Edit history"))
        p { a href=(Urls::post(&p.author.username, p.id)) { "Back to the post" } }
        ol.history {
            li.version.current {
                p.version-meta { "Current version · " @if let Some(e) = p.edited_at { (time(e)) } }
                @if !p.content_warning.is_empty() { p.cw-label { "Content warning: " (p.content_warning) } }
                div.body { (components::rich_text(&p.body)) }
            }
            @for e in edits.iter().rev() {
                li.version {
                    p.version-meta { "Written " (time(e.written_at)) }
                    @if !e.content_warning.is_empty() { p.cw-label { "Content warning: " (e.content_warning) } }
                    div.body { (components::rich_text(&e.body)) }
                }
            }
        }
    };
    page(ctx, "Edit history", body)
}

pub fn delete_confirm(ctx: &Ctx, p: &PostView) -> Markup {
    let body = html! {
        (heading("Delete this post?"))
        (post_card(ctx, p, &CardOpts { mode: CardMode::Embedded, ..CardOpts::default() }))
        p { "Deleting cannot be undone. Replies stay, under a note that this post was deleted." }
        form method="post" action=(format!("/posts/{}/delete", p.id)) {
            input type="hidden" name="csrf" value=(ctx.csrf);
            div.compose-actions {
                a.button href=(Urls::post(&p.author.username, p.id)) { "Cancel" }
                button.danger type="submit" { "Delete" }
            }
        }
    };
    page(ctx, "Delete post", body)
}

pub fn profile(
    ctx: &Ctx,
    a: &Account,
    rel: &Relationship,
    tab: ProfileTab,
    p: &Page<FeedItem>,
    moved_to: Option<&str>,
    pinned: &[FeedItem],
) -> Markup {
    let base = Urls::profile(&a.username);
    let tab_link = |t: ProfileTab, label: &str| {
        let href = if t == ProfileTab::Posts {
            base.clone()
        } else {
            format!("{base}?tab={}", t.as_str())
        };
        html! { a.tab href=(href) aria-current=[(t == tab).then_some("page")] { (label) } }
    };
    let own = ctx.viewer_id() == Some(a.id);
    let body = html! {
        @if rel.blocking {
            p.notice.info role="status" { "You blocked this account: neither of you sees the other's posts, and they cannot follow, reply to or mention you." }
        }
        @if let Some(to) = moved_to {
            p.notice.info role="status" {
                "This account has moved to "
                @if to.contains("://") {
                    a href=(to) rel="nofollow noopener" { (to) }
                } @else {
                    a href=(Urls::profile(to)) { "@" (to) }
                }
                "."
            }
        }
        section.profile-header {
            div.profile-banner {
                @if let Some(h) = &a.header {
                    img src=(Urls::media(h)) alt="" width="1280" height="427";
                }
            }
            div.profile-top {
                (components::avatar(&a.username, &a.display_name, a.avatar.as_deref(), "large"))
                div.profile-actions { (follow_button(ctx, a, rel)) (components::block_button(ctx, a, rel)) }
            }
            h1.profile-name {
                bdi { (a.brief().name()) }
                @if a.verified { (components::verified_badge(ctx)) }
                @if a.locked { span.vis title="Approves followers by hand" { (icons::lock()) } }
            }
            p.handle {
                @if let Some((_, remote_host)) = a.username.split_once('@') {
                    "@" (a.username)
                    span.pill title="This person is on another server; their posts that reached this one are shown here." { "on " (remote_host) }
                } @else {
                    "@" (a.username) "@" (ctx.core.urls.host())
                }
                @if rel.followed_by { span.pill { "Follows you" } }
                @if a.role != crate::domain::Role::User { span.pill { (a.role.as_str()) } }
                @if a.bot { span.pill title="This account is run by software" { "bot" } }
            }
            @if !a.bio.is_empty() { div.bio { (components::rich_text(&a.bio)) } }
            @if !a.fields.is_empty() {
                dl.fields {
                    @for (k, v) in &a.fields { div.field-row { dt { (k) } dd { (components::rich_text(v)) } } }
                }
            }
            p.counts {
                a href=(format!("{base}/following")) { strong { (a.following_count) } " following" }
                a href=(format!("{base}/followers")) { strong { (a.followers_count) } " followers" }
                span { strong { (a.posts_count) } " posts" }
                span.joined { "Joined " (time(a.created_at)) }
            }
            @if own && ctx.follow_requests > 0 {
                p.notice.info { a href="/follow_requests" { (ctx.follow_requests) " follow request(s) waiting" } }
            }
        }
        nav.tabs aria-label="Profile sections" {
            (tab_link(ProfileTab::Posts, "Posts"))
            (tab_link(ProfileTab::WithReplies, "Posts & replies"))
            (tab_link(ProfileTab::Reposts, "Reposts"))
        }
        @if !pinned.is_empty() {
            section.pinned aria-label="Pinned posts" {
                @for item in pinned {
                    div.pinned-post {
                        p.repost-line { "Pinned" }
                        (components::feed_item(ctx, item))
                        @if own {
                            form.inline method="post" action=(format!("/posts/{}/pin", item.post.id)) {
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                input type="hidden" name="on" value="0";
                                button.link type="submit" { "Unpin" }
                            }
                        }
                    }
                }
            }
        }
        (feed(ctx, &p.items, next_url(&base, &[("tab", if tab == ProfileTab::Posts { "" } else { tab.as_str() })], p.next), "Nothing here yet."))
    };
    page(
        ctx,
        &format!("{} (@{})", a.brief().name(), a.username),
        body,
    )
}

pub enum ListPage {
    Followers,
    Following,
}

pub fn account_list(
    ctx: &Ctx,
    owner: &Account,
    kind: ListPage,
    p: &Page<AccountListItem>,
) -> Markup {
    let (title, path) = match kind {
        ListPage::Followers => ("Followers", format!("/@{}/followers", owner.username)),
        ListPage::Following => ("Following", format!("/@{}/following", owner.username)),
    };
    let own_followers = matches!(kind, ListPage::Followers) && ctx.viewer_id() == Some(owner.id);
    let body = html! {
        div.page-head { h1 { (title) } p { a href=(Urls::profile(&owner.username)) { "@" (owner.username) } } }
        div.account-list.paged {
            @if p.items.is_empty() { p.empty { "Nobody yet." } }
            @for it in &p.items {
                (account_row(ctx, &it.account, html! {
                    @if own_followers {
                        form.inline method="post" action=(format!("/@{}/remove_follower", it.account.username)) {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.button type="submit" title="They stop following you; they are not told" { "Remove" }
                        }
                    }
                }))
            }
            (components::load_more(next_url(&path, &[], p.next)))
        }
    };
    page(ctx, title, body)
}

pub fn follow_requests(ctx: &Ctx, p: &Page<AccountListItem>) -> Markup {
    let body = html! {
        (heading("Follow requests"))
        p.hint { "Your account approves followers by hand. Accepted people see your followers-only posts." }
        div.account-list.paged {
            @if p.items.is_empty() { p.empty { "No pending requests." } }
            @for it in &p.items {
                (account_row(ctx, &it.account, html! {
                    form.inline method="post" action=(format!("/follow_requests/{}/accept", it.account.username)) {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        button.button.primary type="submit" { "Accept" }
                    }
                    form.inline method="post" action=(format!("/follow_requests/{}/reject", it.account.username)) {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        button.button type="submit" { "Reject" }
                    }
                }))
            }
            (components::load_more(next_url("/follow_requests", &[], p.next)))
        }
    };
    page(ctx, "Follow requests", body)
}

pub fn login(ctx: &Ctx, username: &str, error: Option<&str>, info: Option<&str>) -> Markup {
    let body = html! {
        section.auth-card {
            h1 { "Log in to " (ctx.settings.name) }
            @if let Some(i) = info { (notice(&Notice::Info(i))) }
            @if let Some(e) = error { (notice(&Notice::Error(e))) }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div.field {
                    label for="login-username" { "Username" }
                    input #login-username type="text" name="username" value=(username) autocomplete="username" autocapitalize="none" required;
                }
                div.field {
                    label for="login-password" { "Password" }
                    input #login-password type="password" name="password" autocomplete="current-password" required;
                }
                button.primary.wide type="submit" { "Log in" }
            }
            @if ctx.settings.registration != RegistrationMode::Closed {
                p.hint { "New here? " a href="/signup" { "Create an account" } }
            }
        }
    };
    page(ctx, "Log in", body)
}

#[derive(Default)]
pub struct SignupState {
    pub username: String,
    pub email: String,
    pub reason: String,
    pub error: Option<String>,
}

pub fn signup(ctx: &Ctx, s: &SignupState) -> Markup {
    let mode = ctx.settings.registration;
    let body = html! {
        section.auth-card {
            h1 { "Join " (ctx.settings.name) }
            @if mode == RegistrationMode::Closed {
                (notice(&Notice::Info("Registration is closed on this instance. Ask an admin for an account.")))
            }
            @if mode == RegistrationMode::Approval {
                (notice(&Notice::Info("New accounts are approved by the admins. You can log in once yours is approved.")))
            }
            @if let Some(e) = &s.error { (notice(&Notice::Error(e))) }
            form method="post" action="/signup" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div.field {
                    label for="signup-username" { "Username" }
                    input #signup-username type="text" name="username" value=(s.username) autocomplete="username" autocapitalize="none" required maxlength="30" aria-describedby="signup-username-hint";
                    p.hint #signup-username-hint { "1–30 characters: letters a–z, digits and _. People will know you as @name." }
                }
                div.field {
                    label for="signup-email" { "Email (optional)" }
                    input #signup-email type="email" name="email" value=(s.email) autocomplete="email";
                }
                div.field {
                    label for="signup-password" { "Password" }
                    input #signup-password type="password" name="password" autocomplete="new-password" required aria-describedby="signup-password-hint";
                    p.hint #signup-password-hint { "At least " (ctx.core.config.limits.password_min_chars) " characters." }
                }
                @if mode == RegistrationMode::Approval {
                    div.field {
                        label for="signup-reason" { "Why do you want to join?" }
                        textarea #signup-reason name="reason" rows="3" { (s.reason) }
                    }
                }
                button.primary.wide type="submit" disabled[mode == RegistrationMode::Closed] { "Create account" }
            }
            p.hint { "Already have an account? " a href="/login" { "Log in" } }
        }
    };
    page(ctx, "Sign up", body)
}

#[derive(Default)]
pub struct ProfileFormState {
    pub display_name: String,
    pub bio: String,
    pub fields: Vec<(String, String)>,
    pub locked: bool,
    pub bot: bool,
}

pub struct SettingsPage<'a> {
    pub profile: ProfileFormState,
    pub sessions: &'a [Session],
    pub notice: Option<Notice<'a>>,
    pub section_error: Option<(&'a str, String)>,
}

pub fn settings(ctx: &Ctx, s: &SettingsPage<'_>) -> Markup {
    let max_fields = ctx.core.config.limits.profile_fields;
    let err_for = |section: &str| {
        s.section_error
            .as_ref()
            .filter(|(sec, _)| *sec == section)
            .map(|(_, m)| m.clone())
    };
    let current = ctx
        .viewer
        .as_ref()
        .map(|v| v.session_hash.clone())
        .unwrap_or_default();
    let body = html! {
        (heading("Settings"))
        @if let Some(n) = &s.notice { (notice(n)) }
        section.settings-section #pictures {
            h2 { "Pictures" }
            @if let Some(e) = err_for("pictures") { (notice(&Notice::Error(&e))) }
            @let me = ctx.viewer.as_ref().map(|v| &v.account);
            form method="post" action="/settings/pictures" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div.picture-row {
                    @if let Some(a) = me { (components::avatar(&a.username, &a.display_name, a.avatar.as_deref(), "large")) }
                    div.field {
                        label for="avatar" { "Avatar" }
                        input #avatar type="file" name="avatar" accept="image/jpeg,image/png,image/gif,image/webp" aria-describedby="avatar-hint";
                        p.hint #avatar-hint { "A square from the middle of the image is used, 400 × 400 pixels." }
                        @if me.is_some_and(|a| a.avatar.is_some()) {
                            label.check { input type="checkbox" name="remove_avatar" value="1"; " Remove the avatar" }
                        }
                    }
                }
                div.field {
                    label for="header" { "Header image" }
                    input #header type="file" name="header" accept="image/jpeg,image/png,image/gif,image/webp" aria-describedby="header-hint";
                    p.hint #header-hint { "Shown across the top of your profile; a wide image works best." }
                    @if me.is_some_and(|a| a.header.is_some()) {
                        label.check { input type="checkbox" name="remove_header" value="1"; " Remove the header" }
                    }
                }
                div.form-actions { button.primary type="submit" { "Save pictures" } }
            }
        }
        section.settings-section #profile {
            h2 { "Profile" }
            @if let Some(e) = err_for("profile") { (notice(&Notice::Error(&e))) }
            form method="post" action="/settings/profile" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div.field {
                    label for="display_name" { "Display name" }
                    input #display_name type="text" name="display_name" value=(s.profile.display_name);
                }
                div.field {
                    label for="bio" { "Bio" }
                    textarea #bio name="bio" rows="4" aria-describedby="bio-hint" { (s.profile.bio) }
                    p.hint #bio-hint { "Links, @mentions and #hashtags become links." }
                }
                fieldset.profile-fields {
                    legend { "Profile fields (up to " (max_fields) ")" }
                    @for i in 0..max_fields {
                        @let (k, v) = s.profile.fields.get(i).cloned().unwrap_or_default();
                        div.field-pair {
                            div.field {
                                label for=(format!("field_name_{i}")) { "Label " (i + 1) }
                                input id=(format!("field_name_{i}")) type="text" name=(format!("field_name_{i}")) value=(k);
                            }
                            div.field {
                                label for=(format!("field_value_{i}")) { "Content " (i + 1) }
                                input id=(format!("field_value_{i}")) type="text" name=(format!("field_value_{i}")) value=(v);
                            }
                        }
                    }
                }
                div.field.checkbox {
                    input #locked type="checkbox" name="locked" value="1" checked[s.profile.locked];
                    label for="locked" { "Approve followers by hand (followers-only posts reach only people you accept)" }
                }
                div.field.checkbox {
                    input #bot type="checkbox" name="bot" value="1" checked[s.profile.bot];
                    label for="bot" { "This account is run by software (a bot)" }
                }
                button.primary type="submit" { "Save profile" }
            }
        }
        section.settings-section #search-settings {
            h2 { "Search and hashtags" }
            p { a href="/settings/search" { "Choose whether you appear in search, and manage the hashtags you follow." } }
        }
        @if ctx.core.config.federation.enabled {
            section.settings-section #migration-settings {
                h2 { "Moving accounts" }
                p { a href="/settings/migration" { "Move here from another server, or move this account elsewhere." } }
            }
        }
        section.settings-section #password {
            h2 { "Password" }
            @if let Some(e) = err_for("password") { (notice(&Notice::Error(&e))) }
            form method="post" action="/settings/password" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div.field {
                    label for="current_password" { "Current password" }
                    input #current_password type="password" name="current_password" autocomplete="current-password" required;
                }
                div.field {
                    label for="new_password" { "New password" }
                    input #new_password type="password" name="new_password" autocomplete="new-password" required;
                }
                p.hint { "Changing your password logs you out everywhere else." }
                button.primary type="submit" { "Change password" }
            }
        }
        section.settings-section #sessions {
            h2 { "Where you're logged in" }
            ul.sessions {
                @for sess in s.sessions {
                    li {
                        strong { @if sess.user_agent.is_empty() { "Unknown browser" } @else { (sess.user_agent.chars().take(80).collect::<String>()) } }
                        br;
                        span.hint { "From " (sess.ip) " · last active " (time(sess.last_seen_at)) }
                        @if sess.token_hash == current { span.pill { "This browser" } }
                    }
                }
            }
            form method="post" action="/settings/logout_others" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                button.button type="submit" disabled[s.sessions.len() < 2] { "Log out everywhere else" }
            }
        }
        section.settings-section {
            h2 { "Log out" }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                button.button type="submit" { "Log out of this browser" }
            }
        }
        section.settings-section #delete-account {
            h2 { "Delete your account" }
            p { "Your posts, follows and profile are deleted, here and (when this instance federates) on the servers that knew you. Your name stays taken. This cannot be undone." }
            @if let Some(e) = err_for("delete") { (notice(&Notice::Error(&e))) }
            form method="post" action="/settings/delete" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                div.field {
                    label for="delete-password" { "Your current password" }
                    input #delete-password type="password" name="password" required autocomplete="current-password";
                }
                button.button.danger type="submit" { "Delete my account" }
            }
        }
    };
    page(ctx, "Settings", body)
}

pub struct AdminPage<'a> {
    pub accounts: &'a Page<Account>,
    pub pending: &'a [Account],
    pub notice: Option<Notice<'a>>,
    /// Admins only.
    pub jobs: Option<&'a crate::service::admin::JobsOverview>,
    /// Admins only.
    pub page_cache: Option<crate::web::page_cache::Stats>,
}

pub fn admin(ctx: &Ctx, a: &AdminPage<'_>) -> Markup {
    let s = &ctx.settings;
    let is_admin = ctx.is_admin();
    let body = html! {
        (heading("Administration"))
        @if let Some(n) = &a.notice { (notice(n)) }
        p { a href="/admin/search" { "Search index and trends →" } }
        p { a href="/admin/reports" { "Reports →" } }
        @if is_admin { p { a href="/admin/federation" { "Federation: servers, deliveries and blocks →" } } }
        @if is_admin {
            section.settings-section #instance {
                h2 { "Instance" }
                form method="post" action="/admin/settings" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    div.field {
                        label for="instance-name" { "Name" }
                        input #instance-name type="text" name="name" value=(s.name) required;
                    }
                    div.field {
                        label for="instance-description" { "Description (shown to visitors)" }
                        textarea #instance-description name="description" rows="3" { (s.description) }
                    }
                    div.field {
                        label for="registration" { "Registration" }
                        select #registration name="registration" {
                            option value="open" selected[s.registration == RegistrationMode::Open] { "Open: anyone can sign up" }
                            option value="approval" selected[s.registration == RegistrationMode::Approval] { "By approval: staff approve each sign-up" }
                            option value="closed" selected[s.registration == RegistrationMode::Closed] { "Closed: no new sign-ups" }
                        }
                    }
                    div.field.checkbox {
                        input #login_required type="checkbox" name="login_required" value="1" checked[s.login_required];
                        label for="login_required" { "Require login to read anything on this instance" }
                    }
                    button.primary type="submit" { "Save" }
                }
            }
        }
        section.settings-section #pending {
            h2 { "Sign-ups waiting for approval" }
            @if a.pending.is_empty() { p.empty { "None." } }
            @for acct in a.pending {
                div.account-row {
                    div.account-row-main {
                        strong { "@" (acct.username) }
                        @if let Some(e) = &acct.email { " · " (e) }
                        @if !acct.signup_reason.is_empty() { p.bio-snippet { "“" (acct.signup_reason) "”" } }
                    }
                    div.account-row-actions {
                        form.inline method="post" action=(format!("/admin/accounts/{}/approve", acct.username)) {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.button.primary type="submit" { "Approve" }
                        }
                        form.inline method="post" action=(format!("/admin/accounts/{}/reject", acct.username)) {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.button type="submit" { "Reject" }
                        }
                    }
                }
            }
        }
        @if let Some(c) = a.page_cache {
            section.settings-section #page-cache {
                h2 { "Pages for visitors" }
                p.hint { "Public pages seen by visitors who are not logged in are kept in memory until the next change on the instance. Since the start: "
                    strong { (c.hits) } " served from memory, " strong { (c.misses) } " rendered; " (c.entries) " pages (" (c.bytes / 1024) " KiB) kept now." }
            }
        }
        @if let Some(j) = a.jobs {
            section.settings-section #jobs {
                h2 { "Background jobs" }
                p.hint { "Feed fan-out, file clean-up and other work runs here, with retries. "
                    "Accounts with a ready home feed: " (j.home_feeds) "." }
                @if j.counts.is_empty() {
                    p.empty { "Nothing queued." }
                } @else {
                    table.jobs-table {
                        thead { tr { th scope="col" { "Kind" } th scope="col" { "Queued" } th scope="col" { "Failed" } } }
                        tbody {
                            @for (kind, queued, dead) in &j.counts {
                                @let cap = |n: &i64| if *n >= crate::store::jobs::COUNT_CAP { format!("{n}+") } else { n.to_string() };
                                tr { td { (kind) } td { (cap(queued)) } td { (cap(dead)) } }
                            }
                        }
                    }
                }
                @for d in &j.dead {
                    div.dead-job {
                        p { strong { (d.kind) } " · failed " (d.attempts) " times · queued " (time(d.created_at)) }
                        p.hint { "Last error: " (d.last_error) }
                        form.inline method="post" action=(format!("/admin/jobs/{}", d.id)) {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.button type="submit" name="action" value="retry" { "Retry" }
                            " "
                            button.button type="submit" name="action" value="delete" { "Delete" }
                        }
                    }
                }
            }
        }
        section.settings-section #accounts {
            h2 { "Accounts" }
            table.accounts-table {
                thead { tr { th scope="col" { "Account" } th scope="col" { "Status" } th scope="col" { "Role" } th scope="col" { "Verified" } } }
                tbody {
                    @for acct in &a.accounts.items {
                        tr {
                            td { a href=(Urls::profile(&acct.username)) { "@" (acct.username) } }
                            td { (match acct.status { AccountStatus::Active => "active", AccountStatus::Pending => "pending", AccountStatus::Suspended => "suspended", AccountStatus::Deleted => "deleted" }) }
                            td {
                                @if is_admin {
                                    form.inline.role-form method="post" action=(format!("/admin/accounts/{}/role", acct.username)) {
                                        input type="hidden" name="csrf" value=(ctx.csrf);
                                        label.visually-hidden for=(format!("role-{}", acct.username)) { "Role of @" (acct.username) }
                                        select id=(format!("role-{}", acct.username)) name="role" {
                                            @for r in ["user", "moderator", "admin"] {
                                                option value=(r) selected[acct.role.as_str() == r] { (r) }
                                            }
                                        }
                                        button.button type="submit" { "Set" }
                                    }
                                } @else { (acct.role.as_str()) }
                            }
                            td {
                                @if is_admin {
                                    form.inline method="post" action=(format!("/admin/accounts/{}/verify", acct.username)) {
                                        input type="hidden" name="csrf" value=(ctx.csrf);
                                        input type="hidden" name="on" value=(if acct.verified { "0" } else { "1" });
                                        button.button type="submit" { (if acct.verified { "Remove badge" } else { "Verify" }) }
                                    }
                                } @else { (if acct.verified { "yes" } else { "no" }) }
                            }
                        }
                    }
                }
            }
            (components::load_more(next_url("/admin", &[], a.accounts.next)))
        }
    };
    page(ctx, "Admin", body)
}

/// One photo or video of a post at full size, with its description.
pub fn lightbox(ctx: &Ctx, post: &PostView, i: usize) -> Markup {
    let Some(m) = post.media.get(i) else {
        return page(
            ctx,
            "Not found",
            html! { p { "This attachment does not exist." } },
        );
    };
    let base = Urls::post(&post.author.username, post.id);
    let n = post.media.len();
    let full = Urls::media(&m.file);
    let (src, w, h) = match (&m.large, m.kind) {
        (Some((f, w, h)), crate::store::media::MediaKind::Image) => (Urls::media(f), *w, *h),
        _ => (full.clone(), m.width, m.height),
    };
    let body = html! {
        (heading("Photo"))
        figure.lightbox {
            @if m.kind == crate::store::media::MediaKind::Video {
                video controls src=(full) width=[(m.width > 0).then_some(m.width)] height=[(m.height > 0).then_some(m.height)] {}
            } @else {
                a href=(full) { img src=(src) width=(w) height=(h) alt=(m.alt); }
            }
            figcaption {
                @if m.alt.is_empty() { p.muted { "No description." } } @else { p { (m.alt) } }
                p.lightbox-nav {
                    @if i > 0 { a href=(format!("{base}/media/{i}")) { "← Previous" } " · " }
                    (i + 1) " of " (n)
                    @if i + 1 < n { " · " a href=(format!("{base}/media/{}", i + 2)) { "Next →" } }
                }
                p {
                    a href=(format!("{full}?download=1")) download { "Download full size" }
                    " · " a href=(base) { "Back to the post" }
                }
            }
        }
    };
    page(
        ctx,
        &format!("Photo {} of {} by {}", i + 1, n, post.author.name()),
        body,
    )
}
