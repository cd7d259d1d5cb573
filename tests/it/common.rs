//! The test harness: starts the real app on 127.0.0.1 (a free port) with a temporary data
//! directory, and drives it over real HTTP with a cookie-keeping client per user.

use std::net::SocketAddr;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use weft::config::Config;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    /// The running app's state, for tests that compare two read paths directly.
    pub core: weft::service::Core,
    /// Kept so the data directory lives as long as the app.
    _dir: tempfile::TempDir,
}

/// A config for tests: temp data dir, one worker, generous sign-up limits (every test user
/// comes from 127.0.0.1), everything else as shipped.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.server.bind = "127.0.0.1:0".into();
    c.server.data_dir = dir.to_path_buf();
    c.server.workers = 2;
    c.server.shutdown_timeout_secs = 1;
    c.rate_limits.signup_per_ip = 10_000;
    c.rate_limits.login_per_ip = 10_000;
    c.rate_limits.posts_per_account = 10_000;
    c.storage.readers = 4;
    c
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::with_config(|_| {}).await
    }

    pub async fn with_config(f: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path());
        f(&mut config);
        Self::start(dir, config)
    }

    /// Starts the app on a data directory the test has prepared (e.g. seeded).
    pub fn start(dir: tempfile::TempDir, config: Config) -> TestApp {
        let running = weft::app::start(config).expect("app starts");
        let addr = running.addr;
        let core = running.core.clone();
        actix_web::rt::spawn(async move {
            let _ = running.run().await;
        });
        TestApp {
            addr,
            base: format!("http://{addr}"),
            core,
            _dir: dir,
        }
    }

    /// The instance's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A visitor without an account.
    pub fn anon(&self) -> User {
        User::new(&self.base, "")
    }

    /// Signs up a new account (and stays logged in as it).
    pub async fn signup(&self, name: &str) -> User {
        let u = User::new(&self.base, name);
        let r = u
            .post("/signup", &[("username", name), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "signup {name}: {}", r.body);
        u
    }

    pub async fn login(&self, name: &str, password: &str) -> (User, Resp) {
        let u = User::new(&self.base, name);
        let r = u
            .post("/login", &[("username", name), ("password", password)])
            .await;
        (u, r)
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub body: String,
    pub headers: HeaderMap,
}

impl Resp {
    async fn read(r: reqwest::Response) -> Resp {
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap_or_default(),
        }
    }

    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
    #[track_caller]
    pub fn assert_contains(&self, s: &str) {
        assert!(
            self.body.contains(s),
            "expected {s:?} in the {} response:\n{}",
            self.status,
            self.body
        );
    }
    #[track_caller]
    pub fn assert_lacks(&self, s: &str) {
        assert!(
            !self.body.contains(s),
            "did not expect {s:?} in the {} response:\n{}",
            self.status,
            self.body
        );
    }
    /// Ids of the posts rendered on the page, in page order.
    pub fn post_ids(&self) -> Vec<i64> {
        ids_after(&self.body, "<article class=\"post")
            .into_iter()
            .collect()
    }
}

/// The numbers in `id="p-N"` attributes of elements whose tag starts with `prefix`.
fn ids_after(body: &str, prefix: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for (i, _) in body.match_indices(prefix) {
        let rest = &body[i..];
        let Some(start) = rest.find("id=\"p-") else {
            continue;
        };
        let end_tag = rest.find('>').unwrap_or(rest.len());
        if start > end_tag {
            continue;
        }
        let num: String = rest[start + 6..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if let Ok(n) = num.parse() {
            out.push(n);
        }
    }
    out
}

pub struct User {
    pub name: String,
    pub base: String,
    pub client: reqwest::Client,
}

impl User {
    pub fn new(base: &str, name: &str) -> User {
        weft::federation::client::install_crypto();
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        User {
            name: name.to_string(),
            base: base.to_string(),
            client,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        Resp::read(r).await
    }

    /// The CSRF token the server gave this client (from any page's hx-headers).
    pub async fn csrf(&self) -> String {
        let page = self.get("/login").await;
        let body = if page.status == StatusCode::SEE_OTHER {
            self.get("/settings").await.body
        } else {
            page.body
        };
        let key = "name=\"csrf\" value=\"";
        let i = body.find(key).expect("a csrf field on the page") + key.len();
        body[i..].chars().take_while(|c| *c != '"').collect()
    }

    /// Posts a form with this client's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &token));
        self.post_raw(path, &all).await
    }

    /// Posts a multipart form (fields and files: field name, file name, bytes, declared type)
    /// with this client's CSRF token added.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>, &str)],
    ) -> Resp {
        let token = self.csrf().await;
        let mut form = reqwest::multipart::Form::new().text("csrf", token);
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (field, name, bytes, mime) in files {
            let part = reqwest::multipart::Part::bytes(bytes.clone())
                .file_name(name.to_string())
                .mime_str(mime)
                .unwrap();
            form = form.part(field.to_string(), part);
        }
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .expect("POST multipart");
        Resp::read(r).await
    }

    /// Fetches raw bytes with the response headers.
    pub async fn get_bytes(
        &self,
        path: &str,
        range: Option<&str>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let r = req.send().await.expect("GET");
        let status = r.status();
        let headers = r.headers().clone();
        (
            status,
            headers,
            r.bytes().await.unwrap_or_default().to_vec(),
        )
    }

    /// Posts a form as an htmx request would (CSRF in the header).
    pub async fn post_htmx(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.csrf().await;
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", token)
            .form(fields)
            .send()
            .await
            .expect("POST");
        Resp::read(r).await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST");
        Resp::read(r).await
    }

    /// Posts and returns the new post's id (the newest of this user's posts and replies).
    pub async fn create_post(&self, fields: &[(&str, &str)]) -> i64 {
        let r = self.post("/posts", fields).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "posting failed: {}",
            r.body
        );
        self.newest_post_id().await
    }

    pub async fn say(&self, body: &str) -> i64 {
        self.create_post(&[("body", body)]).await
    }

    pub async fn reply(&self, to: i64, body: &str) -> i64 {
        self.create_post(&[("body", body), ("in_reply_to", &to.to_string())])
            .await
    }

    pub async fn newest_post_id(&self) -> i64 {
        let page = self.get(&format!("/@{}?tab=replies", self.name)).await;
        *page.post_ids().first().expect("the user has a post")
    }

    pub async fn follow(&self, name: &str) -> Resp {
        self.post(&format!("/@{name}/follow"), &[]).await
    }
}

/// Thread page path of a post.
pub fn post_path(author: &str, id: i64) -> String {
    format!("/@{author}/{id}")
}
