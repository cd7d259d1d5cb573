//! Composition root: builds the state (`service::Core` is the app state: config, database,
//! URLs, id generator, limits), mounts the routes and middleware, runs the server, and closes
//! the database after a graceful stop.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::ServerHandle;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::config::Config;
use crate::error::AppError;
use crate::service::Core;

/// A server that is accepting connections.
pub struct Running {
    pub addr: SocketAddr,
    pub core: Core,
    pub handle: ServerHandle,
    server: actix_web::dev::Server,
    jobs: crate::jobs::Runner,
}

impl Running {
    /// Serves until the server is stopped (SIGINT/SIGTERM or `handle.stop`), then finishes
    /// queued writes and closes the database.
    pub async fn run(self) -> anyhow::Result<()> {
        let res = self.server.await;
        let grace = std::time::Duration::from_secs(self.core.config.server.shutdown_timeout_secs);
        self.jobs.stop(grace).await;
        let core = self.core.clone();
        let _ = tokio::task::spawn_blocking(move || {
            core.search.stop();
            core.close()
        })
        .await;
        tracing::info!("stopped; database closed");
        res.context("running the HTTP server")
    }
}

/// Binds, opens the data directory and builds the server; nothing is served until `run`.
pub fn start(mut config: Config) -> anyhow::Result<Running> {
    crate::federation::client::install_crypto();
    let listener = TcpListener::bind(&config.server.bind)
        .with_context(|| format!("listening on {}", config.server.bind))?;
    let addr = listener.local_addr()?;
    match &config.server.public_url {
        // With port 0 the real port is known only now; links must use it.
        None => config.server.public_url = Some(format!("http://{addr}")),
        // A public URL on port 0 (tests and development: `http://localhost:0`) means the
        // port bound, under the name given (several fediverse libraries refuse IP hosts).
        Some(u) if u.trim_end_matches('/').ends_with(":0") => {
            let u = u.trim_end_matches('/');
            config.server.public_url = Some(format!("{}:{}", &u[..u.len() - 2], addr.port()));
        }
        Some(_) => {}
    }
    let workers = config.server.workers;
    let shutdown = config.server.shutdown_timeout_secs;
    let core = Core::open(config)?;
    // Federation is plugged in only when turned on: without it none of its routes exist.
    let federation = if core.config.federation.enabled {
        let f = crate::federation::Federation::new(&core)?;
        core.federation
            .set(std::sync::Arc::new(crate::federation::Handle(f.clone())));
        Some(web::Data::new(f))
    } else {
        None
    };
    let data = web::Data::new(core.clone());
    let page_cache = web::Data::new(crate::web::page_cache::PageCache::new(
        core.config.feeds.public_cache_mib.saturating_mul(1 << 20),
        std::time::Duration::from_millis(core.config.feeds.public_cache_ms),
    ));
    let mut server = HttpServer::new(move || {
        let federation = federation.clone();
        App::new()
            .app_data(data.clone())
            .app_data(page_cache.clone())
            .app_data(web::QueryConfig::default().error_handler(|_, _| {
                AppError::invalid("The address has a malformed parameter.").into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
            .wrap(from_fn(crate::web::middleware::security))
            .wrap(Compress::default())
            .configure(move |cfg| {
                if let Some(f) = federation {
                    cfg.app_data(f);
                    crate::federation::routes::configure(cfg);
                }
            })
            .configure(crate::web::configure)
            .default_service(web::to(crate::web::not_found))
    })
    .shutdown_timeout(shutdown)
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server.run();
    let handle = server.handle();
    // Whatever was queued before a stop or crash resumes here.
    let jobs = crate::jobs::Runner::start(
        core.db.clone(),
        core.jobs.clone(),
        core.config.jobs.clone(),
        crate::service::tasks::TaskHandler::shared(core.clone()),
    );
    let periodic = core.clone();
    actix_web::rt::spawn(async move {
        if let Err(e) = crate::service::tasks::ensure_periodic(&periodic).await {
            tracing::error!("queueing periodic jobs: {e:#}");
        }
    });
    if core.search.needs_rebuild() {
        // Search works meanwhile, from what is already indexed, and says it is incomplete.
        let rebuild = core.clone();
        actix_web::rt::spawn(async move {
            tracing::info!("rebuilding the search index from the database in the background");
            let res = tokio::task::spawn_blocking(move || {
                crate::service::search::rebuild_blocking(&rebuild)
            })
            .await;
            match res {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!("rebuilding the search index: {e:#}"),
                Err(e) => tracing::error!("rebuilding the search index: {e}"),
            }
        });
    }
    tracing::info!(
        "weft listening on http://{addr} (public URL {}), data in {}",
        core.urls.base(),
        core.config.server.data_dir.display()
    );
    Ok(Running {
        addr,
        core,
        handle,
        server,
        jobs,
    })
}
