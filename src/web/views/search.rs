//! Search, explore (trends), hashtag headers, and the search settings and admin pages.

use maud::{Markup, html};

use super::components::{self, CardOpts, account_row, feed, load_more, post_card};
use super::{Notice, notice, page};
use crate::search::{Cursor, Order, SearchStats};
use crate::service::search::{Kind, PostHit, TagUse};
use crate::service::trends::Explore;
use crate::store::models::{Account, FeedItem};
use crate::urls::Urls;
use crate::web::extract::Ctx;

fn heading(title: &str) -> Markup {
    html! { div.page-head { h1 { (title) } } }
}

/// The search box; `kind` is kept so a new query stays on the same tab.
pub fn search_form(q: &str, kind: Kind, id: &str) -> Markup {
    html! {
        form.search-form method="get" action="/search" role="search" {
            label.visually-hidden for=(id) { "Search posts, people and hashtags" }
            input id=(id) type="search" name="q" value=(q) placeholder="Search" autocomplete="off" maxlength="2000";
            @if kind != Kind::Posts { input type="hidden" name="type" value=(kind.as_str()); }
            button.button.primary type="submit" { "Search" }
        }
    }
}

/// A search URL; every value is form-encoded.
pub fn search_url(q: &str, kind: Kind, order: Order, cursor: Option<Cursor>) -> String {
    let mut params: Vec<(&str, String)> = vec![("q", q.to_string())];
    if kind != Kind::Posts {
        params.push(("type", kind.as_str().to_string()));
    }
    if order == Order::Relevant {
        params.push(("order", "relevant".to_string()));
    }
    if let Some(c) = cursor {
        params.push(("cursor", c.to_param()));
    }
    format!(
        "/search?{}",
        serde_urlencoded::to_string(&params).unwrap_or_default()
    )
}

fn help() -> Markup {
    html! {
        details.search-help {
            summary { "How to search" }
            dl {
                dt { code { "coffee beans" } } dd { "posts with both words (accents and case do not matter)" }
                dt { code { "\"exact phrase\"" } } dd { "these words in this order" }
                dt { code { "-word" } } dd { "leave out posts with this word or " code { "-\"phrase\"" } }
                dt { code { "from:name" } } dd { "posts by one account" }
                dt { code { "#tag" } } dd { "posts with a hashtag" }
                dt { code { "@name" } } dd { "posts that mention someone" }
                dt { code { "has:media" } } dd { "posts with photos or video" }
                dt { code { "is:reply" } " / " code { "-is:reply" } } dd { "only replies, or no replies" }
                dt { code { "after:2026-01-31" } " " code { "before:2026-02-28" } } dd { "posts from a date range (UTC)" }
            }
            p.hint { "Posts of people who chose not to appear in search are left out. Languages are not recorded, so " code { "lang:" } " is ignored. A query that does not parse is read as plain words." }
        }
    }
}

pub struct SearchPage<'a> {
    pub q: &'a str,
    pub kind: Kind,
    pub order: Order,
    pub rebuilding: bool,
    pub posts: &'a [PostHit],
    pub next: Option<Cursor>,
    pub people: &'a [Account],
    pub tags: &'a [TagUse],
}

pub fn search(ctx: &Ctx, s: &SearchPage<'_>) -> Markup {
    let tab = |k: Kind, label: &str| {
        html! {
            a.tab href=(search_url(s.q, k, Order::Newest, None)) aria-current=[(k == s.kind).then_some("page")] { (label) }
        }
    };
    let order_link = |o: Order, label: &str| {
        html! {
            a.chip href=(search_url(s.q, Kind::Posts, o, None)) aria-current=[(o == s.order).then_some("true")] { (label) }
        }
    };
    let has_q = !s.q.trim().is_empty();
    let body = html! {
        (heading("Search"))
        (search_form(s.q, s.kind, "search-q"))
        @if s.rebuilding {
            (notice(&Notice::Info("The search index is being rebuilt; some results may be missing for a few minutes.")))
        }
        @if has_q {
            nav.tabs aria-label="Results" {
                (tab(Kind::Posts, "Posts"))
                (tab(Kind::People, "People"))
                (tab(Kind::Tags, "Hashtags"))
            }
        }
        @match s.kind {
            Kind::Posts => {
                @if has_q {
                    div.chips aria-label="Order" { (order_link(Order::Newest, "Newest")) (order_link(Order::Relevant, "Most relevant")) }
                    div.feed.paged {
                        @if s.posts.is_empty() && s.next.is_none() {
                            p.empty { "No posts match. Try fewer words, or check the spelling." }
                        }
                        @for h in s.posts { (hit(ctx, h)) }
                        @match s.next {
                            Some(c) => (load_more(Some(search_url(s.q, Kind::Posts, s.order, Some(c))))),
                            None => @if !s.posts.is_empty() { p.end-of-feed { "No more results." } },
                        }
                    }
                }
            }
            Kind::People => {
                div.account-list {
                    @if s.people.is_empty() { p.empty { "Nobody matches." } }
                    @for a in s.people {
                        a.account-link href=(Urls::profile(&a.username)) { (account_row(ctx, a, html! {})) }
                    }
                }
            }
            Kind::Tags => {
                ul.tag-list {
                    @if s.tags.is_empty() { p.empty { "No hashtag matches." } }
                    @for t in s.tags {
                        li { a.hashtag href=(Urls::tag(&t.name)) { "#" (t.name) } span.hint { " " (posts_label(t.posts)) } }
                    }
                }
            }
        }
        (help())
    };
    let title = if has_q {
        format!("{} – Search", s.q.chars().take(60).collect::<String>())
    } else {
        "Search".into()
    };
    page(ctx, &title, body)
}

fn size(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{} kB", bytes.div_ceil(1000))
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

fn posts_label(n: i64) -> String {
    if n == 1 {
        "1 post".into()
    } else {
        format!("{n} posts")
    }
}

fn people_label(n: i64) -> String {
    if n == 1 {
        "1 person".into()
    } else {
        format!("{n} people")
    }
}

fn hit(ctx: &Ctx, h: &PostHit) -> Markup {
    post_card(
        ctx,
        &h.item.post,
        &CardOpts {
            marks: h.marks.clone(),
            ..CardOpts::default()
        },
    )
}

pub fn explore(ctx: &Ctx, e: &Explore) -> Markup {
    let when = if e.window_hours == 24 {
        "today".to_string()
    } else {
        format!("in the last {} hours", e.window_hours)
    };
    let staff = ctx.is_staff();
    let body = html! {
        (heading("Explore"))
        (search_form("", Kind::Posts, "explore-q"))
        section.trends #trending-tags aria-labelledby="trending-tags-h" {
            h2 #trending-tags-h { "Trending hashtags" }
            @if e.tags.is_empty() {
                p.empty { "Nothing is trending yet. A hashtag trends when several people use it." }
            } @else {
                ol.trend-list {
                    @for t in &e.tags {
                        li.trend {
                            a.hashtag href=(Urls::tag(&t.tag)) { "#" (t.tag) }
                            span.trend-numbers { (people_label(t.people as i64)) ", " (posts_label(t.posts)) " " (when) }
                            @if staff {
                                form.inline method="post" action=(format!("/admin/trends/tags/{}/hide", t.tag)) {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    button.link type="submit" { "Hide from trends" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.trends #trending-posts aria-labelledby="trending-posts-h" {
            h2 #trending-posts-h { "Trending posts" }
            @if e.posts.is_empty() {
                p.empty { "No post is trending yet." }
            }
            div.feed {
                @for t in &e.posts {
                    div.trend-post {
                        p.trend-numbers { (people_label(t.people)) " liked, reposted, replied or quoted " (when)
                            @if staff {
                                " · "
                                form.inline method="post" action=(format!("/admin/trends/posts/{}/hide", t.item.post.id)) {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    button.link type="submit" { "Hide from trends" }
                                }
                            }
                        }
                        (components::feed_item(ctx, &t.item))
                    }
                }
            }
        }
    };
    page(ctx, "Explore", body)
}

/// The hashtag page: its public posts, how many, and a follow button.
pub fn tag(
    ctx: &Ctx,
    tag: &str,
    count: i64,
    following: bool,
    items: &[FeedItem],
    next: Option<String>,
) -> Markup {
    let title = format!("#{tag}");
    let body = html! {
        div.page-head.tag-head {
            h1 { (title) }
            p.hint { (posts_label(count)) }
            @if ctx.viewer.is_some() {
                (tag_follow_button(ctx, tag, following))
            } @else {
                a.button.primary href="/login" { "Log in to follow" }
            }
        }
        (feed(ctx, items, next, "No public posts with this tag yet."))
    };
    page(ctx, &title, body)
}

pub fn tag_follow_button(ctx: &Ctx, tag: &str, following: bool) -> Markup {
    let (action, label, class) = if following {
        ("unfollow", "Unfollow hashtag", "button")
    } else {
        ("follow", "Follow hashtag", "button primary")
    };
    let url = format!("/tags/{tag}/{action}");
    html! {
        form.inline.follow-form method="post" action=(url) hx-post=(url) hx-swap="outerHTML" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            button type="submit" class=(class) { (label) }
        }
    }
}

pub fn settings(
    ctx: &Ctx,
    opted_out: bool,
    tags: &[String],
    message: Option<Notice<'_>>,
) -> Markup {
    let body = html! {
        (heading("Search and hashtags"))
        p { a href="/settings" { "← All settings" } }
        @if let Some(n) = &message { (notice(n)) }
        section.settings-section #discoverability {
            h2 { "Search" }
            form method="post" action="/settings/search" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                label.check {
                    input type="checkbox" name="opt_out" value="1" checked[opted_out];
                    " Don't show my posts or my profile in search and trends"
                }
                p.hint { "Your public posts stay public: people can still see them on your profile, in threads and in hashtag pages." }
                button.button.primary type="submit" { "Save" }
            }
        }
        section.settings-section #followed-tags {
            h2 { "Followed hashtags" }
            p.hint { "Public posts with these hashtags appear in your home feed." }
            @if tags.is_empty() {
                p.empty { "You don't follow any hashtag. Open one (for example from " a href="/explore" { "Explore" } ") and choose Follow." }
            }
            ul.tag-list {
                @for t in tags {
                    li {
                        a.hashtag href=(Urls::tag(t)) { "#" (t) }
                        " "
                        form.inline method="post" action=(format!("/tags/{t}/unfollow")) {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            input type="hidden" name="back" value="/settings/search";
                            button.link type="submit" { "Unfollow" }
                        }
                    }
                }
            }
        }
    };
    page(ctx, "Search and hashtags", body)
}

pub struct AdminSearch<'a> {
    pub stats: Option<&'a SearchStats>,
    pub rebuilding: bool,
    pub rebuilt: u64,
    pub hidden_tags: &'a [String],
    pub hidden_posts: &'a [crate::store::models::PostView],
    pub notice: Option<Notice<'a>>,
}

pub fn admin(ctx: &Ctx, a: &AdminSearch<'_>) -> Markup {
    let body = html! {
        (heading("Search and trends"))
        p { a href="/admin" { "← Administration" } }
        @if let Some(n) = &a.notice { (notice(n)) }
        section.settings-section #index {
            h2 { "Search index" }
            @if let Some(s) = a.stats {
                dl.facts {
                    div { dt { "Posts indexed" } dd { (s.posts) } }
                    div { dt { "People indexed" } dd { (s.people) } }
                    div { dt { "Segments" } dd { (s.post_segments) " + " (s.people_segments) } }
                    div { dt { "Size on disk" } dd { (size(s.bytes_on_disk)) } }
                    div { dt { "Generation" } dd { (s.generation) " (schema " (s.schema_version) ")" } }
                }
            } @else {
                p { "This process has no search index." }
            }
            @if a.rebuilding {
                p.notice.info role="status" { "Rebuilding: " (a.rebuilt) " posts indexed so far. Search works meanwhile from the old index." }
            } @else {
                form method="post" action="/admin/search/rebuild" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    p.hint { "Rebuilds the whole index from the database in the background; search keeps working meanwhile." }
                    button.button type="submit" { "Rebuild the search index" }
                }
            }
        }
        section.settings-section #hidden-trends {
            h2 { "Hidden from trends" }
            @if a.hidden_tags.is_empty() && a.hidden_posts.is_empty() {
                p.empty { "Nothing is hidden. Moderators can hide a hashtag or post from " a href="/explore" { "Explore" } "." }
            }
            ul.tag-list {
                @for t in a.hidden_tags {
                    li {
                        a.hashtag href=(Urls::tag(t)) { "#" (t) } " "
                        form.inline method="post" action=(format!("/admin/trends/tags/{t}/unhide")) {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.link type="submit" { "Allow in trends again" }
                        }
                    }
                }
            }
            @for p in a.hidden_posts {
                div.trend-post {
                    (post_card(ctx, p, &CardOpts::default()))
                    form.inline method="post" action=(format!("/admin/trends/posts/{}/unhide", p.id)) {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        button.link type="submit" { "Allow in trends again" }
                    }
                }
            }
        }
    };
    page(ctx, "Search and trends", body)
}
