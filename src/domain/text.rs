//! Post text: plain text in which URLs, `@mentions` and `#hashtags` become links and line
//! breaks are kept. Parsing produces segments; rendering (and escaping) is the view's job.

use super::{Invalid, char_len};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Newline,
    Link(&'a str),
    /// `@name` (local) or `@name@domain` (remote); `name` is lowercased by the consumer.
    Mention {
        raw: &'a str,
        name: &'a str,
        domain: Option<&'a str>,
    },
    Hashtag {
        raw: &'a str,
        tag: &'a str,
    },
}

/// Checked post text: trimmed, CRLF normalised, within the length limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostText(String);

impl PostText {
    /// `allow_empty` is for posts that carry something else (a quote, media).
    pub fn parse(raw: &str, max_chars: usize, allow_empty: bool) -> Result<PostText, Invalid> {
        let text = super::long_text(raw, usize::MAX, "A post")?;
        if text.is_empty() && !allow_empty {
            return Err(Invalid::new("Write something before posting."));
        }
        let n = char_len(&text);
        if n > max_chars {
            return Err(Invalid(format!(
                "A post can be at most {max_chars} characters; this one has {n}. Shorten it and try again."
            )));
        }
        Ok(PostText(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits text into segments. Never fails: anything that is not a link, mention or tag is text.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    scan(text, next_candidate)
}

/// The next byte at or after `from` where a segment can be found: a line break, `@`, `#`, or
/// the `:` of a link's scheme (a link is found from its colon, looking back for `http` or
/// `https`; `h` is too common a letter to try a link at each one). None of these bytes occurs
/// inside a multi-byte character, so the scan jumps between them instead of decoding every
/// character.
fn next_candidate(text: &str, from: usize) -> Option<usize> {
    text.as_bytes()[from..]
        .iter()
        .position(|b| matches!(b, b'\n' | b':' | b'@' | b'#'))
        .map(|skip| from + skip)
}

/// Splits `text`, trying a segment at each position `next` gives (a character boundary at or
/// after the position it is handed).
fn scan<'a>(text: &'a str, next: impl Fn(&str, usize) -> Option<usize>) -> Vec<Segment<'a>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while let Some(at) = next(text, i) {
        i = at;
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        match segment_at(text, text_start, i, c) {
            Some((start, len, seg)) => {
                if text_start < start {
                    out.push(Segment::Text(&text[text_start..start]));
                }
                out.push(seg);
                i = start + len;
                text_start = i;
            }
            None => i += c.len_utf8(),
        }
    }
    if text_start < text.len() {
        out.push(Segment::Text(&text[text_start..]));
    }
    out
}

/// The link, mention, tag or line break found at byte `i` (character `c`), as its start, its
/// length in bytes and the segment. It starts at `i`, except for a link found from the colon
/// after its scheme; nothing starts before `text_start`, where the previous segment ended. A
/// link is also found from its first letter, for a scan that hands every character (the
/// tests' reference scan, which the candidate scan must match).
fn segment_at(
    text: &str,
    text_start: usize,
    i: usize,
    c: char,
) -> Option<(usize, usize, Segment<'_>)> {
    let boundary = |at: usize| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|p| !is_word_char(p) && p != '/' && p != '@' && p != '#')
    };
    let link = |start: usize| {
        let rest = &text[start..];
        link_at(rest).map(|len| (start, len, Segment::Link(&rest[..len])))
    };
    if c == '\n' {
        Some((i, 1, Segment::Newline))
    } else if c == ':' {
        let before = &text.as_bytes()[text_start..i];
        let scheme = [&b"https"[..], b"http"].into_iter().find(|s| {
            before.len() >= s.len() && before[before.len() - s.len()..].eq_ignore_ascii_case(s)
        })?;
        let start = i - scheme.len();
        boundary(start).then(|| link(start)).flatten()
    } else if (c == 'h' || c == 'H') && boundary(i) {
        link(i)
    } else if c == '@' && boundary(i) {
        mention_at(&text[i..]).map(|(len, seg)| (i, len, seg))
    } else if c == '#' && boundary(i) {
        hashtag_at(&text[i..]).map(|(len, seg)| (i, len, seg))
    } else {
        None
    }
}

fn link_at(s: &str) -> Option<usize> {
    // Called at every `http:`/`https:` colon (and, in the tests' reference scan, every h):
    // compare in place rather than allocate.
    let starts =
        |p: &str| s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let scheme = if starts("https://") {
        8
    } else if starts("http://") {
        7
    } else {
        return None;
    };
    let end = s
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let mut url = &s[..end];
    // Trailing punctuation belongs to the sentence, not the URL; a closing parenthesis only
    // when the URL did not open one.
    while let Some(last) = url.chars().next_back() {
        let strip = matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*')
            || (last == ')' && url.matches('(').count() < url.matches(')').count());
        if strip {
            url = &url[..url.len() - last.len_utf8()];
        } else {
            break;
        }
    }
    if url.len() <= scheme {
        return None;
    }
    Some(url.len())
}

fn mention_at(s: &str) -> Option<(usize, Segment<'_>)> {
    let body = &s[1..];
    let name_len = body
        .bytes()
        .take_while(|b| super::username::is_username_byte(*b))
        .count();
    if name_len == 0 || name_len > super::username::MAX_LEN {
        return None;
    }
    let name = &body[..name_len];
    let mut len = 1 + name_len;
    let mut domain = None;
    let rest = &body[name_len..];
    if let Some(after) = rest.strip_prefix('@') {
        let dlen = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
            .count();
        let d = after[..dlen].trim_end_matches(['.', ':', '-']);
        if d.contains('.') || d.contains(':') || d == "localhost" {
            domain = Some(d);
            len += 1 + d.len();
        }
    }
    Some((
        len,
        Segment::Mention {
            raw: &s[..len],
            name,
            domain,
        },
    ))
}

fn hashtag_at(s: &str) -> Option<(usize, Segment<'_>)> {
    let body = &s[1..];
    let end = body
        .char_indices()
        .find(|(_, c)| !is_tag_char(*c))
        .map(|(i, _)| i)
        .unwrap_or(body.len());
    let tag = &body[..end];
    // A tag needs a letter, so "#1" in "issue #1" stays text.
    if tag.is_empty() || char_len(tag) > 100 || !tag.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    Some((
        1 + end,
        Segment::Hashtag {
            raw: &s[..1 + end],
            tag,
        },
    ))
}

/// Lowercased local usernames mentioned in the text, deduplicated, in order of appearance.
pub fn local_mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in segments(text) {
        if let Segment::Mention {
            name, domain: None, ..
        } = s
        {
            let n = name.to_ascii_lowercase();
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Lowercased `name@host` of the mentions of people on other servers, deduplicated.
pub fn remote_mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in segments(text) {
        if let Segment::Mention {
            name,
            domain: Some(domain),
            ..
        } = s
        {
            let n = format!("{name}@{domain}").to_ascii_lowercase();
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Lowercased hashtags in the text, deduplicated.
pub fn hashtags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in segments(text) {
        if let Segment::Hashtag { tag, .. } = s {
            let t = tag.to_lowercase();
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// A URL shortened for display: no scheme, at most 40 characters.
pub fn display_url(url: &str) -> String {
    let s = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let s = s.strip_prefix("www.").unwrap_or(s);
    if char_len(s) > 40 {
        let cut: String = s.chars().take(39).collect();
        format!("{cut}…")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan as it was first written: a segment tried at every character.
    fn segments_char_by_char(text: &str) -> Vec<Segment<'_>> {
        scan(text, |t, from| (from < t.len()).then_some(from))
    }

    #[test]
    fn skipping_to_candidate_bytes_finds_what_a_full_scan_finds() {
        let pieces = [
            "a",
            "h",
            "H",
            "é",
            "日本",
            "🦀",
            " ",
            "\n",
            "@",
            "#",
            "/",
            "_",
            "http://x.org/p",
            "HTTPS://Ex.com/a(b)",
            "@bob",
            "@bob@example.com",
            "#rust",
            "#日本語",
            "foo#bar",
            "a@b",
            "hhttp://",
            "xhttps://a.b",
            "HTTP:",
            ":",
            "://",
            "ftp://x.y",
            ".",
            ",",
            "(",
            ")",
        ];
        // Every sequence of up to three pieces, and a few long mixes.
        let mut texts: Vec<String> = Vec::new();
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    texts.push(format!("{a}{b}{c}"));
                }
            }
        }
        texts.push(pieces.concat());
        texts.push(pieces.iter().rev().copied().collect::<Vec<_>>().join(" "));
        for t in &texts {
            assert_eq!(segments(t), segments_char_by_char(t), "{t:?}");
        }
    }

    #[test]
    fn links_mentions_and_tags_are_found() {
        let segs = segments("hi @Bob, see https://x.org/a_(b). #Rust!\nbye");
        assert_eq!(
            segs,
            vec![
                Segment::Text("hi "),
                Segment::Mention {
                    raw: "@Bob",
                    name: "Bob",
                    domain: None
                },
                Segment::Text(", see "),
                Segment::Link("https://x.org/a_(b)"),
                Segment::Text(". "),
                Segment::Hashtag {
                    raw: "#Rust",
                    tag: "Rust"
                },
                Segment::Text("!"),
                Segment::Newline,
                Segment::Text("bye"),
            ]
        );
    }

    #[test]
    fn emails_and_numbers_are_not_mentions_or_tags() {
        assert_eq!(
            segments("mail a@b.org about #1"),
            vec![Segment::Text("mail a@b.org about #1")]
        );
    }

    #[test]
    fn remote_mentions_keep_their_domain() {
        let segs = segments("@ann@social.example.org.");
        assert_eq!(
            segs[0],
            Segment::Mention {
                raw: "@ann@social.example.org",
                name: "ann",
                domain: Some("social.example.org")
            }
        );
        assert!(local_mentions("@ann@social.example.org @Bob @bob").len() == 1);
    }

    #[test]
    fn a_post_over_the_limit_is_rejected_with_the_count() {
        let err = PostText::parse(&"a".repeat(501), 500, false).unwrap_err();
        assert!(err.0.contains("501"));
        assert!(PostText::parse("   ", 500, false).is_err());
        assert!(PostText::parse("", 500, true).is_ok());
    }

    #[test]
    fn long_urls_are_shortened_for_display() {
        let u = format!("https://example.org/{}", "a".repeat(60));
        assert!(display_url(&u).ends_with('…'));
        assert_eq!(display_url("https://www.x.org/"), "x.org/");
    }
}
