//! Pure types and rules of weft: identifiers, names, post text, visibility, roles.
//! No I/O and no imports from the rest of the crate: everything else depends on this.

pub mod ids;
pub mod policy;
pub mod text;
pub mod username;

pub use ids::{AccountId, IdGen, PostId};
pub use policy::{RegistrationMode, ReplyPolicy, Role, Visibility};
pub use text::{PostText, Segment};
pub use username::Username;

/// A rule broken by user input. The message is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(msg: impl Into<String>) -> Self {
        Invalid(msg.into())
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Counts characters the way people do (Unicode scalar values), not bytes.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Checks a password chosen by a person. The upper bound keeps argon2 work bounded.
pub fn check_password(pw: &str, min: usize, max: usize) -> Result<(), Invalid> {
    let n = char_len(pw);
    if n < min {
        return Err(Invalid(format!(
            "Choose a password of at least {min} characters."
        )));
    }
    if n > max {
        return Err(Invalid(format!(
            "Choose a password of at most {max} characters."
        )));
    }
    Ok(())
}

/// Trims and bounds a short single-line field (display name, content warning, profile field).
pub fn short_text(value: &str, max: usize, what: &str) -> Result<String, Invalid> {
    let v: String = value
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if char_len(&v) > max {
        return Err(Invalid(format!("{what} can be at most {max} characters.")));
    }
    Ok(v)
}

/// Normalises multi-line text: CRLF to LF, other control characters dropped, trimmed.
pub fn long_text(value: &str, max: usize, what: &str) -> Result<String, Invalid> {
    let v: String = value
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let v = v.trim().to_string();
    if char_len(&v) > max {
        return Err(Invalid(format!(
            "{what} can be at most {max} characters; this has {}.",
            char_len(&v)
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_rejected_and_long_enough_ones_pass() {
        assert!(check_password("1234567", 8, 100).is_err());
        assert!(check_password("12345678", 8, 100).is_ok());
        assert!(check_password(&"x".repeat(101), 8, 100).is_err());
    }

    #[test]
    fn long_text_normalises_line_endings_and_counts_characters() {
        assert_eq!(long_text(" a\r\nb\u{7} ", 10, "Bio").unwrap(), "a\nb");
        assert!(long_text(&"é".repeat(11), 10, "Bio").is_err());
        assert!(long_text(&"é".repeat(10), 10, "Bio").is_ok());
    }
}
