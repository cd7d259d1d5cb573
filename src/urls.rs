//! Every public URL, built from the configured public URL (no global getters). HTML links use
//! the paths; anything that leaves the page (redirects to other hosts, emails, federation) uses
//! the absolute forms.

use crate::domain::PostId;

#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
    host: String,
    secure: bool,
}

impl Urls {
    pub fn new(public_url: &str) -> Urls {
        let base = public_url.trim_end_matches('/').to_string();
        let secure = base.starts_with("https://");
        let host = base
            .split_once("://")
            .map(|(_, h)| h)
            .unwrap_or(&base)
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        Urls { base, host, secure }
    }

    pub fn base(&self) -> &str {
        &self.base
    }
    /// host[:port] of the public URL, used for "verified by <instance>" and handles.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// Whether cookies must carry `Secure`.
    pub fn secure(&self) -> bool {
        self.secure
    }
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn profile(name: &str) -> String {
        format!("/@{name}")
    }
    pub fn post(author: &str, id: PostId) -> String {
        format!("/@{author}/{id}")
    }
    /// A stored file (content-addressed name).
    pub fn media(file: &str) -> String {
        format!("/media/{file}")
    }
    pub fn tag(tag: &str) -> String {
        format!("/tags/{tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_scheme_come_from_the_public_url() {
        let u = Urls::new("https://social.example.org/");
        assert_eq!(u.host(), "social.example.org");
        assert!(u.secure());
        assert_eq!(u.absolute("/@a"), "https://social.example.org/@a");
        assert_eq!(Urls::new("http://127.0.0.1:8080").host(), "127.0.0.1:8080");
    }
}
