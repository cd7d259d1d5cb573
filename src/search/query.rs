//! The search box's query language. A pure parser that never fails: what it does not understand
//! becomes plain words or is dropped, and `Display` shows the query as it was understood.
//!
//! | syntax | meaning |
//! | --- | --- |
//! | `word` | the post contains the word (all words must match) |
//! | `"exact phrase"` | the words in this order |
//! | `-word`, `-"a phrase"` | the post does not contain it |
//! | `from:name`, `from:@name@domain` | written by that account |
//! | `#tag` | tagged with it |
//! | `@name` | mentions that account |
//! | `has:media` | has attachments |
//! | `is:reply`, `-is:reply` | is (is not) a reply |
//! | `after:YYYY-MM-DD` | written on or after that day (UTC) |
//! | `before:YYYY-MM-DD` | written before that day (UTC) |
//!
//! An unbalanced `"` makes the rest of the input plain words. Control characters are removed,
//! the input is cut to `max_chars` characters first, and every list is capped, so the work is
//! linear in the input and a query stays cheap to run. Operators that are not understood
//! (`has:cats`, `before:yesterday`, `-from:x`) are dropped rather than searched for as text.

use std::fmt;

/// Words a post must contain; more are dropped.
pub const MAX_WORDS: usize = 16;
/// Phrases a post must contain; more are dropped.
pub const MAX_PHRASES: usize = 8;
/// Words or phrases a post must not contain; more are dropped.
pub const MAX_EXCLUDED: usize = 16;
/// Tags (and, separately, mentions) a post must carry; more are dropped.
pub const MAX_TAGS: usize = 8;
/// Words kept in one phrase.
pub const MAX_PHRASE_WORDS: usize = 16;

const MAX_TAG_CHARS: usize = 100;
const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Lowercased words, all required.
    pub words: Vec<String>,
    /// Lowercased exact phrases, each a list of words.
    pub phrases: Vec<Vec<String>>,
    /// Lowercased words or phrases (words joined by one space) that must not appear.
    pub excluded: Vec<String>,
    /// `from:` account: `name` or `name@domain`, lowercased, without `@` in front.
    pub from: Option<String>,
    /// `#tags`, lowercased, without `#`.
    pub tags: Vec<String>,
    /// `@mentions`: `name` or `name@domain`, lowercased, without `@` in front.
    pub mentions: Vec<String>,
    pub has_media: bool,
    pub is_reply: Option<bool>,
    /// Only posts created before this instant (unix seconds, UTC midnight of the given day).
    pub before: Option<i64>,
    /// Only posts created at or after this instant (unix seconds, UTC midnight of the day).
    pub after: Option<i64>,
}

impl SearchQuery {
    /// Nothing was understood: no words, phrases, exclusions or filters.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.phrases.is_empty()
            && self.excluded.is_empty()
            && self.from.is_none()
            && self.tags.is_empty()
            && self.mentions.is_empty()
            && !self.has_media
            && self.is_reply.is_none()
            && self.before.is_none()
            && self.after.is_none()
    }

    /// Whether the query has words or phrases to match in the text (so highlighting applies).
    pub fn has_text(&self) -> bool {
        !self.words.is_empty() || !self.phrases.is_empty()
    }
}

/// Parses what a person typed. Never fails; see the module documentation for the syntax.
pub fn parse(input: &str, max_chars: usize) -> SearchQuery {
    // Control characters go (tabs and line breaks become spaces), then the length cut, so
    // everything after this is bounded by `max_chars`.
    let mut chars = input.chars().filter_map(|c| {
        if c.is_control() {
            c.is_whitespace().then_some(' ')
        } else if is_invisible(c) {
            None
        } else {
            Some(c)
        }
    });
    let mut clean: String = chars.by_ref().take(max_chars).collect();
    // A cut in the middle of a word would search for a fragment that matches nothing: the
    // cut word goes.
    if chars.next().is_some_and(|c| !c.is_whitespace())
        && let Some(space) = clean.rfind(char::is_whitespace)
    {
        clean.truncate(space);
    }

    let mut q = SearchQuery::default();
    let mut rest = clean.as_str();
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            break;
        };
        let negated_quote = first == '-' && rest[1..].starts_with('"');
        if first == '"' || negated_quote {
            let open = if negated_quote { 2 } else { 1 };
            let after = &rest[open..];
            let Some(close) = after.find('"') else {
                // Unbalanced: the rest is plain words.
                for w in after.split(|c: char| c.is_whitespace() || c == '"') {
                    push_word(&mut q, w);
                }
                break;
            };
            let words: Vec<String> = after[..close]
                .split_whitespace()
                .filter(|w| has_word_char(w))
                .take(MAX_PHRASE_WORDS)
                .map(str::to_lowercase)
                .collect();
            if negated_quote {
                if !words.is_empty() && q.excluded.len() < MAX_EXCLUDED {
                    let joined = words.join(" ");
                    if !q.excluded.contains(&joined) {
                        q.excluded.push(joined);
                    }
                }
            } else {
                match words.len() {
                    0 => {}
                    1 => push_word(&mut q, &words[0]),
                    _ => {
                        if q.phrases.len() < MAX_PHRASES && !q.phrases.contains(&words) {
                            q.phrases.push(words);
                        }
                    }
                }
            }
            rest = &after[close + 1..];
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        term(&mut q, &rest[..end]);
        rest = &rest[end..];
        // A quote glued to the end of a token (`word"`) opens a phrase on the next turn.
    }
    q
}

/// Format characters that render as nothing (zero-width space and joiners, direction marks,
/// the byte-order mark); they would otherwise glue or split words invisibly.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

fn has_word_char(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

fn push_word(q: &mut SearchQuery, w: &str) {
    if !has_word_char(w) || q.words.len() >= MAX_WORDS {
        return;
    }
    let w = w.to_lowercase();
    if !q.words.contains(&w) {
        q.words.push(w);
    }
}

/// One whitespace-delimited token outside quotes.
fn term(q: &mut SearchQuery, tok: &str) {
    if let Some(neg) = tok.strip_prefix('-') {
        let neg = neg.trim_start_matches('-');
        if neg.eq_ignore_ascii_case("is:reply") {
            q.is_reply = Some(false);
        } else if operator(neg).is_some() {
            // `-from:x`, `-has:media`, `-before:…`: not supported; dropped.
        } else if has_word_char(neg) && q.excluded.len() < MAX_EXCLUDED {
            let w = neg.to_lowercase();
            if !q.excluded.contains(&w) {
                q.excluded.push(w);
            }
        }
        return;
    }
    if let Some((op, value)) = operator(tok) {
        match op {
            Op::From => {
                if let Some(name) = account(value.strip_prefix('@').unwrap_or(value)) {
                    q.from = Some(name);
                }
            }
            Op::Has => {
                if value.eq_ignore_ascii_case("media") {
                    q.has_media = true;
                }
            }
            Op::Is => {
                if value.eq_ignore_ascii_case("reply") {
                    q.is_reply = Some(true);
                }
            }
            Op::Before => {
                if let Some(t) = date(value) {
                    q.before = Some(t);
                }
            }
            Op::After => {
                if let Some(t) = date(value) {
                    q.after = Some(t);
                }
            }
        }
        return;
    }
    if let Some(body) = tok.strip_prefix('#')
        && let Some(tag) = hashtag(body)
    {
        if q.tags.len() < MAX_TAGS && !q.tags.contains(&tag) {
            q.tags.push(tag);
        }
        return;
    }
    if let Some(body) = tok.strip_prefix('@')
        && let Some(name) = account(body)
    {
        if q.mentions.len() < MAX_TAGS && !q.mentions.contains(&name) {
            q.mentions.push(name);
        }
        return;
    }
    push_word(q, tok);
}

#[derive(Clone, Copy)]
enum Op {
    From,
    Has,
    Is,
    Before,
    After,
}

fn operator(tok: &str) -> Option<(Op, &str)> {
    let (name, value) = tok.split_once(':')?;
    let op = match name.to_ascii_lowercase().as_str() {
        "from" => Op::From,
        "has" => Op::Has,
        "is" => Op::Is,
        "before" => Op::Before,
        "after" => Op::After,
        _ => return None,
    };
    Some((op, value))
}

/// `#tag` body: letters, digits and `_`, with at least one letter (so `#1` is a word), trailing
/// punctuation ignored (`#rust!`).
fn hashtag(body: &str) -> Option<String> {
    let end = body
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let tag = &body[..end];
    let rest = &body[end..];
    let ok = !tag.is_empty()
        && tag.chars().any(char::is_alphabetic)
        && tag.chars().count() <= MAX_TAG_CHARS
        && !rest.chars().any(char::is_alphanumeric);
    ok.then(|| tag.to_lowercase())
}

/// `name` or `name@domain` (an account as `from:` and `@` take it), lowercased; trailing
/// punctuation is ignored (`@bob,`).
fn account(s: &str) -> Option<String> {
    let is_name = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-');
    let name_end = s.find(|c: char| !is_name(c)).unwrap_or(s.len());
    let name = s[..name_end].trim_end_matches(['.', '-']);
    if name.is_empty() || !has_word_char(name) {
        return None;
    }
    let mut out = name.to_lowercase();
    let after_name = &s[name.len()..];
    if let Some(d) = after_name.strip_prefix('@') {
        let is_domain = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-' | ':');
        let d_end = d.find(|c: char| !is_domain(c)).unwrap_or(d.len());
        let domain = d[..d_end].trim_end_matches(['.', '-', ':']);
        if !domain.is_empty() {
            out.push('@');
            out.push_str(&domain.to_lowercase());
        }
    }
    (out.chars().count() <= MAX_NAME_CHARS).then_some(out)
}

/// `YYYY-MM-DD` → unix seconds at UTC midnight; anything else (or an impossible date) → None.
fn date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let year = num(0..4)?;
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let d = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

fn render_date(f: &mut fmt::Formatter<'_>, secs: i64) -> fmt::Result {
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => write!(
            f,
            "{:04}-{:02}-{:02}",
            t.year(),
            u8::from(t.month()),
            t.day()
        ),
        Err(_) => write!(f, "{secs}"),
    }
}

/// Re-renders the query as understood, in a fixed order; parsing the output gives the same
/// query back.
impl fmt::Display for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            if first {
                first = false;
                Ok(())
            } else {
                f.write_str(" ")
            }
        };
        for w in &self.words {
            sep(f)?;
            f.write_str(w)?;
        }
        for p in &self.phrases {
            sep(f)?;
            write!(f, "\"{}\"", p.join(" "))?;
        }
        for e in &self.excluded {
            sep(f)?;
            if e.contains(' ') {
                write!(f, "-\"{e}\"")?;
            } else {
                write!(f, "-{e}")?;
            }
        }
        if let Some(from) = &self.from {
            sep(f)?;
            write!(f, "from:{from}")?;
        }
        for t in &self.tags {
            sep(f)?;
            write!(f, "#{t}")?;
        }
        for m in &self.mentions {
            sep(f)?;
            write!(f, "@{m}")?;
        }
        if self.has_media {
            sep(f)?;
            f.write_str("has:media")?;
        }
        match self.is_reply {
            Some(true) => {
                sep(f)?;
                f.write_str("is:reply")?;
            }
            Some(false) => {
                sep(f)?;
                f.write_str("-is:reply")?;
            }
            None => {}
        }
        if let Some(t) = self.after {
            sep(f)?;
            f.write_str("after:")?;
            render_date(f, t)?;
        }
        if let Some(t) = self.before {
            sep(f)?;
            f.write_str("before:")?;
            render_date(f, t)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SearchQuery {
        parse(s, 1000)
    }

    fn words(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn plain_words_are_lowercased_and_deduplicated() {
        let q = p("  Rust  rust SQLite ");
        assert_eq!(q.words, words(&["rust", "sqlite"]));
        assert_eq!(q.to_string(), "rust sqlite");
        assert!(!q.is_empty());
        assert!(p("").is_empty());
        assert!(p("   \t ").is_empty());
    }

    #[test]
    fn phrases_and_single_word_quotes() {
        let q = p(r#"say "Hello   World" "alone" """#);
        assert_eq!(q.words, words(&["say", "alone"]));
        assert_eq!(q.phrases, vec![words(&["hello", "world"])]);
        assert_eq!(q.to_string(), r#"say alone "hello world""#);
        // A quote glued to a word still opens a phrase.
        let q = p(r#"a"b c""#);
        assert_eq!(q.words, words(&["a"]));
        assert_eq!(q.phrases, vec![words(&["b", "c"])]);
    }

    #[test]
    fn exclusions_of_words_and_phrases() {
        let q = p(r#"cats -dogs -"bad day" - -- -!"#);
        assert_eq!(q.words, words(&["cats"]));
        assert_eq!(q.excluded, words(&["dogs", "bad day"]));
        assert_eq!(q.to_string(), r#"cats -dogs -"bad day""#);
    }

    #[test]
    fn from_takes_an_account_with_or_without_at_and_domain() {
        assert_eq!(p("from:Alice").from.as_deref(), Some("alice"));
        assert_eq!(p("from:@Alice").from.as_deref(), Some("alice"));
        assert_eq!(
            p("FROM:@bob@Social.Example.org,").from.as_deref(),
            Some("bob@social.example.org")
        );
        assert_eq!(p("from:").from, None);
        assert_eq!(p("from:@").from, None);
        assert!(p("from:!!").is_empty());
        assert_eq!(p("from:bob").to_string(), "from:bob");
    }

    #[test]
    fn tags_and_mentions() {
        let q = p("#Rust #rust! #1 @Bob @ann@x.org #");
        assert_eq!(q.tags, words(&["rust"]));
        assert_eq!(q.mentions, words(&["bob", "ann@x.org"]));
        // `#1` is a word; a lone `#` is nothing.
        assert_eq!(q.words, words(&["#1"]));
        assert_eq!(q.to_string(), "#1 #rust @bob @ann@x.org");
        assert_eq!(p("#Café").tags, words(&["café"]));
    }

    #[test]
    fn has_media_and_is_reply() {
        let q = p("has:media is:reply");
        assert!(q.has_media);
        assert_eq!(q.is_reply, Some(true));
        assert_eq!(p("-is:reply").is_reply, Some(false));
        let q = p("has:cats is:boring -has:media -from:bob");
        assert!(q.is_empty(), "{q:?}");
        assert_eq!(p("-is:reply has:media").to_string(), "has:media -is:reply");
    }

    #[test]
    fn dates_are_utc_midnights_and_bad_dates_are_dropped() {
        let q = p("after:2024-01-01 before:2024-03-01");
        assert_eq!(q.after, Some(1_704_067_200));
        assert_eq!(q.before, Some(1_709_251_200));
        assert_eq!(q.to_string(), "after:2024-01-01 before:2024-03-01");
        for bad in [
            "before:2024-02-30",
            "before:2024-13-01",
            "before:24-01-01",
            "before:yesterday",
            "after:2024-1-01x",
            "after:+024-01-01",
            "before:",
        ] {
            let q = p(bad);
            assert!(q.is_empty(), "{bad}: {q:?}");
        }
    }

    #[test]
    fn only_operators_make_a_filter_only_query() {
        let q = p("from:alice #tag");
        assert!(q.words.is_empty() && q.phrases.is_empty());
        assert!(!q.has_text());
        assert!(!q.is_empty());
    }

    #[test]
    fn a_query_cut_at_the_limit_drops_the_word_it_cut() {
        let q = parse("alpha gamma delta", 14);
        assert_eq!(q.words, words(&["alpha", "gamma"]));
        let q = parse("alpha gamma delta", 10);
        assert_eq!(q.words, words(&["alpha"]));
        let q = parse("alpha gamma delta", 11);
        assert_eq!(q.words, words(&["alpha", "gamma"]));
        let q = parse("alphagammadelta", 5);
        assert_eq!(q.words, words(&["alpha"]), "one long word is kept as cut");
    }

    #[test]
    fn unbalanced_quotes_make_the_rest_plain_words() {
        let q = p(r#"one "two three from:bob"#);
        assert_eq!(q.words, words(&["one", "two", "three", "from:bob"]));
        assert!(q.phrases.is_empty() && q.from.is_none());
        let q = p(r#"x -"y z"#);
        assert_eq!(q.words, words(&["x", "y", "z"]));
        assert!(p("\"").is_empty());
        assert!(p("\"\"\"").is_empty());
    }

    #[test]
    fn control_characters_and_invisibles_are_removed() {
        let q = p("ca\u{0}t\u{7}s\tdo\u{200B}gs\nbirds\u{1b}[31m");
        assert_eq!(q.words, words(&["cats", "dogs", "birds[31m"]));
        assert!(p("\u{0}\u{0}\u{0}").is_empty());
    }

    #[test]
    fn emoji_and_punctuation_only_words_are_dropped_rtl_text_is_kept() {
        let q = p("🦀 !!! ... 🎉🎉 rust🦀");
        assert_eq!(q.words, words(&["rust🦀"]));
        let q = p("שלום \u{202B}עולם\u{202C} مرحبا");
        assert_eq!(q.words, words(&["שלום", "עולם", "مرحبا"]));
        let q = p("\"مرحبا بالعالم\"");
        assert_eq!(q.phrases.len(), 1);
    }

    #[test]
    fn long_input_is_cut_on_a_char_boundary_and_lists_are_capped() {
        let long = "é".repeat(10_000);
        let q = parse(&long, 500);
        assert_eq!(q.words.len(), 1);
        assert_eq!(q.words[0].chars().count(), 500);

        let many: String = (0..5000)
            .map(|i| format!("w{i} -x{i} #t{i} \"p{i} q\" "))
            .collect();
        let q = parse(&many, 100_000);
        assert_eq!(q.words.len(), MAX_WORDS);
        assert_eq!(q.excluded.len(), MAX_EXCLUDED);
        assert_eq!(q.tags.len(), MAX_TAGS);
        assert_eq!(q.phrases.len(), MAX_PHRASES);

        // Pathological shapes stay linear (this would take visibly long if they were not).
        let quotes = "\"".repeat(10_000);
        assert!(parse(&quotes, 10_000).is_empty());
        let dashes = "-".repeat(10_000);
        assert!(parse(&dashes, 10_000).is_empty());
        let colons = "from:".repeat(2_000);
        let _ = parse(&colons, 10_000);
    }

    #[test]
    fn rendering_round_trips() {
        for s in [
            r#"rust "open source" -java -"bad code" from:ann@x.org #tag @bob has:media -is:reply after:2020-02-29 before:2021-01-01"#,
            "x",
            "",
        ] {
            let q = p(s);
            assert_eq!(p(&q.to_string()), q, "{s}");
        }
    }
}
