//! The `weft` command: parses arguments and hands over to `app` or the services. No logic.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use weft::config::{Config, Overrides};
use weft::domain::Role;
use weft::media::bench::BenchOptions;
use weft::service::seed::{self, Graph, SeedOptions};
use weft::service::{Core, accounts, admin};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "A self-hosted social network in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// TOML config file (see weft.example.toml). Environment variables WEFT_SECTION__KEY
    /// override it, and these flags override both.
    #[arg(long, env = "WEFT_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Directory for the database and everything else the instance stores [default: ./weft-data]
    #[arg(long, env = "WEFT_DATA", global = true)]
    data: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the instance.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, env = "WEFT_BIND")]
        bind: Option<String>,
        /// The URL people and other servers use to reach this instance, e.g.
        /// https://social.example.org. Every absolute link is built from it; cookies are
        /// marked Secure when it is https [default: http://<bind>]
        #[arg(long, env = "WEFT_PUBLIC_URL")]
        public_url: Option<String>,
        /// Talk ActivityPub with other servers (needs a --public-url they can reach).
        #[arg(long)]
        federation: bool,
        /// Development and tests only: let federation reach loopback and private addresses
        /// over plain http.
        #[arg(long)]
        allow_private_addresses: bool,
    },
    /// Benchmark tools.
    Bench {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        action: BenchAction,
    },
    /// Rebuild the search index from the database (with the server stopped; a running
    /// server rebuilds from its admin page). Shows progress.
    Reindex {
        #[command(flatten)]
        common: Common,
    },
    /// Manage accounts from the command line.
    Admin {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum BenchAction {
    /// Fill an empty data directory with a deterministic synthetic community.
    Seed {
        #[arg(long, default_value_t = 10_000)]
        users: usize,
        #[arg(long, default_value_t = 1_000_000)]
        posts: usize,
        /// Mean number of accounts each account follows.
        #[arg(long, default_value_t = 100)]
        follows: usize,
        /// Shape of the follow graph: uniform, or zipf (a few accounts have huge followings).
        #[arg(long, default_value = "uniform")]
        graph: String,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// This many accounts (the last ones) follow `--heavy-follows` accounts each.
        #[arg(long, default_value_t = 10)]
        heavy_users: usize,
        #[arg(long, default_value_t = 2_000)]
        heavy_follows: usize,
    },
    /// Time image processing (decode, orient, thumbnails, re-encode) of a generated photo,
    /// one image at a time; run under `taskset -c 0` for one core. Build with --release.
    Media {
        /// Size of the generated 4:3 photo.
        #[arg(long, default_value_t = 12.0)]
        megapixels: f64,
        #[arg(long, default_value_t = 15)]
        runs: usize,
        /// EXIF orientation of the photo: 6 (portrait, as phones write it) or 1 (no rotation).
        #[arg(long, default_value_t = 6)]
        orientation: u16,
        /// Long side of the stored copy (`media.original_long_side` from the config unless
        /// given; 0 keeps the full size).
        #[arg(long)]
        original_long_side: Option<u32>,
    },
    /// Federation on loopback with real instances and signatures: inbound signed activities
    /// per second, and the time to deliver one post to many inboxes, some slow or failing.
    /// Build with --release.
    Federation {
        /// Signed Create(Note) activities POSTed to one inbox.
        #[arg(long, default_value_t = 5_000)]
        activities: usize,
        /// Connections sending them at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Follower inboxes (one loopback server each) the delivery test posts to.
        #[arg(long, default_value_t = 1_000)]
        inboxes: usize,
        /// Time each healthy inbox takes to answer.
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
        /// Share of inboxes that answer 503 at once.
        #[arg(long, default_value_t = 10)]
        failing_pct: usize,
        /// Share of inboxes that never answer (the request times out).
        #[arg(long, default_value_t = 5)]
        hanging_pct: usize,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create an active account; the password is read from standard input.
    CreateUser {
        name: String,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        email: Option<String>,
    },
    /// Set an account's password (read from standard input) and end its sessions.
    SetPassword { name: String },
    /// Set an account's role: admin, moderator or user.
    SetRole { name: String, role: String },
}

fn load_config(common: &Common, flags: Overrides) -> anyhow::Result<Config> {
    Config::load(
        common.config.as_deref(),
        std::env::vars(),
        &Overrides {
            data_dir: common.data.clone(),
            ..flags
        },
    )
}

fn read_password() -> anyhow::Result<String> {
    eprintln!("Password (read from standard input; pipe it in to keep it off the screen):");
    let mut s = String::new();
    std::io::stdin()
        .lock()
        .take(4096)
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let pw = s.lines().next().unwrap_or("").to_string();
    if pw.is_empty() {
        bail!("no password given on standard input");
    }
    Ok(pw)
}

/// Logs to standard error, filtered by `WEFT_LOG` (`info` by default): a level, or
/// `target=level` directives such as `warn,weft::federation=debug`. `Targets` rather than
/// `EnvFilter`: the same directives without span and field filters, and without the regex
/// engine `EnvFilter` links in (0.23 MB of the stripped binary, measured).
fn init_logging() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let (filter, bad) = match std::env::var("WEFT_LOG") {
        Ok(v) => match v.parse::<Targets>() {
            Ok(t) => (t, None),
            Err(e) => (Targets::new().with_default(LevelFilter::INFO), Some((v, e))),
        },
        Err(_) => (Targets::new().with_default(LevelFilter::INFO), None),
    };
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
    if let Some((v, e)) = bad {
        tracing::warn!("WEFT_LOG={v:?} is not a log filter ({e}); logging at info");
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Serve {
            common,
            bind,
            public_url,
            federation,
            allow_private_addresses,
        } => {
            let config = load_config(
                &common,
                Overrides {
                    bind,
                    public_url,
                    federation,
                    allow_private_addresses,
                    ..Overrides::default()
                },
            )?;
            actix_web::rt::System::new().block_on(async move {
                let running = weft::app::start(config)?;
                running.run().await
            })
        }
        Command::Bench {
            common: _,
            action:
                BenchAction::Federation {
                    activities,
                    concurrency,
                    inboxes,
                    latency_ms,
                    failing_pct,
                    hanging_pct,
                },
        } => {
            let opts = weft::fedbench::Options {
                activities,
                concurrency: concurrency.max(1),
                inboxes,
                latency_ms,
                failing_pct,
                hanging_pct,
            };
            actix_web::rt::System::new().block_on(async move {
                let report = weft::fedbench::run(&opts).await?;
                println!("{report}");
                Ok(())
            })
        }
        Command::Bench { common, action } => {
            let (users, posts, follows, graph, seed, heavy_users, heavy_follows) = match action {
                BenchAction::Seed {
                    users,
                    posts,
                    follows,
                    graph,
                    seed,
                    heavy_users,
                    heavy_follows,
                } => (
                    users,
                    posts,
                    follows,
                    graph,
                    seed,
                    heavy_users,
                    heavy_follows,
                ),
                BenchAction::Media {
                    megapixels,
                    runs,
                    orientation,
                    original_long_side,
                } => {
                    let config = load_config(&common, Overrides::default())?;
                    let opts = BenchOptions {
                        megapixels,
                        runs,
                        orientation,
                        original_long_side: original_long_side
                            .unwrap_or(config.media.original_long_side),
                    };
                    let report =
                        weft::media::bench::run(&opts).map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("{report}");
                    return Ok(());
                }
                // Matched by the arm above, which runs its own event loop.
                BenchAction::Federation { .. } => bail!("federation benchmark dispatch"),
            };
            let config = load_config(&common, Overrides::default())?;
            let graph = match graph.as_str() {
                "uniform" => Graph::Uniform,
                "zipf" => Graph::Zipf,
                other => bail!("--graph is uniform or zipf, not {other}"),
            };
            let core = Core::open_offline(config)?;
            let bar = indicatif::ProgressBar::new(1);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>9} [{bar:40}] {pos}/{len} {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let progress = |phase: &str, done: u64, total: u64| {
                bar.set_message(phase.to_string());
                bar.set_length(total);
                bar.set_position(done);
            };
            let opts = SeedOptions {
                users,
                posts,
                follows,
                graph,
                seed,
                heavy_users,
                heavy_follows,
            };
            let report = seed::run(&core, &opts, &progress).map_err(|e| anyhow::anyhow!("{e}"));
            bar.finish_and_clear();
            core.close();
            let r = report?;
            println!(
                "seeded {} users, {} posts ({} replies, {} reposts), {} follows, {} likes in {:.1} s",
                r.users, r.posts, r.replies, r.reposts, r.follows, r.likes, r.seconds
            );
            println!("user: {} password: {}", r.sample_user, seed::PASSWORD);
            Ok(())
        }
        Command::Reindex { common } => {
            let config = load_config(&common, Overrides::default())?;
            let core = Core::open_offline(config)?;
            let result = reindex(&core);
            core.close();
            result
        }
        Command::Admin { common, action } => {
            let config = load_config(&common, Overrides::default())?;
            actix_web::rt::System::new().block_on(async move {
                let core = Core::open_offline(config)?;
                let result = run_admin(&core, action).await;
                core.close();
                result
            })
        }
    }
}

fn reindex(core: &Core) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "indexing [{bar:40}] {pos}/{len} posts {elapsed} (about {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = weft::service::search::reindex_offline(core, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let r = report?;
    println!(
        "indexed {} posts and {} people in {:.1} s ({} MB on disk)",
        r.posts,
        r.people,
        r.seconds,
        r.bytes_on_disk / 1_000_000
    );
    Ok(())
}

async fn run_admin(core: &Core, action: AdminAction) -> anyhow::Result<()> {
    match action {
        AdminAction::CreateUser { name, admin, email } => {
            let pw = read_password()?;
            let role = if admin { Role::Admin } else { Role::User };
            let a = accounts::create_user(core, &name, &pw, email.as_deref(), role)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created @{} ({})", a.username, a.role.as_str());
        }
        AdminAction::SetPassword { name } => {
            let pw = read_password()?;
            accounts::set_password(core, &name, &pw)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("password of @{name} changed; its sessions were ended");
        }
        AdminAction::SetRole { name, role } => {
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?;
            admin::set_role(core, None, &name, role)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("@{name} is now {}", role.as_str());
        }
    }
    Ok(())
}
