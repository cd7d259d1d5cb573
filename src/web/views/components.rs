//! Reusable pieces: avatars, names and badges, post cards and their actions, the composer,
//! account rows, "Load older".

use maud::{Markup, PreEscaped, Render, html};

use super::{Esc, icons};
use crate::domain::text::{self, Segment};
use crate::domain::{PostId, ReplyPolicy, Visibility};
use crate::store::media::MediaKind;
use crate::store::models::{Account, AccountBrief, FeedItem, MediaView, PostView, Relationship};
use crate::urls::Urls;
use crate::web::extract::Ctx;

fn hue_class(name: &str) -> &'static str {
    const HUES: [&str; 8] = [
        "av-0", "av-1", "av-2", "av-3", "av-4", "av-5", "av-6", "av-7",
    ];
    let h = name
        .bytes()
        .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
    HUES[(h % 8) as usize]
}

/// The account's picture, or a default one: the first letter on a colour picked from the
/// username.
pub fn avatar(username: &str, display: &str, file: Option<&str>, size: &str) -> Markup {
    if let Some(f) = file {
        return html! {
            a class={ "avatar picture" @if !size.is_empty() { " " (size) } } href=(Esc(&Urls::profile(username))) aria-hidden="true" tabindex="-1" {
                img src=(Esc(&Urls::media(f))) alt="" width="400" height="400" loading="lazy" decoding="async";
            }
        };
    }
    let initial = display
        .chars()
        .find(|c| c.is_alphanumeric())
        .or_else(|| username.chars().next());
    // Drawn on every card: the class and letter go straight into the markup, unallocated.
    html! {
        a class={ "avatar " (PreEscaped(hue_class(username))) @if !size.is_empty() { " " (size) } } href=(Esc(&Urls::profile(username))) aria-hidden="true" tabindex="-1" {
            @if let Some(c) = initial { @for u in c.to_uppercase() { (u) } }
        }
    }
}

pub fn verified_badge(ctx: &Ctx) -> Markup {
    let label = format!("Verified by {}", ctx.core.urls.host());
    html! {
        span.verified tabindex="0" role="img" aria-label=(label) data-tip=(label) {
            (icons::verified())
        }
    }
}

/// Display name with badge, then @handle.
pub fn name_line(ctx: &Ctx, a: &AccountBrief) -> Markup {
    html! {
        a.name href=(Esc(&Urls::profile(&a.username))) {
            bdi { (Esc(a.name())) }
        }
        @if a.verified { (verified_badge(ctx)) }
        span.handle { "@" (Esc(&a.username)) }
    }
}

/// Post text with links, mentions and tags as links and line breaks kept. All text escaped.
pub fn rich_text(body: &str) -> Markup {
    marked_text(body, &[])
}

/// `text` with every occurrence of one of `marks` (longest first) inside `mark`.
fn marked(t: &str, marks: &[String]) -> Markup {
    let mut pieces: Vec<(&str, bool)> = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        let found = marks
            .iter()
            .filter_map(|m| rest.find(m.as_str()).map(|at| (at, m.len())))
            .min_by_key(|&(at, len)| (at, std::cmp::Reverse(len)));
        match found {
            Some((at, len)) if len > 0 => {
                pieces.push((&rest[..at], false));
                pieces.push((&rest[at..at + len], true));
                rest = &rest[at + len..];
            }
            _ => {
                pieces.push((rest, false));
                rest = "";
            }
        }
    }
    html! {
        @for (p, hit) in pieces {
            @if hit { mark { (p) } } @else { (p) }
        }
    }
}

/// A post's text: ours rendered from plain text, a remote post's HTML as sanitised when
/// it arrived (search highlights apply to ours only).
fn post_body(p: &PostView, marks: &[String]) -> Markup {
    match &p.content_html {
        Some(h) if !h.is_empty() => PreEscaped(h.clone()),
        _ => marked_text(&p.body, marks),
    }
}

/// [`rich_text`] with the words a search matched highlighted.
pub fn marked_text(body: &str, marks: &[String]) -> Markup {
    html! {
        @for seg in text::segments(body) {
            @match seg {
                Segment::Text(t) => @if marks.is_empty() { (Esc(t)) } @else { (marked(t, marks)) },
                Segment::Newline => br;,
                Segment::Link(url) => a href=(Esc(url)) rel="nofollow noopener ugc" target="_blank" { (text::display_url(url)) },
                Segment::Mention { raw, name, domain: None } => a.mention href=(Urls::profile(&name.to_ascii_lowercase())) { (raw) },
                Segment::Mention { raw, name, domain: Some(domain) } => a.mention href=(Urls::profile(&format!("{name}@{domain}").to_ascii_lowercase())) { (raw) },
                Segment::Hashtag { raw, tag } => a.hashtag href=(Urls::tag(&tag.to_lowercase())) { (raw) },
            }
        }
    }
}

fn visibility_icon(v: Visibility) -> Markup {
    match v {
        Visibility::Public => html! {},
        Visibility::Followers => {
            html! { span.vis title=(v.label()) aria-label=(v.label()) { (icons::lock()) } }
        }
        Visibility::Mentioned => {
            html! { span.vis title=(v.label()) aria-label=(v.label()) { (icons::mail()) } }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CardMode {
    Feed,
    Focus,
    Embedded,
}

pub struct CardOpts {
    pub mode: CardMode,
    /// The viewer may hide this reply (they wrote the post it answers or the conversation).
    pub can_hide: bool,
    /// Pieces of the text to highlight (the words a search matched), longest first.
    pub marks: Vec<String>,
}

impl Default for CardOpts {
    fn default() -> Self {
        CardOpts {
            mode: CardMode::Feed,
            can_hide: false,
            marks: Vec::new(),
        }
    }
}

pub fn feed_item(ctx: &Ctx, item: &FeedItem) -> Markup {
    let Some(by) = &item.reposted_by else {
        // The card itself, not a copy of it in a wrapper's buffer.
        return post_card(ctx, &item.post, &CardOpts::default());
    };
    html! {
        div.repost-wrap {
            p.repost-line { (icons::repost()) a href=(Urls::profile(&by.username)) { bdi { (by.name()) } } " reposted" }
            (post_card(ctx, &item.post, &CardOpts::default()))
        }
    }
}

pub fn post_card(ctx: &Ctx, p: &PostView, opts: &CardOpts) -> Markup {
    let url = Urls::post(&p.author.username, p.id);
    let classes = match opts.mode {
        CardMode::Feed => "post",
        CardMode::Focus => "post focus",
        CardMode::Embedded => "post embedded",
    };
    if p.deleted {
        return html! {
            article class=(classes) id=(format!("p-{}", p.id)) {
                p.deleted-note { "This post was deleted." }
            }
        };
    }
    html! {
        article class=(PreEscaped(classes)) id={ "p-" (p.id.0) } aria-label={ "Post by " (p.author.name()) } {
            div.post-head {
                (avatar(&p.author.username, &p.author.display_name, p.author.avatar.as_deref(), if opts.mode == CardMode::Embedded { "small" } else { "" }))
                div.post-meta {
                    div.who { (name_line(ctx, &p.author)) }
                    div.when {
                        a.permalink href=(Esc(&url)) { (super::time(p.created_at)) }
                        @if p.edited_at.is_some() {
                            " · " a.edited href=(format!("{url}/history")) title="See earlier versions" { "edited" }
                        }
                        (visibility_icon(p.visibility))
                        @if let Some(original) = &p.remote_url {
                            " · " a.original href=(original) rel="nofollow noopener" target="_blank" title="See this post on its own server" { "original" }
                        }
                    }
                }
            }
            @if let (Some(parent), Some(who)) = (p.in_reply_to, &p.in_reply_to_author) {
                @if opts.mode != CardMode::Focus {
                    p.reply-to { "Replying to " a href=(Urls::post(who, parent)) { "@" (who) } }
                }
            }
            @if p.content_warning.is_empty() {
                div.body { (post_body(p, &opts.marks)) }
            } @else {
                details.cw {
                    summary { span.cw-label { "Content warning: " } (p.content_warning) span.cw-show { " · Show" } }
                    div.body { (post_body(p, &opts.marks)) }
                }
            }
            @if !p.media.is_empty() { (media_grid(p)) }
            @if let Some(q) = &p.quote {
                @if opts.mode != CardMode::Embedded {
                    div.quote-embed { (post_card(ctx, q, &CardOpts { mode: CardMode::Embedded, ..CardOpts::default() })) }
                }
            } @else if p.quote_id.is_some() {
                p.quote-missing { "The quoted post is not available." }
            }
            @if opts.mode != CardMode::Embedded {
                (actions(ctx, p, opts.can_hide))
            }
        }
    }
}

/// Photos and videos of a post: a grid of up to four, a row that scrolls beyond that.
pub fn media_grid(p: &PostView) -> Markup {
    let n = p.media.len();
    let class = if n > 4 {
        "media-grid many".to_string()
    } else {
        format!("media-grid n{n}")
    };
    html! {
        div class=(class) {
            @for (i, m) in p.media.iter().enumerate() {
                (media_item(p, i, m))
            }
        }
    }
}

fn media_item(p: &PostView, i: usize, m: &MediaView) -> Markup {
    let lightbox = format!("{}/media/{}", Urls::post(&p.author.username, p.id), i + 1);
    let reveal_id = format!("reveal-{}", m.id);
    let class = if m.sensitive {
        "media sensitive"
    } else {
        "media"
    };
    let described = !m.alt.is_empty();
    let inner = match m.kind {
        MediaKind::Video => html! {
            video controls preload="metadata" src=(Urls::media(&m.file))
                width=[(m.width > 0).then_some(m.width)] height=[(m.height > 0).then_some(m.height)]
                aria-label=(if described { m.alt.as_str() } else { "Video" }) {
                a href=(Urls::media(&m.file)) { "Download the video" }
            }
        },
        _ => {
            // Animated GIFs play from the original; stills use the thumbnails.
            let (src, w, h) = match (&m.small, m.kind) {
                (Some((f, w, h)), MediaKind::Image) => (Urls::media(f), *w, *h),
                _ => (Urls::media(&m.file), m.width, m.height),
            };
            let srcset = match (&m.small, &m.large, m.kind) {
                (Some((s, sw, _)), Some((l, lw, _)), MediaKind::Image) if sw != lw => Some(
                    format!("{} {sw}w, {} {lw}w", Urls::media(s), Urls::media(l)),
                ),
                _ => None,
            };
            html! {
                a.media-link href=(lightbox) {
                    @if !m.placeholder.is_empty() {
                        img.placeholder src=(m.placeholder) alt="" aria-hidden="true" width=(w) height=(h);
                    }
                    img.picture src=(src) srcset=[srcset] sizes="(max-width: 640px) 100vw, 560px"
                        width=(w) height=(h) alt=(m.alt) loading="lazy" decoding="async";
                }
            }
        }
    };
    html! {
        figure class=(class) {
            @if m.sensitive {
                input.reveal type="checkbox" id=(reveal_id);
                label.reveal-label for=(reveal_id) { "Sensitive content · Show" }
            }
            (inner)
            @if described {
                details.alt-text {
                    summary title="Description" { "ALT" }
                    p { (m.alt) }
                }
            }
        }
    }
}

/// One on/off action button (like, repost, bookmark) of a card's action form.
struct Toggle<'a> {
    what: &'a str,
    on: bool,
    label_on: &'a str,
    label_off: &'a str,
    icon: icons::Icon,
    count: Option<i64>,
}

/// A button of the card's one action form: it posts to its own action (`formaction`, which
/// htmx follows too) with its own `on`, so a card carries the CSRF token and return path once
/// instead of once per action (a logged-in feed page was 19% hidden inputs and form tags).
fn toggle_button(id: i64, t: Toggle<'_>) -> Markup {
    let Toggle {
        what,
        on,
        label_on,
        label_off,
        icon,
        count,
    } = t;
    let label = if on { label_on } else { label_off };
    html! {
        button type="submit" formaction={ "/posts/" (id) "/" (PreEscaped(what)) } name="on" value=(PreEscaped(if on { "0" } else { "1" }))
            class={ "action " (PreEscaped(what)) @if on { " on" } } aria-pressed=(PreEscaped(if on { "true" } else { "false" })) title=(PreEscaped(label)) {
            (icon)
            span.visually-hidden { (PreEscaped(label)) }
            @if let Some(n) = count { span.count { @if n > 0 { (n) } } }
        }
    }
}

/// The row of actions under a post; swapped in place by htmx after each action.
pub fn actions(ctx: &Ctx, p: &PostView, can_hide: bool) -> Markup {
    let url = Urls::post(&p.author.username, p.id);
    // Rendered as an integer (itoa), not through `PostId`'s Display and the escaper.
    let id = p.id.0;
    let mine = ctx.viewer_id() == Some(p.author.id);
    let reply = html! {
        a.action.reply href={ (Esc(&url)) "#reply" } title="Reply" {
            (icons::reply()) span.visually-hidden { "Reply" } span.count { @if p.reply_count > 0 { (p.reply_count) } }
        }
    };
    html! {
        footer.actions id={ "actions-" (id) } {
            @if ctx.viewer.is_some() {
                // Without a clicked button (never, as it has no field to press Enter in) the
                // form would like the post.
                form.toggles method="post" action={ "/posts/" (id) "/like" } hx-post={ "/posts/" (id) "/like" } hx-target={ "#actions-" (id) } hx-swap="outerHTML" {
                    input type="hidden" name="csrf" value=(Esc(&ctx.csrf));
                    input type="hidden" name="back" value=(Esc(&ctx.here));
                    @if can_hide { input type="hidden" name="can_hide" value="1"; }
                    (reply)
                    @if p.visibility == Visibility::Public {
                        (toggle_button(id, Toggle { what: "repost", on: p.reposted, label_on: "Undo repost", label_off: "Repost", icon: icons::repost(), count: Some(p.repost_count) }))
                        a.action.quote href={ "/compose?quote=" (id) } title="Quote" {
                            (icons::quote()) span.visually-hidden { "Quote" } span.count { @if p.quote_count > 0 { (p.quote_count) } }
                        }
                    } @else {
                        span.action.disabled title="Only public posts can be reposted or quoted" { (icons::repost()) }
                    }
                    (toggle_button(id, Toggle { what: "like", on: p.liked, label_on: "Unlike", label_off: "Like", icon: icons::heart(), count: Some(p.like_count) }))
                    (toggle_button(id, Toggle { what: "bookmark", on: p.bookmarked, label_on: "Remove bookmark", label_off: "Bookmark", icon: icons::bookmark(), count: None }))
                }
                details.menu {
                    summary.action title="More" { (icons::more()) span.visually-hidden { "More actions" } }
                    div.menu-items {
                        @if mine { a href={ (Esc(&url)) "/edit" } { "Edit" } }
                        @if mine && p.in_reply_to.is_none() && p.visibility != Visibility::Mentioned {
                            form method="post" action={ "/posts/" (id) "/pin" } {
                                input type="hidden" name="csrf" value=(Esc(&ctx.csrf));
                                input type="hidden" name="on" value="1";
                                button.link type="submit" { "Pin to profile" }
                            }
                        }
                        @if p.edited_at.is_some() { a href={ (Esc(&url)) "/history" } { "Edit history" } }
                        @if can_hide && p.in_reply_to.is_some() {
                            form method="post" action={ "/posts/" (id) "/hide" } {
                                input type="hidden" name="csrf" value=(Esc(&ctx.csrf));
                                input type="hidden" name="on" value=(if p.hidden { "0" } else { "1" });
                                input type="hidden" name="back" value=(Esc(&ctx.here));
                                button.link type="submit" { (if p.hidden { "Show reply" } else { "Hide reply" }) }
                            }
                        }
                        @if !mine { a href={ "/posts/" (id) "/report" } { "Report" } }
                        @if mine || ctx.is_staff() { a.danger href={ "/posts/" (id) "/delete" } { "Delete" } }
                    }
                }
            } @else {
                (reply)
                a.action href="/login" title="Log in to repost" { (icons::repost()) span.count { @if p.repost_count > 0 { (p.repost_count) } } }
                a.action href="/login" title="Log in to like" { (icons::heart()) span.count { @if p.like_count > 0 { (p.like_count) } } }
            }
        }
    }
}

/// What the composer shows: empty, or what was typed when posting failed.
#[derive(Default, Clone)]
pub struct ComposeState {
    pub body: String,
    pub content_warning: String,
    pub visibility: Option<Visibility>,
    pub reply_policy: Option<ReplyPolicy>,
    pub in_reply_to: Option<PostId>,
    pub quote_of: Option<PostId>,
    pub error: Option<String>,
    /// Uploads waiting to be posted, with what was typed for them.
    pub media: Vec<ComposeMedia>,
}

#[derive(Clone)]
pub struct ComposeMedia {
    pub view: MediaView,
    pub alt: String,
    pub sensitive: bool,
}

/// The composer. `in_place` makes it an htmx form that swaps `#reply` (the thread's reply box).
pub fn compose_form(ctx: &Ctx, s: &ComposeState, id_prefix: &str) -> Markup {
    compose_form_with(ctx, s, id_prefix, false)
}

fn compose_form_with(ctx: &Ctx, s: &ComposeState, id_prefix: &str, in_place: bool) -> Markup {
    let max = ctx.core.config.limits.post_chars;
    let vis = s.visibility.unwrap_or(Visibility::Public);
    let pol = s.reply_policy.unwrap_or(ReplyPolicy::Anyone);
    let body_id = format!("{id_prefix}body");
    let cw_id = format!("{id_prefix}cw");
    let vis_id = format!("{id_prefix}visibility");
    let pol_id = format!("{id_prefix}policy");
    let err_id = format!("{id_prefix}error");
    let label = if s.in_reply_to.is_some() {
        "Your reply"
    } else if s.quote_of.is_some() {
        "Add your thoughts"
    } else {
        "What's new?"
    };
    html! {
        form.compose method="post" action="/posts" enctype="multipart/form-data"
            hx-post=[in_place.then_some("/posts")] hx-target=[in_place.then_some("#reply")] hx-swap=[in_place.then_some("outerHTML")]
            hx-encoding=[in_place.then_some("multipart/form-data")] {
            input type="hidden" name="csrf" value=(ctx.csrf);
            @if let Some(r) = s.in_reply_to { input type="hidden" name="in_reply_to" value=(r); }
            @if let Some(q) = s.quote_of { input type="hidden" name="quote_of" value=(q); }
            @if let Some(e) = &s.error { p.notice.error id=(err_id) role="alert" { (e) } }
            label for=(body_id) { (label) }
            textarea id=(body_id) name="body" rows="4" placeholder=(if s.in_reply_to.is_some() { "Write a reply…" } else { "Start a conversation…" })
                aria-describedby=(format!("{id_prefix}hint")) aria-invalid=[s.error.as_ref().map(|_| "true")] { (s.body) }
            p.hint id=(format!("{id_prefix}hint")) { "Up to " (max) " characters. Links, @mentions and #hashtags become links." }
            (compose_attachments(ctx, s))
            details.compose-more open[!s.content_warning.is_empty() || vis != Visibility::Public || pol != ReplyPolicy::Anyone] {
                summary { "Options: content warning, who can see and reply" }
                div.compose-options {
                    div.field {
                        label for=(cw_id) { "Content warning (optional)" }
                        input id=(cw_id) type="text" name="content_warning" value=(s.content_warning) placeholder="Shown instead of the text until opened";
                    }
                    div.field {
                        label for=(vis_id) { "Who can see it" }
                        select id=(vis_id) name="visibility" {
                            @for v in [Visibility::Public, Visibility::Followers, Visibility::Mentioned] {
                                option value=(v.as_str()) selected[v == vis] { (v.label()) }
                            }
                        }
                    }
                    div.field {
                        label for=(pol_id) { "Who can reply" }
                        select id=(pol_id) name="reply_policy" {
                            @for p in [ReplyPolicy::Anyone, ReplyPolicy::Following, ReplyPolicy::Mentioned] {
                                option value=(p.as_str()) selected[p == pol] { (p.label()) }
                            }
                        }
                    }
                }
            }
            div.compose-actions {
                button.primary type="submit" { (if s.in_reply_to.is_some() { "Reply" } else { "Post" }) }
            }
            // After the Post button in the document, so that Enter posts; shown above it.
            (file_picker(ctx, s, id_prefix))
        }
    }
}

/// The composer's photos and videos: previews of uploads with a description field each, and
/// the file picker. Without JS, "Upload" sends the files and shows them here to describe;
/// with JS, picking files does that at once.
fn compose_attachments(ctx: &Ctx, s: &ComposeState) -> Markup {
    let m = &ctx.core.config.media;
    html! {
        @if !s.media.is_empty() {
            ul.attachments {
                @for a in &s.media {
                    @let alt_id = format!("alt-{}", a.view.id);
                    li.attachment {
                        input type="hidden" name="media_id" value=(a.view.id);
                        div.attachment-preview {
                            @match (&a.view.small, a.view.kind) {
                                (Some((f, w, h)), MediaKind::Image) => { img src=(Urls::media(f)) alt="" width=(w) height=(h); }
                                (_, MediaKind::Video) => { video src=(Urls::media(&a.view.file)) preload="metadata" muted {} }
                                _ => { img src=(Urls::media(&a.view.file)) alt="" width=(a.view.width) height=(a.view.height); }
                            }
                        }
                        div.attachment-fields {
                            label for=(alt_id) { "Description (alt text)" }
                            textarea id=(alt_id) name=(format!("alt_{}", a.view.id)) rows="2" maxlength=(m.alt_chars)
                                placeholder="Describe it for people who can't see it" { (a.alt) }
                            @if a.alt.trim().is_empty() {
                                p.hint.warn { "No description yet: add one so that everyone can follow." }
                            }
                            div.attachment-checks {
                                label.check {
                                    input type="checkbox" name=(format!("sensitive_{}", a.view.id)) value="1" checked[a.sensitive];
                                    " Sensitive: blur until clicked"
                                }
                                label.check {
                                    input type="checkbox" name=(format!("remove_{}", a.view.id)) value="1";
                                    " Remove"
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The file picker. Without JS, "Upload" sends the files and shows them above to describe;
/// with JS, picking files does that at once.
fn file_picker(ctx: &Ctx, s: &ComposeState, id_prefix: &str) -> Markup {
    let m = &ctx.core.config.media;
    let file_id = format!("{id_prefix}media");
    let room = m.attachments_per_post.saturating_sub(s.media.len());
    html! {
        @if room > 0 {
            div.field.file-field {
                label for=(file_id) { "Photos or video (up to " (room) ")" }
                input id=(file_id) type="file" name="media" multiple
                    accept="image/jpeg,image/png,image/gif,image/webp,video/mp4,video/webm" data-autoupload;
                button.secondary type="submit" name="action" value="attach" { "Upload" }
            }
        }
    }
}

/// The in-place reply box on a thread page: posts with htmx and swaps itself plus the new reply.
pub fn reply_box(ctx: &Ctx, post: &PostView, s: &ComposeState) -> Markup {
    let mut st = s.clone();
    st.in_reply_to = Some(post.id);
    if st.body.is_empty() && st.error.is_none() && ctx.viewer_id() != Some(post.author.id) {
        st.body = format!("@{} ", post.author.username);
    }
    if st.visibility.is_none() && post.visibility != Visibility::Public {
        st.visibility = Some(post.visibility);
    }
    html! {
        section #reply .reply-box {
            h2.visually-hidden { "Reply" }
            (compose_form_with(ctx, &st, "reply-", true))
        }
    }
}

pub fn load_more(next_url: Option<String>) -> Markup {
    html! {
        @if let Some(u) = next_url {
            div.load-more {
                a.button href=(u) hx-get=(u) hx-target="closest .load-more" hx-swap="outerHTML" hx-select=".paged > *" { "Load older" }
            }
        } @else {
            p.end-of-feed { "You're all caught up." }
        }
    }
}

/// Room for one card in a feed's buffer (a logged-in card without media is about 3 KB).
const CARD_BYTES: usize = 4096;

pub fn feed(ctx: &Ctx, items: &[FeedItem], next_url: Option<String>, empty: &str) -> Markup {
    // The cards go into one buffer sized for them up front: grown card by card from maud's
    // small estimate, it was copied over about five times (perf: 2% of a home page).
    let mut out = String::with_capacity(items.len() * CARD_BYTES + 1024);
    out.push_str(r#"<div class="feed paged">"#);
    if items.is_empty() && next_url.is_none() {
        html! { p.empty { (empty) } }.render_to(&mut out);
    }
    for it in items {
        feed_item(ctx, it).render_to(&mut out);
    }
    load_more(next_url).render_to(&mut out);
    out.push_str("</div>");
    PreEscaped(out)
}

/// The next page's URL: the current path with `before` set (and other query kept).
pub fn next_url(path: &str, extra: &[(&str, &str)], next: Option<i64>) -> Option<String> {
    next.map(|n| {
        let mut q: Vec<String> = extra
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        q.push(format!("before={n}"));
        format!("{path}?{}", q.join("&"))
    })
}

pub fn follow_button(ctx: &Ctx, a: &Account, rel: &Relationship) -> Markup {
    let Some(v) = &ctx.viewer else {
        return html! { a.button.primary href="/login" { "Log in to follow" } };
    };
    if v.id() == a.id {
        return html! { a.button href="/settings" { "Edit profile" } };
    }
    if rel.blocking {
        return html! {};
    }
    let (action, label, class) = if rel.following {
        ("unfollow", "Unfollow", "button")
    } else if rel.requested {
        ("unfollow", "Cancel request", "button")
    } else if a.locked {
        ("follow", "Request to follow", "button primary")
    } else {
        ("follow", "Follow", "button primary")
    };
    let url = format!("/@{}/{action}", a.username);
    html! {
        form.inline.follow-form method="post" action=(url) hx-post=(url) hx-swap="outerHTML" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            button type="submit" class=(class) { (label) }
        }
    }
}

/// Block or unblock, beside the follow button on a profile.
pub fn block_button(ctx: &Ctx, a: &Account, rel: &Relationship) -> Markup {
    match &ctx.viewer {
        Some(v) if v.id() != a.id => {
            let (action, label) = if rel.blocking {
                ("unblock", "Unblock")
            } else {
                ("block", "Block")
            };
            html! {
                form.inline method="post" action=(format!("/@{}/{action}", a.username)) {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    button.button type="submit" title=(if rel.blocking { "Let this person follow and reply to you again" } else { "Stop this person from following, replying to or mentioning you" }) { (label) }
                }
            }
        }
        _ => html! {},
    }
}

pub fn account_row(ctx: &Ctx, a: &Account, extra: Markup) -> Markup {
    html! {
        div.account-row {
            (avatar(&a.username, &a.display_name, a.avatar.as_deref(), ""))
            div.account-row-main {
                div.who { (name_line(ctx, &a.brief())) @if a.locked { span.vis title="Approves followers" { (icons::lock()) } } }
                @if !a.bio.is_empty() { p.bio-snippet { (a.bio.chars().take(140).collect::<String>()) } }
            }
            div.account-row-actions { (extra) }
        }
    }
}
