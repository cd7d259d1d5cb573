//! Small SVG icons (drawn for weft; stroke-based so they follow the text colour). Each page
//! carries every drawing once, in [`SPRITE`]; an icon is a reference to its drawing (a feed
//! page shows about a hundred: inline they were 30 KB of a logged-in home page of 88 KB,
//! which is now 71 KB).

use maud::PreEscaped;

/// An icon: a reference into the page's sprite, put together at compile time. How it is
/// drawn (no fill, a round 2 px stroke in the text colour) and its size are in the stylesheet
/// (`.icon`, loaded before the page renders), so states such as a liked heart can fill it and
/// a card carries no size attributes for its seven icons.
pub type Icon = PreEscaped<&'static str>;

macro_rules! icons {
    ($($name:ident => $paths:literal,)*) => {
        $(
            pub fn $name() -> Icon {
                PreEscaped(concat!(
                    r##"<svg class="icon" aria-hidden="true"><use href="#i-"##,
                    stringify!($name),
                    r#""/></svg>"#
                ))
            }
        )*

        /// Every icon's drawing, once at the top of each page (kept out of sight by the
        /// `sprite` class). The verified badge is filled, so it reads as a mark rather than a
        /// control.
        pub const SPRITE: &str = concat!(
            r#"<svg class="sprite" aria-hidden="true" focusable="false">"#,
            $(r#"<symbol id="i-"#, stringify!($name), r#"" viewBox="0 0 24 24">"#, $paths, "</symbol>",)*
            r#"<symbol id="i-verified" viewBox="0 0 24 24"><path fill="currentColor" d="M12 2l2.4 1.8 3-.2 1 2.8 2.6 1.5-.6 2.9 1.2 2.7-2.1 2 .1 3-2.9.7-1.5 2.6-2.8-1-2.8 1-1.5-2.6-2.9-.7.1-3-2.1-2 1.2-2.7-.6-2.9 2.6-1.5 1-2.8 3 .2z"/><path d="M8 12.5l2.7 2.7L16.5 9.5" fill="none" stroke="white" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></symbol>"#,
            "</svg>"
        );
    };
}

icons! {
    home => r#"<path d="M3 11l9-8 9 8"/><path d="M5 10v10h5v-6h4v6h5V10"/>"#,
    globe => r#"<circle cx="12" cy="12" r="9"/><path d="M3 12h18"/><path d="M12 3c3 3.5 3 14.5 0 18c-3-3.5-3-14.5 0-18z"/>"#,
    search => r#"<circle cx="11" cy="11" r="7"/><path d="M20 20l-4-4"/>"#,
    bell => r#"<path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4z"/><path d="M10 20a2 2 0 0 0 4 0"/>"#,
    user => r#"<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 4-6 8-6s8 2 8 6"/>"#,
    gear => r#"<circle cx="12" cy="12" r="3"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1"/>"#,
    shield => r#"<path d="M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6z"/>"#,
    bookmark => r#"<path d="M6 3h12v18l-6-4-6 4z"/>"#,
    heart => r#"<path d="M12 20s-7-4.5-9-9a4.5 4.5 0 0 1 9-2a4.5 4.5 0 0 1 9 2c-2 4.5-9 9-9 9z"/>"#,
    repost => r#"<path d="M4 9V7a2 2 0 0 1 2-2h12l-3-3M20 15v2a2 2 0 0 1-2 2H6l3 3"/>"#,
    reply => r#"<path d="M4 5h16v11H9l-5 4z"/>"#,
    quote => r#"<path d="M7 7h4v4c0 3-2 5-4 6M15 7h4v4c0 3-2 5-4 6"/>"#,
    lock => r#"<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V8a4 4 0 0 1 8 0v3"/>"#,
    mail => r#"<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>"#,
    pen => r#"<path d="M4 20l4-1 11-11-3-3L5 16z"/><path d="M14 6l3 3"/>"#,
    more => r#"<circle cx="5" cy="12" r="1"/><circle cx="12" cy="12" r="1"/><circle cx="19" cy="12" r="1"/>"#,
}

/// The verified badge.
pub fn verified() -> Icon {
    PreEscaped(
        r##"<svg class="icon verified-icon" width="16" height="16" aria-hidden="true"><use href="#i-verified"/></svg>"##,
    )
}
