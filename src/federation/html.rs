//! HTML across the wire: what arrives is sanitised once, before it is stored (ammonia, with
//! the small set of tags and classes Mastodon itself keeps), and turned into plain text for
//! search and previews; what leaves is built from our plain text with every piece escaped.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::domain::text::{Segment, segments};

fn cleaner() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let tags: HashSet<&str> = [
            "p",
            "br",
            "a",
            "span",
            "strong",
            "b",
            "em",
            "i",
            "u",
            "del",
            "s",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
        ]
        .into_iter()
        .collect();
        let mut b = ammonia::Builder::default();
        b.tags(tags)
            .link_rel(Some("nofollow noopener noreferrer"))
            .url_schemes(["http", "https"].into_iter().collect())
            // Only the classes that mark mentions, hashtags and shortened links survive, so
            // a remote post cannot borrow our page's styles.
            .allowed_classes(
                [
                    (
                        "a",
                        ["mention", "hashtag", "u-url", "status-link"].as_slice(),
                    ),
                    ("span", ["h-card", "invisible", "ellipsis"].as_slice()),
                ]
                .into_iter()
                .map(|(t, cs)| (t, cs.iter().copied().collect()))
                .collect(),
            );
        b
    })
}

/// Sanitised HTML of a remote post or profile, safe to show as it is.
pub fn sanitize(html: &str) -> String {
    cleaner().clean(html).to_string()
}

/// Plain text of a piece of HTML: paragraphs and line breaks become newlines, tags go,
/// entities are decoded.
pub fn to_text(html: &str) -> String {
    let marked = html
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</p>", "\n\n");
    let stripped = ammonia::Builder::empty().clean(&marked).to_string();
    let text = decode_entities(&stripped);
    text.trim().to_string()
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // `;` is ASCII, so its byte position is a character boundary.
        let Some(end) = rest.bytes().take(12).position(|b| b == b';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `s` with `& < > " '` escaped, for text and attribute values we write ourselves.
pub fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape(s, &mut out);
    out
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The HTML `content` of one of our posts, as Mastodon writes it: paragraphs, line breaks,
/// links, mentions as h-cards and hashtags with rel="tag". `mention_href` gives a mention's
/// actor page (None leaves the mention as text); `tag_href` a hashtag's page.
pub fn from_text(
    text: &str,
    mention_href: &dyn Fn(&str, Option<&str>) -> Option<String>,
    tag_href: &dyn Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str("<p>");
    let mut newlines = 0;
    for seg in segments(text) {
        if !matches!(seg, Segment::Newline) {
            match newlines {
                0 => {}
                1 => out.push_str("<br>"),
                _ => out.push_str("</p><p>"),
            }
            newlines = 0;
        }
        match seg {
            Segment::Newline => newlines += 1,
            Segment::Text(t) => escape(t, &mut out),
            Segment::Link(url) => {
                out.push_str("<a href=\"");
                escape(url, &mut out);
                out.push_str("\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">");
                escape(url, &mut out);
                out.push_str("</a>");
            }
            Segment::Mention { raw, name, domain } => match mention_href(name, domain) {
                Some(href) => {
                    out.push_str("<span class=\"h-card\"><a href=\"");
                    escape(&href, &mut out);
                    out.push_str("\" class=\"u-url mention\">@<span>");
                    escape(name, &mut out);
                    out.push_str("</span></a></span>");
                }
                None => escape(raw, &mut out),
            },
            Segment::Hashtag { tag, .. } => {
                out.push_str("<a href=\"");
                escape(&tag_href(&tag.to_lowercase()), &mut out);
                out.push_str("\" class=\"mention hashtag\" rel=\"tag\">#<span>");
                escape(tag, &mut out);
                out.push_str("</span></a>");
            }
        }
    }
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_styles_and_handlers_are_removed() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:alert(1)">x</a>
            <img src=x onerror=alert(1)><a href="https://ok.example/" class="mention evil">ok</a>
            <span class="h-card big-red">@<span>bob</span></span><style>body{}</style></p>"#;
        let clean = sanitize(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(
            !clean.contains("onclick") && !clean.contains("onerror"),
            "{clean}"
        );
        assert!(!clean.contains("javascript:"), "{clean}");
        assert!(
            !clean.contains("<img") && !clean.contains("<style"),
            "{clean}"
        );
        assert!(
            !clean.contains("evil") && !clean.contains("big-red"),
            "{clean}"
        );
        assert!(clean.contains(r#"href="https://ok.example/""#), "{clean}");
        assert!(clean.contains("nofollow"), "{clean}");
    }

    #[test]
    fn html_becomes_text_with_line_breaks_and_entities() {
        let t =
            to_text("<p>One &amp; two<br>three &lt;4&gt;</p><p>Four&#39;s &#x1F600; &bogus;</p>");
        assert_eq!(t, "One & two\nthree <4>\n\nFour's 😀 &bogus;");
        // Multi-byte text right after an ampersand (a panic once).
        assert_eq!(to_text("<p>&日本語 &amp;日本語;x</p>"), "&日本語 &日本語;x");
        assert_eq!(to_text("&"), "&");
    }

    #[test]
    fn our_text_becomes_escaped_html_with_links() {
        let html = from_text(
            "Hi @bob and @carol@far.example <b>\n#Rust https://x.example/?a=1&b=2\n\nbye",
            &|name, domain| match (name, domain) {
                ("bob", None) => Some("https://here.example/users/bob".into()),
                _ => None,
            },
            &|tag| format!("https://here.example/tags/{tag}"),
        );
        assert_eq!(
            html,
            "<p>Hi <span class=\"h-card\"><a href=\"https://here.example/users/bob\" class=\"u-url mention\">@<span>bob</span></a></span> and @carol@far.example &lt;b&gt;<br>\
             <a href=\"https://here.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>Rust</span></a> \
             <a href=\"https://x.example/?a=1&amp;b=2\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">https://x.example/?a=1&amp;b=2</a></p><p>bye</p>"
        );
    }
}

/// Real-world shapes (tests/fixtures/ap) through the same reading as the inbox: the wire
/// types, then sanitising and plain text, as a remote post is stored and shown.
#[cfg(test)]
mod fixtures {
    use super::*;
    use crate::federation::protocol::{Activity, Object};

    fn note(json: &str) -> Object {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        if v.get("type").and_then(|t| t.as_str()) == Some("Create") {
            let a: Activity = serde_json::from_value(v).unwrap();
            a.embedded_object().cloned().unwrap()
        } else {
            serde_json::from_value(v).unwrap()
        }
    }

    #[test]
    fn fixture_posts_render_safely_with_their_text_and_links() {
        let cases: [(&str, &str, &str); 8] = [
            (
                "mastodon",
                include_str!("../../tests/fixtures/ap/mastodon/note.json"),
                "Ramen with",
            ),
            (
                "mastodon create",
                include_str!("../../tests/fixtures/ap/mastodon/create_note.json"),
                "@bob",
            ),
            (
                "gotosocial",
                include_str!("../../tests/fixtures/ap/gotosocial/note.json"),
                "New wheels!",
            ),
            (
                "pleroma",
                include_str!("../../tests/fixtures/ap/pleroma/note.json"),
                "@",
            ),
            (
                "misskey",
                include_str!("../../tests/fixtures/ap/misskey/note_with_quote.json"),
                "this is the way",
            ),
            (
                "threads",
                include_str!("../../tests/fixtures/ap/threads/note.json"),
                "Golden hour over the harbour",
            ),
            (
                "lemmy",
                include_str!("../../tests/fixtures/ap/lemmy/page.json"),
                "Release notes are in the link",
            ),
            (
                "fedify",
                include_str!("../../tests/fixtures/ap/fedify/note_with_quote.json"),
                "Couldn't agree more.",
            ),
        ];
        for (name, json, expected) in cases {
            let o = note(json);
            let html = sanitize(o.content.as_deref().unwrap_or(""));
            let text = to_text(&html);
            assert!(text.contains(expected), "{name}: {text:?}");
            assert!(
                !text.contains('<') && !text.contains("&amp;"),
                "{name}: {text:?}"
            );
            for bad in ["<script", "style=", "onclick", "data-user", "translate="] {
                assert!(!html.contains(bad), "{name}: {bad} kept in {html}");
            }
            // Links stay links, marked as coming from elsewhere.
            if html.contains("<a ") {
                assert!(
                    html.contains("rel=\"nofollow noopener noreferrer\""),
                    "{name}: {html}"
                );
            }
            assert!(o.id.is_some() && o.attributed_actor().is_some(), "{name}");
        }
    }
}
