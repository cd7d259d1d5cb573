//! The ActivityPub, WebFinger and NodeInfo endpoints. Thin: read through the services,
//! render with `render`, answer JSON (errors too).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, guard, web};
use serde::Deserialize;
use serde_json::json;

use super::Federation;
use super::render::{self, AS_JSON};
use crate::domain::PostId;
use crate::error::{AppError, AppResult};
use crate::service::models::AccountStatus;
use crate::service::{Core, accounts, federation as fed_service, timeline};

type Fed = web::Data<std::sync::Arc<Federation>>;

/// Mounts the routes; called before the HTML routes so that the content-negotiated ones
/// (`/@name` and `/@name/123` asked for as JSON) win over the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/@{name}")
            .guard(guard::fn_guard(wants_activity_json))
            .route(web::get().to(actor)),
    )
    .service(
        web::resource("/@{name}/{id:[0-9]+}")
            .guard(guard::fn_guard(wants_activity_json))
            .route(web::get().to(note)),
    )
    .route("/.well-known/webfinger", web::get().to(webfinger))
    .route("/.well-known/host-meta", web::get().to(host_meta))
    .route("/.well-known/nodeinfo", web::get().to(nodeinfo_links))
    .route("/nodeinfo/{version}", web::get().to(nodeinfo))
    .route("/actor", web::get().to(instance_actor))
    .route("/inbox", web::post().to(super::inbox::shared_inbox))
    .route("/users/{name}", web::get().to(actor_or_page))
    .route("/users/{name}/inbox", web::post().to(super::inbox::inbox))
    .route("/users/{name}/outbox", web::get().to(outbox))
    .route(
        "/users/{name}/{which:followers|following}",
        web::get().to(collection),
    )
    .route(
        "/users/{name}/collections/featured",
        web::get().to(featured),
    )
    .route("/users/{name}/statuses/{id}", web::get().to(note_or_page))
    .route(
        "/users/{name}/statuses/{id}/replies",
        web::get().to(replies),
    );
}

/// Whether a request asks for ActivityStreams rather than a page.
pub fn wants_activity_json(ctx: &guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_activity_json)
}

pub fn is_activity_json(accept: &str) -> bool {
    accept.contains("application/activity+json")
        || (accept.contains("application/ld+json") && accept.contains("activitystreams"))
        || accept.trim() == "application/ld+json"
}

fn accepts_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| is_activity_json(a) || a.contains("application/json"))
}

/// A JSON error: the safe message only, never the internal cause.
pub fn json_error(e: AppError) -> HttpResponse {
    if let AppError::Internal(inner) = &e {
        tracing::error!("federation: {inner:#}");
    }
    let status = e.status_code();
    let (title, message) = e.public_message();
    HttpResponse::build(status).json(json!({"error": title, "error_description": message}))
}

fn activity_json(status: StatusCode, body: &serde_json::Value, shared: bool) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/activity+json; charset=utf-8"),
        ))
        .insert_header((header::VARY, "Accept"))
        // In secure mode an answer is for the signer only; no cache may hand it on.
        .insert_header((
            header::CACHE_CONTROL,
            if shared {
                "max-age=60, public"
            } else {
                "private, no-store"
            },
        ))
        .body(body.to_string())
}

/// Answers a fetch with `doc`, once secure mode (when on) has seen a signature it can check.
async fn fetched(
    fed: &Federation,
    core: &Core,
    req: &HttpRequest,
    doc: impl std::future::Future<Output = AppResult<serde_json::Value>>,
) -> HttpResponse {
    if let Err(e) = fed.check_fetch(core, req).await {
        return json_error(e);
    }
    match doc.await {
        Ok(d) => fed.ok(core, &d),
        Err(e) => json_error(e),
    }
}

fn see_other(path: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, path.to_string()))
        .finish()
}

impl Federation {
    /// A JSON answer; shareable by caches unless secure mode made it the signer's alone.
    fn ok(&self, core: &Core, body: &serde_json::Value) -> HttpResponse {
        activity_json(StatusCode::OK, body, !core.settings().secure_mode)
    }
}

async fn local_account(core: &Core, name: &str) -> AppResult<crate::service::models::Account> {
    let a = accounts::find_by_username(core, name).await?;
    if a.status != AccountStatus::Active || a.username.contains('@') {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------
// Discovery

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: Option<String>,
}

async fn webfinger(fed: Fed, core: web::Data<Core>, q: web::Query<WebfingerQuery>) -> HttpResponse {
    let Some(resource) = q.resource.as_deref() else {
        return json_error(AppError::invalid(
            "Give a resource, such as acct:name@host.",
        ));
    };
    let ids = &fed.ids;
    let name = if let Some(acct) = resource.strip_prefix("acct:") {
        match acct.trim_start_matches('@').rsplit_once('@') {
            Some((name, host)) if host.eq_ignore_ascii_case(ids.host()) => name.to_string(),
            _ => return json_error(AppError::NotFound),
        }
    } else if let Some(name) = ids.local_name(resource) {
        name.to_string()
    } else if let Some(name) = resource
        .strip_prefix(ids.base())
        .and_then(|r| r.strip_prefix("/@"))
        .filter(|n| !n.contains('/'))
    {
        name.to_string()
    } else {
        return json_error(AppError::NotFound);
    };
    let account = match local_account(&core, &name).await {
        Ok(a) => a,
        Err(e) => return json_error(e),
    };
    let name = &account.username;
    HttpResponse::Ok()
        .content_type("application/jrd+json; charset=utf-8")
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(json!({
            "subject": format!("acct:{name}@{}", ids.host()),
            "aliases": [ids.actor(name), ids.profile_page(name)],
            "links": [
                {"rel": "self", "type": AS_JSON, "href": ids.actor(name)},
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                 "href": ids.profile_page(name)},
            ],
        }))
}

async fn host_meta(fed: Fed) -> HttpResponse {
    let template = format!("{}/.well-known/webfinger?resource={{uri}}", fed.ids.base());
    HttpResponse::Ok()
        .content_type("application/xrd+xml; charset=utf-8")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{}\"/>\n</XRD>\n",
            template.replace('&', "&amp;").replace('"', "&quot;")
        ))
}

async fn nodeinfo_links(fed: Fed) -> HttpResponse {
    let base = fed.ids.base();
    HttpResponse::Ok().json(json!({
        "links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
             "href": format!("{base}/nodeinfo/2.0")},
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
             "href": format!("{base}/nodeinfo/2.1")},
        ]
    }))
}

async fn nodeinfo(core: web::Data<Core>, version: web::Path<String>) -> HttpResponse {
    let version = version.into_inner();
    if version != "2.0" && version != "2.1" {
        return json_error(AppError::NotFound);
    }
    let (users, posts) = match fed_service::usage(&core).await {
        Ok(u) => u,
        Err(e) => return json_error(e),
    };
    let settings = core.settings();
    let software = json!({"name": "weft", "version": env!("CARGO_PKG_VERSION")});
    let open = settings.registration != crate::domain::RegistrationMode::Closed;
    HttpResponse::Ok()
        .content_type(format!(
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\""
        ))
        .json(json!({
            "version": version,
            "software": software,
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": open,
            "usage": {"users": {"total": users}, "localPosts": posts},
            "metadata": {"nodeName": settings.name, "nodeDescription": settings.description},
        }))
}

// ---------------------------------------------------------------------------------------
// Actors and their collections

async fn actor_or_page(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    if !accepts_json(&req) {
        // A person who follows an actor id in a browser gets the profile page.
        return see_other(&crate::urls::Urls::profile(&name));
    }
    actor(fed, core, req, name).await
}

async fn actor(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    let res = async {
        let a = local_account(&core, &name).await?;
        let (_, public) = fed.account_keys(&core, a.id).await?;
        let bio = super::html::from_text(&a.bio, &|_, _| None, &|t| fed.ids.tag(t));
        let discoverable = !fed_service::opted_out_of_search(&core, a.id).await?;
        let migration = fed_service::migration(&core, a.id).await?;
        Ok::<_, AppError>(render::actor(
            &fed.ids,
            &a,
            &public,
            &bio,
            discoverable,
            &migration,
        ))
    };
    fetched(&fed, &core, &req, res).await
}

async fn instance_actor(fed: Fed, core: web::Data<Core>) -> HttpResponse {
    // Served unsigned even in secure mode: others need its key to check our signed fetches.
    match fed.instance_keys(&core).await {
        Ok((_, public)) => fed.ok(&core, &render::instance_actor(&fed.ids, &public)),
        Err(e) => json_error(e),
    }
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<bool>,
    max_id: Option<i64>,
}

async fn outbox(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    let res = async {
        let a = local_account(&core, &name).await?;
        let id = fed.ids.outbox(&a.username);
        if q.page != Some(true) {
            return Ok(json!({
                "@context": render::context(),
                "id": id,
                "type": "OrderedCollection",
                "totalItems": a.posts_count,
                "first": format!("{id}?page=true"),
            }));
        }
        let posts = fed_service::outbox_page(&core, a.id, q.max_id).await?;
        let mut items = Vec::new();
        for pid in &posts {
            if let Some(w) = fed_service::wire_post(&core, *pid).await? {
                let note = render::note(&fed.ids, &w);
                let (to, cc) = render::addressing(&fed.ids, &w);
                items.push(render::activity(
                    &format!("{}/activity", fed.ids.note(&a.username, *pid)),
                    "Create",
                    &fed.ids.actor(&a.username),
                    note,
                    &to,
                    &cc,
                ));
            }
        }
        let mut page = json!({
            "@context": render::context(),
            "id": match q.max_id { Some(m) => format!("{id}?page=true&max_id={m}"), None => format!("{id}?page=true") },
            "type": "OrderedCollectionPage",
            "partOf": id,
            "orderedItems": items,
        });
        if posts.len() == core.config.limits.page_size
            && let Some(last) = posts.last()
        {
            page["next"] = json!(format!("{id}?page=true&max_id={last}"));
        }
        Ok::<_, AppError>(page)
    };
    fetched(&fed, &core, &req, res).await
}

/// Followers or following as a paged OrderedCollection of actor ids (the same people the
/// profile's lists show).
async fn collection(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    let (name, which) = path.into_inner();
    let followers = which == "followers";
    let res = async {
        let a = local_account(&core, &name).await?;
        let (id, total) = if followers {
            (fed.ids.followers(&a.username), a.followers_count)
        } else {
            (fed.ids.following(&a.username), a.following_count)
        };
        if q.page != Some(true) {
            let mut doc = render::counted_collection(&id, total);
            doc["first"] = json!(format!("{id}?page=true"));
            return Ok(doc);
        }
        let rows = fed_service::collection_page(&core, a.id, followers, q.max_id).await?;
        let items: Vec<String> = rows
            .iter()
            .map(|(_, name, uri)| uri.clone().unwrap_or_else(|| fed.ids.actor(name)))
            .collect();
        let mut page = json!({
            "@context": render::context(),
            "id": match q.max_id {
                Some(m) => format!("{id}?page=true&max_id={m}"),
                None => format!("{id}?page=true"),
            },
            "type": "OrderedCollectionPage",
            "partOf": id,
            "totalItems": total,
            "orderedItems": items,
        });
        if rows.len() == core.config.limits.page_size
            && let Some((last, _, _)) = rows.last()
        {
            page["next"] = json!(format!("{id}?page=true&max_id={last}"));
        }
        Ok::<_, AppError>(page)
    };
    fetched(&fed, &core, &req, res).await
}

async fn featured(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    let res = async {
        let a = local_account(&core, &name).await?;
        let mut items = Vec::new();
        for p in fed_service::featured(&core, a.id).await? {
            if let Some(w) = fed_service::wire_post(&core, p).await? {
                items.push(render::note(&fed.ids, &w));
            }
        }
        Ok::<_, AppError>(json!({
            "@context": render::context(),
            "id": fed.ids.featured(&a.username),
            "type": "OrderedCollection",
            "totalItems": items.len(),
            "orderedItems": items,
        }))
    };
    fetched(&fed, &core, &req, res).await
}

// ---------------------------------------------------------------------------------------
// Posts

async fn note_or_page(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> HttpResponse {
    if !accepts_json(&req) {
        let (name, id) = path.into_inner();
        return see_other(&crate::urls::Urls::post(&name, PostId(id)));
    }
    note(fed, core, req, path).await
}

async fn note(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> HttpResponse {
    let (name, id) = path.into_inner();
    let res = async {
        // Only public posts are served to anyone who asks; followers-only and mentioned
        // posts reach their readers by delivery.
        let p = timeline::post(&core, None, PostId(id)).await?;
        if !p.author.username.eq_ignore_ascii_case(&name) || p.author.username.contains('@') {
            return Err(AppError::NotFound);
        }
        let w = fed_service::wire_post(&core, PostId(id))
            .await?
            .ok_or(AppError::NotFound)?;
        if w.post.deleted {
            return Ok(json!({
                "@context": render::context(),
                "id": fed.ids.note(&name, PostId(id)),
                "type": "Tombstone",
            }));
        }
        let mut doc = render::note(&fed.ids, &w);
        doc["@context"] = render::context();
        Ok::<_, AppError>(doc)
    };
    fetched(&fed, &core, &req, res).await
}

/// A public post's public replies (the first page holds them all up to `limits.page_size`).
async fn replies(
    fed: Fed,
    core: web::Data<Core>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> HttpResponse {
    let (name, id) = path.into_inner();
    let res = async {
        let p = timeline::post(&core, None, PostId(id)).await?;
        if !p.author.username.eq_ignore_ascii_case(&name) || p.author.username.contains('@') {
            return Err(AppError::NotFound);
        }
        let items: Vec<String> = fed_service::public_replies(&core, PostId(id))
            .await?
            .into_iter()
            .map(|(rid, author, uri)| uri.unwrap_or_else(|| fed.ids.note(&author, rid)))
            .collect();
        let coll = format!("{}/replies", fed.ids.note(&name, PostId(id)));
        Ok::<_, AppError>(json!({
            "@context": render::context(),
            "id": coll,
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "id": format!("{coll}?page=true"),
                "partOf": coll,
                "items": items,
            },
        }))
    };
    fetched(&fed, &core, &req, res).await
}
