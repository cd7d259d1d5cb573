//! Static files (CSS, htmx, icons) compiled into the binary. Each is served under a name that
//! carries a hash of its bytes, so browsers may cache it forever and a new build busts it.

use std::collections::HashMap;
use std::sync::OnceLock;

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "static/"]
struct Files;

pub struct Asset {
    pub bytes: std::borrow::Cow<'static, [u8]>,
    pub content_type: &'static str,
}

struct Index {
    /// logical name ("style.css") → hashed name ("style.1a2b3c4d5e.css")
    hashed: HashMap<String, String>,
    /// hashed name → logical name
    logical: HashMap<String, String>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut hashed = HashMap::new();
        let mut logical = HashMap::new();
        for name in Files::iter() {
            let Some(file) = Files::get(&name) else {
                continue;
            };
            let digest = Sha256::digest(&file.data);
            let short: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
            let h = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{short}.{ext}"),
                None => format!("{name}.{short}"),
            };
            hashed.insert(name.to_string(), h.clone());
            logical.insert(h, name.to_string());
        }
        Index { hashed, logical }
    })
}

/// The URL path of a static file, e.g. `/static/style.1a2b3c4d5e.css`.
pub fn url(name: &str) -> String {
    match index().hashed.get(name) {
        Some(h) => format!("/static/{h}"),
        None => format!("/static/{name}"),
    }
}

/// Looks a file up by hashed name; the bool says whether the name was hashed (cache forever).
pub fn get(name: &str) -> Option<(Asset, bool)> {
    let (logical, immutable) = match index().logical.get(name) {
        Some(l) => (l.as_str(), true),
        None => (name, false),
    };
    let file = Files::get(logical)?;
    let content_type = match logical.rsplit_once('.').map(|(_, e)| e) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    Some((
        Asset {
            bytes: file.data,
            content_type,
        },
        immutable,
    ))
}
