//! Text analysis for short, multilingual social posts. The same analyzer runs over posts when
//! they are indexed and over query words when they are searched, so both sides always agree.
//!
//! * **Words** are runs of letters, digits and `_` (so `snake_case`, `#rust_lang` and
//!   `@cool_guy` stay one word each, as `domain::text` treats them). Combining accents
//!   (U+0300–U+036F and the other combining-diacritic blocks) continue a word but are left out
//!   of its text, so decomposed `café` folds like the precomposed one. Indic scripts keep their
//!   vowel signs and viramas inside words.
//! * **Scripts written without spaces** (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar)
//!   become one token per character; a query word in them becomes a phrase of characters, so
//!   `東京` finds `東京タワー` without a dictionary.
//! * **Lowercase**, then **ASCII folding** (`Café` → `cafe`, `straße` → `strasse`), so accents
//!   and case never decide a match either way.
//! * Tokens longer than [`MAX_TOKEN_CHARS`] characters are dropped (base64, long URLs' paths,
//!   keyboard mashing): nobody searches for them and they bloat the term dictionary.
//! * **No stemming and no stop words**: posts are in any language, a stemmer for one language
//!   mangles the others, and short texts need every word (`"to be or not to be"`).

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, NgramTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer,
    TokenizerManager,
};

/// Name under which [`text_analyzer`] is registered on every index.
pub const TEXT_TOKENIZER: &str = "weft_text";
/// Name of the edge n-gram tokenizer used for username prefixes.
pub const PREFIX_TOKENIZER: &str = "weft_prefix";
/// Longer tokens are not indexed.
pub const MAX_TOKEN_CHARS: usize = 40;
/// Longest username prefix indexed (longer typed prefixes are cut to this).
pub const MAX_PREFIX_CHARS: usize = 64;

/// The analyzer for post text, display names and bios.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Registers weft's analyzers on an index's tokenizer manager.
pub fn register(manager: &TokenizerManager) {
    manager.register(TEXT_TOKENIZER, text_analyzer());
    // `prefix_only` with valid bounds cannot fail; if it ever did, the field would be searched
    // with the default tokenizer and the prefix search would find less, nothing worse.
    if let Ok(ngrams) = NgramTokenizer::prefix_only(1, MAX_PREFIX_CHARS) {
        manager.register(PREFIX_TOKENIZER, TextAnalyzer::builder(ngrams).build());
    }
}

/// The analyzed tokens of `text`, in order.
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(t.text.clone());
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Separator: ends a word.
    Other,
    /// Part of a word.
    Word,
    /// Continues a word (never starts one) but is left out of its text.
    Mark,
    /// A token on its own.
    Single,
}

fn class(c: char) -> Class {
    let u = c as u32;
    if c.is_ascii() {
        return if c.is_ascii_alphanumeric() || c == '_' {
            Class::Word
        } else {
            Class::Other
        };
    }
    match u {
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F => {
            Class::Mark
        }
        // Zero-width (non-)joiners live inside Persian and Indic words.
        0x200C | 0x200D => Class::Mark,
        // Han, Hiragana, Katakana and the Southeast Asian scripts without spaces.
        0x3040..=0x30FF
        | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0xFF66..=0xFF9F
        | 0x20000..=0x3FFFF
        | 0x0E00..=0x0EFF
        | 0x1000..=0x109F
        | 0x1780..=0x17FF
            if c.is_alphanumeric() || (0x0E00..=0x0EFF).contains(&u) =>
        {
            Class::Single
        }
        // Indic blocks: vowel signs and viramas are not all alphabetic, but they are word
        // parts; the dandas are punctuation.
        0x0964 | 0x0965 => Class::Other,
        0x0900..=0x0DFF => Class::Word,
        _ if c.is_alphanumeric() => Class::Word,
        _ => Class::Other,
    }
}

/// Splits text into words as described in the module documentation.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

pub struct WordTokenStream<'a> {
    text: &'a str,
    pos: usize,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        self.token.reset();
        WordTokenStream {
            text,
            pos: 0,
            token: &mut self.token,
        }
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            let rest = &self.text[self.pos..];
            let mut chars = rest.char_indices();
            // Find the start of the next token.
            let start = loop {
                match chars.next() {
                    None => {
                        self.pos = self.text.len();
                        return false;
                    }
                    Some((i, c)) => match class(c) {
                        Class::Word | Class::Single => break (i, c),
                        Class::Other | Class::Mark => {}
                    },
                }
            };
            let (start_rel, first) = start;
            let from = self.pos + start_rel;
            self.token.text.clear();
            self.token.text.push(first);
            let mut n_chars = 1usize;
            let mut end = from + first.len_utf8();
            if class(first) == Class::Word {
                for (i, c) in chars.by_ref() {
                    match class(c) {
                        Class::Word => {
                            n_chars += 1;
                            if n_chars <= MAX_TOKEN_CHARS {
                                self.token.text.push(c);
                            }
                        }
                        Class::Mark => {}
                        Class::Other | Class::Single => break,
                    }
                    end = self.pos + i + c.len_utf8();
                }
            }
            self.pos = end;
            if n_chars > MAX_TOKEN_CHARS {
                continue;
            }
            self.token.offset_from = from;
            self.token.offset_to = end;
            self.token.position = self.token.position.wrapping_add(1);
            return true;
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokens(&mut text_analyzer(), s)
    }

    #[test]
    fn words_are_lowercased_and_folded() {
        assert_eq!(
            toks("Hello, Café! STRASSE straße naïve"),
            ["hello", "cafe", "strasse", "strasse", "naive"]
        );
        // Decomposed accents fold like precomposed ones.
        assert_eq!(toks("cafe\u{301} Cafe\u{0301}s"), ["cafe", "cafes"]);
    }

    #[test]
    fn underscores_tags_mentions_and_urls() {
        assert_eq!(
            toks("#rust_lang @cool_guy https://x.org/a-b?c=1"),
            [
                "rust_lang",
                "cool_guy",
                "https",
                "x",
                "org",
                "a",
                "b",
                "c",
                "1"
            ]
        );
    }

    #[test]
    fn scripts_without_spaces_become_characters() {
        assert_eq!(toks("東京タワー"), ["東", "京", "タ", "ワ", "ー"]);
        assert_eq!(toks("Привет мир"), ["привет", "мир"]);
        assert_eq!(toks("नमस्ते दुनिया।"), ["नमस्ते", "दुनिया"]);
        assert_eq!(toks("안녕하세요 세계"), ["안녕하세요", "세계"]);
    }

    #[test]
    fn long_tokens_are_dropped_and_positions_stay_consecutive() {
        let long = "x".repeat(MAX_TOKEN_CHARS + 1);
        let ok = "y".repeat(MAX_TOKEN_CHARS);
        let text = format!("a {long} {ok} b");
        let mut analyzer = text_analyzer();
        let mut stream = analyzer.token_stream(&text);
        let mut seen = Vec::new();
        while let Some(t) = stream.next() {
            seen.push((
                t.text.clone(),
                t.position,
                &text[t.offset_from..t.offset_to],
            ));
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].0, "a");
        assert_eq!(seen[1].0, ok);
        assert_eq!(seen[2], ("b".to_string(), 2, "b"));
    }

    #[test]
    fn garbage_gives_no_tokens_and_no_panic() {
        assert!(toks("").is_empty());
        assert!(toks("!!! 🦀🦀 \u{0} \u{301}\u{301} ...").is_empty());
        let _ = toks(&"\u{200D}a\u{301}".repeat(1000));
    }
}
