//! Use cases, one file per area. Each checks the rules, then writes in one transaction through
//! the store (with everything the write causes, such as notifications). Never imports actix or
//! maud: the web, API and federation adapters all call these same functions.

pub mod accounts;
pub mod admin;
pub mod blocks;
pub mod federation;
pub mod follows;
pub mod home;
pub mod limiter;
pub mod media;
pub mod notifications;
pub mod posts;
pub mod reports;
pub mod search;
pub mod seed;
pub mod tasks;
pub mod timeline;
pub mod trends;

use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::domain::{AccountId, IdGen, RegistrationMode};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};
use crate::urls::Urls;

pub use crate::store::models;

/// Instance settings an admin changes at run time; cached here, written through to SQLite.
#[derive(Debug, Clone)]
pub struct InstanceSettings {
    pub name: String,
    pub description: String,
    pub registration: RegistrationMode,
    pub login_required: bool,
    /// Federation's "secure mode": actors and posts go as JSON only to signed requests.
    pub secure_mode: bool,
}

/// Everything a use case needs. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    pub db: Db,
    pub config: Arc<Config>,
    pub ids: Arc<IdGen>,
    pub limiter: Arc<limiter::RateLimiter>,
    pub urls: Urls,
    settings: Arc<RwLock<InstanceSettings>>,
    /// Stored photos and videos, and the pool that processes uploads.
    pub media: media::MediaFiles,
    /// Wakes the job runner after a write that queued jobs.
    pub jobs: crate::jobs::Queue,
    /// The full-text index (derived from SQLite) and its writer.
    pub search: search::Search,
    /// The last computed trends.
    pub trends: trends::Cache,
    /// Accounts whose home feed is being built, so a burst of page views builds it once.
    pub(crate) home_builds: Arc<std::sync::Mutex<std::collections::HashSet<AccountId>>>,
    /// Bounds concurrent argon2 work: each hash takes ~19 MiB and tens of milliseconds.
    hashing: Arc<tokio::sync::Semaphore>,
    /// The ActivityPub adapter, plugged in at start when federation is on.
    pub federation: federation::Plug,
}

/// What opening needs from the database: the id floor, the stored settings, whether any
/// account exists.
type StartupFacts = (i64, Vec<(String, String)>, bool);

fn startup_facts(c: &rusqlite::Connection) -> AppResult<StartupFacts> {
    Ok((
        store::max_id(c)?,
        store::settings::all(c)?,
        store::accounts::any(c)?,
    ))
}

impl Core {
    /// Opens the database (applying migrations), loads run-time settings and opens the
    /// search index (taking it for this process), for a server.
    pub fn open(config: Config) -> anyhow::Result<Core> {
        Core::open_with(config, true)
    }

    /// As [`Core::open`] without the search index, for command-line tools that run beside a
    /// server: index updates they cause are queued as jobs for the server to run.
    pub fn open_offline(config: Config) -> anyhow::Result<Core> {
        Core::open_with(config, false)
    }

    fn open_with(config: Config, with_search: bool) -> anyhow::Result<Core> {
        let db = Db::open(
            &config.db_path(),
            store::Options {
                readers: config.storage.readers,
                group_commit_max: config.storage.group_commit_max,
                synchronous_full: config.storage.synchronous == "full",
                mmap_bytes: config.storage.mmap_mib * 1024 * 1024,
            },
        )?;
        // A server reads these through the writer, which has its own page cache: on a reader
        // these few b-tree descents mapped 2.6 MB of the file into the idle process (64 KB
        // of fault-around for every page). A command-line tool beside a running server reads
        // them on a reader, so as not to wait for the write lock.
        let facts = if with_search {
            db.write_blocking(startup_facts)
        } else {
            db.read_blocking(startup_facts)
        };
        let (floor, stored, has_accounts) =
            facts.map_err(|e| anyhow::anyhow!("reading settings: {e}"))?;
        let search = if with_search {
            search::Search::open(config.search_dir(), &config.search, has_accounts)?
        } else {
            search::Search::offline()
        };
        let mut settings = InstanceSettings {
            name: config.instance.name.clone(),
            description: String::new(),
            registration: RegistrationMode::Open,
            login_required: false,
            secure_mode: config.federation.secure_mode,
        };
        for (k, v) in stored {
            apply_setting(&mut settings, &k, &v);
        }
        let hashers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 4);
        let media = media::MediaFiles::new(
            config.server.data_dir.join("media"),
            config.media.processing_threads,
        );
        Ok(Core {
            urls: Urls::new(&config.public_url()),
            db,
            config: Arc::new(config),
            ids: Arc::new(IdGen::new(floor)),
            limiter: Arc::new(limiter::RateLimiter::default()),
            settings: Arc::new(RwLock::new(settings)),
            media,
            jobs: crate::jobs::Queue::default(),
            search,
            trends: trends::Cache::default(),
            home_builds: Arc::default(),
            hashing: Arc::new(tokio::sync::Semaphore::new(hashers)),
            federation: federation::Plug::default(),
        })
    }

    pub fn settings(&self) -> InstanceSettings {
        match self.settings.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Changes some settings in place, under the lock (two admins saving different settings
    /// at once both keep their change).
    fn update_settings(&self, change: impl FnOnce(&mut InstanceSettings)) {
        match self.settings.write() {
            Ok(mut g) => change(&mut g),
            Err(p) => change(&mut p.into_inner()),
        }
        self.db.touch();
    }

    pub fn next_id(&self) -> i64 {
        self.ids.next()
    }

    /// Hashes a password with argon2id (OWASP parameters) on the blocking pool.
    pub async fn hash_password(&self, password: String) -> AppResult<String> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable)?;
        tokio::task::spawn_blocking(move || hash_password_now(&password))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
    }

    /// Checks a password against a stored hash on the blocking pool. Without a hash (unknown
    /// username) it checks against a dummy one, so the answer takes as long either way and
    /// does not reveal which usernames exist.
    pub async fn verify_password(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable)?;
        tokio::task::spawn_blocking(move || match hash {
            Some(h) => verify_password_now(&password, &h),
            None => {
                let _ = verify_password_now(&password, dummy_hash());
                false
            }
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))
    }

    /// Finishes pending writes and closes the database.
    pub fn close(&self) {
        self.db.close();
    }
}

fn apply_setting(s: &mut InstanceSettings, key: &str, value: &str) {
    match key {
        "name" => s.name = value.to_string(),
        "description" => s.description = value.to_string(),
        "registration" => {
            if let Ok(m) = RegistrationMode::parse(value) {
                s.registration = m;
            }
        }
        "login_required" => s.login_required = value == "true",
        "secure_mode" => s.secure_mode = value == "true",
        _ => {}
    }
}

pub fn hash_password_now(password: &str) -> AppResult<String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password_now("weft-dummy-password").unwrap_or_default())
}

pub fn verify_password_now(password: &str, hash: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Writes a notification inside the caller's transaction (its cause commits with it).
pub(crate) fn notify(
    c: &rusqlite::Connection,
    ids: &IdGen,
    to: AccountId,
    kind: crate::store::models::NotificationKind,
    actor: AccountId,
    post: Option<crate::domain::PostId>,
) -> AppResult<()> {
    store::notifications::insert(
        c,
        ids.next(),
        to,
        kind,
        actor,
        post,
        crate::domain::now_secs(),
    )?;
    Ok(())
}

/// The account id used for "nobody" in visibility queries.
pub const ANONYMOUS: AccountId = AccountId(0);

/// A page of results and the cursor of the next (older) page, if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

/// The cursor of the next page: the last row's, when the page came back full.
pub fn next_cursor<R>(rows: &[R], limit: usize, cursor: impl Fn(&R) -> i64) -> Option<i64> {
    if rows.len() == limit {
        rows.last().map(cursor)
    } else {
        None
    }
}
