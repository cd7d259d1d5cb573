//! Usernames: 1–30 characters of a-z, 0-9 and `_`, unique ignoring case.

use super::Invalid;

pub const MAX_LEN: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Accepts what a person types (an optional leading `@`, any case) and keeps it lowercase,
    /// so `Alice` and `alice` are one name.
    pub fn parse(raw: &str) -> Result<Username, Invalid> {
        let s = raw.trim().trim_start_matches('@').to_ascii_lowercase();
        if s.is_empty() {
            return Err(Invalid::new("Choose a username."));
        }
        if s.len() > MAX_LEN {
            return Err(Invalid::new(format!(
                "A username can be at most {MAX_LEN} characters."
            )));
        }
        if !s.bytes().all(is_username_byte) {
            return Err(Invalid::new(
                "A username can only use letters a–z, digits 0–9 and _.",
            ));
        }
        Ok(Username(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn is_username_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b.is_ascii_uppercase()
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_case_folded_and_may_start_with_at() {
        assert_eq!(Username::parse("@Alice_1").unwrap().as_str(), "alice_1");
    }

    #[test]
    fn bad_usernames_are_rejected() {
        for bad in ["", "a b", "ünï", "a-b", &"a".repeat(31), "a.b"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"a".repeat(30)).is_ok());
    }
}
