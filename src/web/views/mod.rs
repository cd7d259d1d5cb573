//! maud only: the layout, components (post card, profile header, forms) and pages. Views take
//! read models and return markup; they never call services. Everything a user wrote is escaped
//! by maud; nothing here uses `PreEscaped` on user text.

pub mod components;
pub mod federation;
pub mod icons;
pub mod pages;
pub mod reports;
pub mod search;

use maud::{DOCTYPE, Markup, PreEscaped, Render, html};

use super::extract::Ctx;
use crate::domain::now_secs;
use crate::service::search::Kind;

/// Text escaped exactly as maud escapes it (`&`, `<`, `>`, `"`), but copied in runs between
/// those bytes instead of byte by byte: maud's escaper took 8% of the server's time on a home
/// page (perf, `bench/http.sh` home). For the text a post card repeats: bodies, URLs, tokens.
pub struct Esc<'a>(pub &'a str);

impl maud::Render for Esc<'_> {
    fn render_to(&self, out: &mut String) {
        let s = self.0;
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => continue,
            };
            // `i` is at an ASCII byte, so both slices end on character boundaries.
            out.push_str(&s[start..i]);
            out.push_str(entity);
            start = i + 1;
        }
        out.push_str(&s[start..]);
    }
}

/// Labels for a flash message shown at the top of the main column.
pub enum Notice<'a> {
    Info(&'a str),
    Error(&'a str),
}

pub fn notice(n: &Notice<'_>) -> Markup {
    match n {
        Notice::Info(m) => html! { p.notice.info role="status" { (m) } },
        Notice::Error(m) => html! { p.notice.error role="alert" { (m) } },
    }
}

/// What a navigation link's count counts, said to screen readers.
#[derive(Clone, Copy)]
enum Badge {
    None,
    Unread(i64),
    FollowRequests(i64),
}

impl Badge {
    /// The count and its spoken label, when there is something to count.
    fn shown(self) -> Option<(i64, String)> {
        match self {
            Badge::Unread(n) if n > 0 => Some((n, format!("{n} unread"))),
            Badge::FollowRequests(1) => Some((1, "1 follow request".to_string())),
            Badge::FollowRequests(n) if n > 0 => Some((n, format!("{n} follow requests"))),
            _ => None,
        }
    }
}

fn nav_link(ctx: &Ctx, href: &str, label: &str, icon: icons::Icon, badge: Badge) -> Markup {
    // The page itself or one below it by whole path segments (/@alice/followers, not /@alicex).
    let current = ctx.path == href
        || (href != "/" && ctx.path.starts_with(&format!("{href}/")) && !href.starts_with("/@"));
    html! {
        a.nav-link href=(href) aria-current=[current.then_some("page")] {
            (icon)
            span.nav-label { (label) }
            @if let Some((count, said)) = badge.shown() {
                span.badge aria-label=(said) {
                    @if count >= crate::service::notifications::UNREAD_CAP { "99+" } @else { (count) }
                }
            }
        }
    }
}

/// Renders nothing, but makes room for this many more bytes in the buffer it is rendered
/// into: a page that is about to take a large body grows once, instead of doubling its way
/// up and copying what it holds at each step.
struct Room(usize);

impl Render for Room {
    fn render_to(&self, buffer: &mut String) {
        buffer.reserve(self.0);
    }
}

/// Room for the frame around a page's main column (head, navigation, footer).
const FRAME_BYTES: usize = 16 * 1024;

/// The page frame: head, navigation, main column, footer.
pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    page_of(ctx, title, &[body])
}

/// [`page`] with a main column in parts, each spliced once into the page (a feed page's
/// cards are not copied into a body first).
pub fn page_of(ctx: &Ctx, title: &str, body: &[Markup]) -> Markup {
    let instance = &ctx.settings.name;
    let csrf_header = format!(r#"{{"X-CSRF-Token": "{}"}}"#, ctx.csrf);
    let body_bytes: usize = body.iter().map(|m| m.0.len()).sum();
    html! {
        (Room(body_bytes + FRAME_BYTES))
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"422","swap":true},{"code":"[45]..","swap":false,"error":true}]}"#;
                title { (title) " · " (instance) }
                link rel="stylesheet" href=(crate::assets::url("style.css"));
                link rel="icon" href=(crate::assets::url("favicon.svg")) type="image/svg+xml";
                script src=(crate::assets::url("htmx.min.js")) defer {}
                script src=(crate::assets::url("weft.js")) defer {}
            }
            body hx-headers=(csrf_header) {
                (PreEscaped(icons::SPRITE))
                a.skip href="#main" { "Skip to content" }
                div.shell {
                    header.sidebar {
                        a.brand href="/" { span.brand-mark { "w" } span.brand-name { (instance) } }
                        div.nav-search { (search::search_form("", Kind::Posts, "nav-q")) }
                        nav.nav aria-label="Main" {
                            @if let Some(v) = &ctx.viewer {
                                (nav_link(ctx, "/", "Home", icons::home(), Badge::None))
                                (nav_link(ctx, "/explore", "Explore", icons::search(), Badge::None))
                                (nav_link(ctx, "/public", "Public", icons::globe(), Badge::None))
                                (nav_link(ctx, "/notifications", "Notifications", icons::bell(), Badge::Unread(ctx.unread)))
                                (nav_link(ctx, "/bookmarks", "Bookmarks", icons::bookmark(), Badge::None))
                                (nav_link(ctx, &format!("/@{}", v.account.username), "Profile", icons::user(), Badge::FollowRequests(ctx.follow_requests)))
                                (nav_link(ctx, "/settings", "Settings", icons::gear(), Badge::None))
                                @if v.role().is_staff() {
                                    (nav_link(ctx, "/admin", "Admin", icons::shield(), Badge::None))
                                }
                            } @else {
                                (nav_link(ctx, "/public", "Public", icons::globe(), Badge::None))
                                (nav_link(ctx, "/explore", "Explore", icons::search(), Badge::None))
                                (nav_link(ctx, "/login", "Log in", icons::user(), Badge::None))
                                (nav_link(ctx, "/signup", "Sign up", icons::pen(), Badge::None))
                            }
                        }
                        @if let Some(v) = &ctx.viewer {
                            div.sidebar-foot {
                                a.compose-button href="/compose" { (icons::pen()) span { "New post" } }
                                form.logout method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    button.link type="submit" { "Log out @" (v.account.username) }
                                }
                            }
                        }
                    }
                    main #main .main tabindex="-1" {
                        @for part in body { (part) }
                    }
                }
                footer.footer {
                    p { (instance) " · powered by weft" }
                }
            }
        }
    }
}

/// A time shown relative to now, with the exact time on hover and for machines.
pub fn time(secs: i64) -> Markup {
    // One plain format instead of two format descriptions (perf: 2.7% of a home page).
    let iso = time::OffsetDateTime::from_unix_timestamp(secs)
        .map(|t| {
            let (h, m, s) = t.to_hms();
            format!(
                "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day()
            )
        })
        .unwrap_or_default();
    // "2026-12-03 06:19 UTC": the date and minute of the ISO form (all ASCII), spliced in
    // rather than formatted into a string of its own.
    let title = iso.get(..10).zip(iso.get(11..16)).map(|(date, minute)| {
        html! { (PreEscaped(date)) " " (PreEscaped(minute)) " UTC" }
    });
    html! { time datetime=(PreEscaped(&iso)) title=[title] { (relative(secs, now_secs())) } }
}

pub fn relative(secs: i64, now: i64) -> String {
    let d = (now - secs).max(0);
    match d {
        0..=44 => "now".into(),
        45..=3599 => format!("{}m", (d / 60).max(1)),
        3600..=86_399 => format!("{}h", d / 3600),
        86_400..=604_799 => format!("{}d", d / 86_400),
        _ => {
            let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else {
                return String::new();
            };
            let Ok(n) = time::OffsetDateTime::from_unix_timestamp(now) else {
                return String::new();
            };
            let fmt = if t.year() == n.year() {
                time::macros::format_description!("[month repr:short] [day padding:none]")
            } else {
                time::macros::format_description!("[month repr:short] [day padding:none], [year]")
            };
            t.format(&fmt).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Esc, relative, time};
    use maud::html;

    #[test]
    fn times_carry_the_exact_moment() {
        let m = time(1_796_300_399).into_string();
        assert!(
            m.starts_with(r#"<time datetime="2026-12-03T12:19:59Z" title="2026-12-03 12:19 UTC">"#),
            "{m}"
        );
        let epoch = time(0).into_string();
        assert!(
            epoch.starts_with(
                r#"<time datetime="1970-01-01T00:00:00Z" title="1970-01-01 00:00 UTC">"#
            ),
            "{epoch}"
        );
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_800_000_000;
        assert_eq!(relative(now - 10, now), "now");
        assert_eq!(relative(now - 300, now), "5m");
        assert_eq!(relative(now - 7200, now), "2h");
        assert_eq!(relative(now - 3 * 86_400, now), "3d");
        assert!(relative(now - 400 * 86_400, now).contains(", "));
    }

    #[test]
    fn escapes_as_maud_does() {
        for s in [
            "",
            "plain",
            "<script>alert(\"x\") & 'y'</script>",
            "&&<<>>\"\"",
            "ünïcödé <b>ü</b> 🎉&",
            "trailing &",
            "&leading",
        ] {
            assert_eq!(
                html! { (Esc(s)) }.into_string(),
                html! { (s) }.into_string(),
                "{s}"
            );
            assert_eq!(
                html! { a href=(Esc(s)) {} }.into_string(),
                html! { a href=(s) {} }.into_string()
            );
        }
    }
}
