//! One `Config` for the whole instance. Sources, weakest first: built-in defaults (which run a
//! local instance with zero edits), an optional TOML file, `WEFT_SECTION__KEY` environment
//! variables, then command-line flags. Nothing else in the crate reads the environment.

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: Server,
    pub instance: Instance,
    pub limits: Limits,
    pub rate_limits: RateLimits,
    pub storage: Storage,
    pub jobs: Jobs,
    pub feeds: Feeds,
    pub media: Media,
    pub search: Search,
    pub federation: Federation,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    /// Address to listen on.
    pub bind: String,
    /// The URL people and other servers use to reach this instance. Defaults to http://<bind>.
    pub public_url: Option<String>,
    /// Directory for the database and everything else the instance stores.
    pub data_dir: PathBuf,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds to let running requests finish on SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the real client (for rate
    /// limits and the sessions list). Empty: the connecting address is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Instance {
    /// Shown in the header and page titles until an admin changes it in /admin.
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub post_chars: usize,
    pub content_warning_chars: usize,
    pub display_name_chars: usize,
    pub bio_chars: usize,
    pub profile_fields: usize,
    pub profile_field_name_chars: usize,
    pub profile_field_value_chars: usize,
    pub password_min_chars: usize,
    pub password_max_chars: usize,
    /// Largest accepted form body, in bytes.
    pub form_bytes: usize,
    /// Posts per page in every feed.
    pub page_size: usize,
    /// Most replies shown on one thread page.
    pub thread_replies: usize,
    /// Most accounts one account follows (Mastodon's default limit too).
    pub following_max: i64,
    /// Longest reason given with a report.
    pub report_chars: usize,
    /// Posts one account can pin to the top of its profile.
    pub pinned_posts: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Failed logins allowed per client IP per window.
    pub login_per_ip: u32,
    /// Failed logins allowed per account per window.
    pub login_per_account: u32,
    pub login_window_secs: u64,
    /// Sign-ups allowed per client IP per window.
    pub signup_per_ip: u32,
    pub signup_window_secs: u64,
    /// Posts (including replies) per account per window.
    pub posts_per_account: u32,
    pub posts_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Storage {
    /// Read connections in the pool.
    pub readers: u32,
    /// Most writes committed together in one transaction (group commit).
    pub group_commit_max: usize,
    /// `full` survives power loss; `normal` only survives a process crash.
    pub synchronous: String,
    /// How much of the database file readers map into memory (pages come from the OS page
    /// cache without a copy; counted in RssFile, shared and reclaimable, not in RssAnon).
    pub mmap_mib: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Jobs {
    /// Background jobs run at once (fan-out, file clean-up, incoming activities).
    pub workers: usize,
    /// Deliveries to other servers run at once (they mostly wait on the network).
    pub network_workers: usize,
    /// Attempts before a failing job is set aside as dead (visible in /admin).
    pub max_attempts: u32,
    /// First retry delay; each further attempt doubles it, up to `max_backoff_secs`.
    pub backoff_secs: u64,
    pub max_backoff_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Feeds {
    /// Entries kept in each active account's home feed (filled on write). Pages older than
    /// that come from the slower pull query.
    pub home_size: usize,
    /// Memory, in MiB, for pages kept for visitors who are not logged in (public feed,
    /// profiles, threads, hashtags); 0 turns this off. A page is dropped at the next write.
    pub public_cache_mib: usize,
    /// Longest time such a page is kept, in milliseconds, even without a write (relative
    /// times on it age).
    pub public_cache_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Media {
    /// Photos and videos on one post.
    pub attachments_per_post: usize,
    /// Largest image file accepted, in bytes.
    pub image_bytes: u64,
    /// Largest video file accepted, in bytes.
    pub video_bytes: u64,
    /// Largest upload request (all files and fields together), in bytes.
    pub request_bytes: u64,
    /// Largest image, in width × height pixels; checked before the pixels are decoded.
    pub image_pixels: u64,
    /// Long side, in pixels, of the copy of a photo that is stored and offered for download;
    /// larger photos are scaled down to it. 0 stores every photo at its uploaded size.
    pub original_long_side: u32,
    /// Longest description (alt text) of an attachment.
    pub alt_chars: usize,
    /// Images processed at once (each takes about a core, spread over the JPEG decoder's
    /// helper threads, and up to ~200 MB for a 40 MP photo).
    pub processing_threads: usize,
    /// Uploads not attached to a post are deleted after this many hours.
    pub unattached_hours: u64,
}

impl Default for Media {
    fn default() -> Self {
        Media {
            attachments_per_post: 10,
            image_bytes: 16 * 1024 * 1024,
            video_bytes: 64 * 1024 * 1024,
            request_bytes: 256 * 1024 * 1024,
            image_pixels: 40_000_000,
            original_long_side: 2000,
            alt_chars: 1500,
            processing_threads: 2,
            unattached_hours: 24,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Search {
    /// Characters of a search query that are read; the rest is ignored.
    pub max_query_chars: usize,
    /// Longest time between a change and its commit to the index (the index commits on this
    /// timer or after `commit_docs` changes, never per post).
    pub commit_interval_ms: u64,
    pub commit_docs: usize,
    /// Memory for the index writer, in MiB (a rebuild takes `rebuild_memory_mib`).
    pub writer_memory_mib: usize,
    pub rebuild_memory_mib: usize,
    /// Seconds without a change after which the index writers are closed (they hold about
    /// 4 MB and four threads; the next change reopens them).
    pub writer_idle_secs: u64,
    /// Suggestions shown while typing an @mention or #hashtag.
    pub autocomplete_results: usize,
    /// Hashtags one account can follow (each adds a branch to its home feed query).
    pub followed_tags_max: usize,
    /// Trends look at this many past hours of public posts.
    pub trends_window_hours: u64,
    /// A person's use of a tag (or engagement with a post) counts half after this many hours.
    pub trends_half_life_hours: u64,
    /// Distinct people a tag or post needs before it can trend.
    pub trends_min_people: usize,
    /// Tags and posts shown in trends.
    pub trends_shown: usize,
    /// Trends are computed at most this often.
    pub trends_cache_secs: u64,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            max_query_chars: 512,
            commit_interval_ms: 800,
            commit_docs: 1000,
            writer_memory_mib: 50,
            rebuild_memory_mib: 256,
            writer_idle_secs: 60,
            autocomplete_results: 6,
            followed_tags_max: 100,
            trends_window_hours: 24,
            trends_half_life_hours: 6,
            trends_min_people: 2,
            trends_shown: 10,
            trends_cache_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Federation {
    /// Talk ActivityPub with other servers. Needs a public URL other servers can reach.
    pub enabled: bool,
    /// Development and tests only: lets the outbound client reach loopback and private
    /// addresses over plain http (otherwise refused, so nobody can aim this server at the
    /// machines behind it).
    pub allow_private_addresses: bool,
    /// Serve actors and posts as JSON only to signed requests ("authorized fetch").
    pub secure_mode: bool,
    /// Largest activity accepted in an inbox, in bytes.
    pub inbox_bytes: usize,
    /// Largest document read from another server (actor, post, WebFinger), in bytes.
    pub fetch_bytes: usize,
    /// Seconds an outbound request may take in all (connect, send, read).
    pub request_timeout_secs: u64,
    /// Redirects followed by one outbound request.
    pub max_redirects: usize,
    /// How far a signed request's Date may be from our clock, in seconds (Mastodon allows
    /// about an hour).
    pub signature_skew_secs: u64,
    /// A remote actor's cached profile and key are refetched after this many seconds.
    pub actor_refresh_secs: u64,
    /// After a signature fails, an actor's key is refetched at most this often, in seconds.
    pub key_refetch_secs: u64,
    /// Deliveries to one inbox are retried (with growing waits) for about this many hours.
    pub delivery_hours: u64,
    /// A server that has failed every delivery for this many hours is skipped until it
    /// answers again.
    pub unavailable_after_hours: u64,
    /// Missing parents of a reply fetched, one after another, before giving up.
    pub thread_fetch_depth: usize,
    /// Photos and videos of other servers' posts are fetched (within the `[media]` limits)
    /// and kept this many days; 0 keeps them.
    pub remote_media_days: u64,
}

impl Default for Federation {
    fn default() -> Self {
        Federation {
            enabled: false,
            allow_private_addresses: false,
            secure_mode: false,
            inbox_bytes: 256 * 1024,
            fetch_bytes: 1024 * 1024,
            request_timeout_secs: 10,
            max_redirects: 3,
            signature_skew_secs: 3600,
            actor_refresh_secs: 24 * 3600,
            key_refetch_secs: 60,
            delivery_hours: 48,
            unavailable_after_hours: 72,
            thread_fetch_depth: 8,
            remote_media_days: 30,
        }
    }
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            workers: 4,
            network_workers: 256,
            max_attempts: 12,
            backoff_secs: 10,
            max_backoff_secs: 6 * 3600,
        }
    }
}

impl Default for Feeds {
    fn default() -> Self {
        Feeds {
            home_size: 400,
            public_cache_mib: 128,
            public_cache_ms: 5000,
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            data_dir: PathBuf::from("weft-data"),
            workers: 0,
            shutdown_timeout_secs: 10,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for Instance {
    fn default() -> Self {
        Instance {
            name: "weft".into(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            post_chars: 500,
            content_warning_chars: 200,
            display_name_chars: 50,
            bio_chars: 500,
            profile_fields: 4,
            profile_field_name_chars: 50,
            profile_field_value_chars: 200,
            password_min_chars: 8,
            password_max_chars: 256,
            form_bytes: 64 * 1024,
            page_size: 20,
            thread_replies: 500,
            following_max: 7500,
            report_chars: 1000,
            pinned_posts: 5,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_per_ip: 20,
            login_per_account: 8,
            login_window_secs: 300,
            signup_per_ip: 5,
            signup_window_secs: 3600,
            posts_per_account: 60,
            posts_window_secs: 300,
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            readers: 8,
            group_commit_max: 512,
            synchronous: "full".into(),
            mmap_mib: 2048,
        }
    }
}

/// Values given on the command line; `None` leaves the lower sources in charge.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub bind: Option<String>,
    pub public_url: Option<String>,
    /// `--federation`: turns federation on.
    pub federation: bool,
    /// `--allow-private-addresses`: development and tests only.
    pub allow_private_addresses: bool,
}

impl Config {
    /// Builds the config from file, environment (as given) and flags, then validates it.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &Overrides,
    ) -> anyhow::Result<Config> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (key, value) in env {
            let Some(rest) = key.strip_prefix("WEFT_") else {
                continue;
            };
            let Some((section, field)) = rest.split_once("__") else {
                continue;
            };
            let section = section.to_ascii_lowercase();
            let field = field.to_ascii_lowercase();
            // Numbers and booleans parse as TOML; anything else is a string.
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(value));
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => {
                    t.insert(field, parsed);
                }
                _ => bail!("WEFT_{section}__…: `{section}` is not a config section"),
            }
        }
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .context("invalid configuration")?;
        if let Some(d) = &flags.data_dir {
            config.server.data_dir = d.clone();
        }
        if let Some(b) = &flags.bind {
            config.server.bind = b.clone();
        }
        if let Some(u) = &flags.public_url {
            config.server.public_url = Some(u.clone());
        }
        if flags.federation {
            config.federation.enabled = true;
        }
        if flags.allow_private_addresses {
            config.federation.allow_private_addresses = true;
        }
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(u) = &self.server.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            bail!("server.public_url must start with http:// or https:// (got {u})");
        }
        if !matches!(self.storage.synchronous.as_str(), "full" | "normal") {
            bail!("storage.synchronous must be \"full\" or \"normal\"");
        }
        let l = &self.limits;
        if l.post_chars == 0 || l.page_size == 0 || l.page_size > 200 {
            bail!("limits.post_chars must be positive and limits.page_size between 1 and 200");
        }
        if l.following_max <= 0 {
            bail!("limits.following_max must be positive");
        }
        if l.password_min_chars > l.password_max_chars {
            bail!("limits.password_min_chars exceeds limits.password_max_chars");
        }
        let m = &self.media;
        if m.attachments_per_post == 0 || m.processing_threads == 0 || m.image_pixels == 0 {
            bail!(
                "media.attachments_per_post, processing_threads and image_pixels must be positive"
            );
        }
        if m.request_bytes < m.image_bytes.max(m.video_bytes) {
            bail!("media.request_bytes must be at least media.image_bytes and media.video_bytes");
        }
        if self.jobs.workers == 0 || self.jobs.max_attempts == 0 {
            bail!("jobs.workers and jobs.max_attempts must be positive");
        }
        let s = &self.search;
        if s.max_query_chars == 0 || s.commit_docs == 0 || s.trends_window_hours == 0 {
            bail!("search.max_query_chars, commit_docs and trends_window_hours must be positive");
        }
        if s.writer_memory_mib < 15 || s.rebuild_memory_mib < 15 {
            bail!("search.writer_memory_mib and rebuild_memory_mib must be at least 15");
        }
        if self.feeds.home_size < self.limits.page_size {
            bail!("feeds.home_size must be at least limits.page_size");
        }
        let f = &self.federation;
        if f.inbox_bytes == 0 || f.fetch_bytes == 0 || f.request_timeout_secs == 0 {
            bail!("federation.inbox_bytes, fetch_bytes and request_timeout_secs must be positive");
        }
        if self.storage.readers == 0 || self.storage.group_commit_max == 0 {
            bail!("storage.readers and storage.group_commit_max must be positive");
        }
        Ok(())
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.server.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.server.bind),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.server.data_dir.join("weft.sqlite3")
    }

    /// The full-text index; derived from the database and rebuilt when missing.
    pub fn search_dir(&self) -> PathBuf {
        self.server.data_dir.join("search")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weft.toml");
        std::fs::write(
            &file,
            "[server]\nbind = \"127.0.0.1:1\"\n[limits]\npost_chars = 100\npage_size = 7\n",
        )
        .unwrap();
        let env = vec![
            ("WEFT_LIMITS__POST_CHARS".to_string(), "200".to_string()),
            ("WEFT_SERVER__BIND".to_string(), "127.0.0.1:2".to_string()),
            ("HOME".to_string(), "/x".to_string()),
        ];
        let flags = Overrides {
            bind: Some("127.0.0.1:3".into()),
            ..Default::default()
        };
        let c = Config::load(Some(&file), env, &flags).unwrap();
        assert_eq!(c.server.bind, "127.0.0.1:3");
        assert_eq!(c.limits.post_chars, 200);
        assert_eq!(c.limits.page_size, 7);
        assert_eq!(c.public_url(), "http://127.0.0.1:3");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let env = vec![("WEFT_LIMITS__POST_CHARZ".to_string(), "1".to_string())];
        assert!(Config::load(None, env, &Overrides::default()).is_err());
        let env = vec![("WEFT_LIMITS__POST_CHARS".to_string(), "many".to_string())];
        assert!(Config::load(None, env, &Overrides::default()).is_err());
    }

    #[test]
    fn the_example_config_parses_to_the_defaults() {
        let text = include_str!("../weft.example.toml");
        let c: Config = toml::from_str(text).unwrap();
        assert_eq!(c.limits.post_chars, Limits::default().post_chars);
        assert_eq!(c.server.bind, Server::default().bind);
        assert_eq!(c.jobs.max_attempts, Jobs::default().max_attempts);
        assert_eq!(c.feeds.home_size, Feeds::default().home_size);
        assert_eq!(c.media.image_bytes, Media::default().image_bytes);
        assert_eq!(c.media.request_bytes, Media::default().request_bytes);
        assert_eq!(c.jobs.network_workers, Jobs::default().network_workers);
        assert_eq!(c.federation.inbox_bytes, Federation::default().inbox_bytes);
        assert_eq!(
            c.federation.signature_skew_secs,
            Federation::default().signature_skew_secs
        );
        assert!(!c.federation.enabled);
    }
}
