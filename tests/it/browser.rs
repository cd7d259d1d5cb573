//! A newcomer's path through the real UI, in headless Chromium driven over WebDriver
//! (chromedriver + fantoccini): two people sign up, post, follow, like and reply, the first
//! one sees the notifications; screenshots of the main pages at phone and desktop width land
//! in `target/screenshots/`.
//!
//! Needs `chromium` and `chromium-driver` (Debian names; CI installs them). Without them this
//! test fails on purpose. `CHROMEDRIVER` and `CHROME_BIN` override the paths.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::common::{PASSWORD, TestApp};

/// How long to wait for an element, a page or chromedriver before failing.
const WAIT: Duration = Duration::from_secs(10);
const SCREENSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");
const SIZES: [(&str, u32, u32); 2] = [("phone", 390, 844), ("desktop", 1280, 900)];

fn missing_browser(what: &str) -> ! {
    panic!(
        "{what}. The browser test needs Chromium and its WebDriver: on Debian/Ubuntu \
         `apt-get install chromium chromium-driver` (CI installs them). Set CHROMEDRIVER / \
         CHROME_BIN if they live somewhere other than /usr/bin."
    )
}

/// A chromedriver child process, killed (with the browsers it started) when dropped, also when
/// the test panics.
struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let exe = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let dir = tempfile::tempdir().expect("temp dir for chromedriver");
        let log = dir.path().join("chromedriver.log");
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut cmd = Command::new(&exe);
        cmd.arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so Drop can take the browsers down with it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing_browser(&format!("`{exe}` was not found"))
            }
            Err(e) => panic!("could not start `{exe}`: {e}"),
        };
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let start = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!(
                    "chromedriver exited ({status}) before accepting connections:\n{}",
                    driver.log_text()
                );
            }
            assert!(
                start.elapsed() < WAIT,
                "chromedriver did not listen on port {port} within {WAIT:?}:\n{}",
                driver.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// A new browser session with its own profile (cookies), so each one is a separate person.
    async fn session(&self, base: &str, who: &str) -> Browser {
        let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        if !Path::new(&chrome).exists() {
            missing_browser(&format!("no Chromium at {chrome}"));
        }
        let profile = tempfile::tempdir().expect("temp dir for the browser profile");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!("json! of an object is an object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "could not open a Chromium session for {who} through chromedriver: {e}\n{}",
                    self.log_text()
                )
            });
        Browser {
            c: client,
            base: base.to_string(),
            who: who.to_string(),
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any Chromium it launched and did not quit.
        let pgid = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &pgid])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One person's browser.
struct Browser {
    c: Client,
    base: String,
    who: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.c
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("{}: could not open {url}: {e}", self.who));
    }

    /// The path (and query) of the page the browser is on.
    async fn path(&self) -> String {
        let url = self.c.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// What is on screen, for failure messages: the URL and the start of the main column.
    async fn describe(&self) -> String {
        let url = self
            .c
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let main = match self.c.find(Locator::Css("main")).await {
            Ok(m) => m.text().await.unwrap_or_default(),
            Err(_) => self.c.source().await.unwrap_or_default(),
        };
        let main: String = main.chars().take(1500).collect();
        format!("{} is on {url}; the page says:\n{main}", self.who)
    }

    /// Waits (bounded) for an element; panics with what the page shows instead.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.find_by(Locator::Css(css), &format!("no element `{css}`"))
            .await
    }

    /// Waits (bounded) for an element found by XPath.
    async fn find_xpath(&self, xpath: &str, what: &str) -> fantoccini::elements::Element {
        self.find_by(Locator::XPath(xpath), &format!("{what}: nothing matched"))
            .await
    }

    async fn find_by(&self, at: Locator<'_>, what: &str) -> fantoccini::elements::Element {
        match self.c.wait().at_most(WAIT).for_element(at).await {
            Ok(e) => e,
            Err(e) => panic!("{what} within {WAIT:?} ({e})\n{}", self.describe().await),
        }
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        if let Err(e) = el.click().await {
            panic!("could not click `{css}`: {e}\n{}", self.describe().await);
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        if let Err(e) = el.send_keys(text).await {
            panic!(
                "could not type into `{css}`: {e}\n{}",
                self.describe().await
            );
        }
    }

    async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        el.text().await.unwrap_or_default().trim().to_string()
    }

    /// The current value of a form field (what was typed, not the markup's attribute).
    async fn value(&self, css: &str) -> String {
        let el = self.find(css).await;
        el.prop("value").await.ok().flatten().unwrap_or_default()
    }

    async fn attr(&self, css: &str, name: &str) -> String {
        let el = self.find(css).await;
        el.attr(name).await.ok().flatten().unwrap_or_default()
    }

    /// The post card whose text contains `text`; returns its numeric id.
    async fn post_with_text(&self, text: &str) -> i64 {
        let xpath = format!(
            "//article[contains(concat(' ', normalize-space(@class), ' '), ' post ')]\
             [.//div[contains(@class, 'body')][contains(., '{text}')]]"
        );
        let card = self
            .find_xpath(&xpath, &format!("a post saying {text:?}"))
            .await;
        let id = card.attr("id").await.ok().flatten().unwrap_or_default();
        id.strip_prefix("p-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("post card without a p-<id> id: {id:?}"))
    }

    /// Marks the current document, to tell an in-place htmx swap from a full page load.
    async fn mark_document(&self) {
        self.c
            .execute("window.__weftSamePage = true;", vec![])
            .await
            .expect("run a script");
    }

    async fn still_same_document(&self) -> bool {
        self.c
            .execute("return window.__weftSamePage === true;", vec![])
            .await
            .expect("run a script")
            .as_bool()
            .unwrap_or(false)
    }

    /// Opens `path`, checks it rendered (`ready` is on the page), and saves a screenshot at
    /// each size as `<size>-<name>.png`.
    async fn screenshots(&self, path: &str, ready: &str, name: &str) {
        self.goto(path).await;
        self.find(ready).await;
        let title = self.c.title().await.unwrap_or_default();
        assert!(
            !title.is_empty(),
            "{path} has no title\n{}",
            self.describe().await
        );
        for (size, w, h) in SIZES {
            self.set_viewport(w, h).await;
            // The layout changed; make sure the page is still the one we expect.
            self.find(ready).await;
            self.images_loaded().await;
            let png = self
                .c
                .screenshot()
                .await
                .unwrap_or_else(|e| panic!("screenshot of {path}: {e}"));
            let file = Path::new(SCREENSHOTS).join(format!("{size}-{name}.png"));
            std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        }
        self.c
            .set_window_size(1280, 900)
            .await
            .expect("restore the window size");
    }

    /// Waits until every photo in view has loaded, so a screenshot shows photos rather than
    /// their blurred placeholders.
    async fn images_loaded(&self) {
        let script = "return Array.from(document.querySelectorAll('img.picture')).every(i => \
             (i.complete && i.naturalWidth > 0) || i.getBoundingClientRect().top > innerHeight);";
        let started = Instant::now();
        while started.elapsed() < WAIT {
            let done = self.c.execute(script, vec![]).await.expect("run a script");
            if done.as_bool() == Some(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "photos did not load within {WAIT:?}\n{}",
            self.describe().await
        );
    }

    /// Sizes the window so the page itself (the viewport) is `w` x `h` CSS pixels: the
    /// window size WebDriver sets includes the browser's own frame, even when headless.
    async fn set_viewport(&self, w: u32, h: u32) {
        let mut size = (w, h);
        let mut seen = (0, 0);
        // The window manager applies a resize asynchronously; under load it can lag a little.
        for _ in 0..8 {
            self.c
                .set_window_size(size.0, size.1)
                .await
                .unwrap_or_else(|e| panic!("resize to {}x{}: {e}", size.0, size.1));
            tokio::time::sleep(Duration::from_millis(50)).await;
            let inner = self
                .c
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await
                .expect("read the viewport size");
            let dim = |i: usize| {
                inner[i]
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0)
            };
            let (iw, ih) = (dim(0), dim(1));
            if (iw, ih) == (w, h) {
                return;
            }
            if (iw, ih) == seen {
                // Nothing changed since the last try: give the resize time to land.
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            seen = (iw, ih);
            size = (
                (size.0 + w).saturating_sub(iw).max(1),
                (size.1 + h).saturating_sub(ih).max(1),
            );
        }
        panic!(
            "could not make the viewport {w}x{h} (last seen {}x{})",
            seen.0, seen.1
        );
    }

    async fn signup(&self, name: &str) {
        self.goto("/signup").await;
        self.type_into("#signup-username", name).await;
        self.type_into("#signup-password", PASSWORD).await;
        self.click("form[action='/signup'] button[type='submit']")
            .await;
        // Signed up and logged in: the home feed with its composer.
        self.find("form.compose #body").await;
        assert_eq!(self.path().await, "/", "{name} lands on the home feed");
        let logout = self.text("form.logout button").await;
        assert!(
            logout.contains(&format!("@{name}")),
            "the sidebar shows who is logged in: {logout:?}"
        );
    }

    async fn close(self) {
        let _ = self.c.close().await;
    }
}

#[actix_web::test]
async fn a_newcomer_signs_up_posts_and_gets_followed_liked_and_replied_to() {
    let started = Instant::now();
    std::fs::create_dir_all(SCREENSHOTS).expect("create target/screenshots");
    let driver = Driver::start();
    let app = TestApp::spawn().await;
    let alice = driver.session(&app.base, "alice").await;
    let bob = driver.session(&app.base, "bob").await;

    // 1. alice signs up (the first account, so she is the admin) and posts from the home feed.
    alice.signup("alice").await;
    alice.find("a.nav-link[href='/admin']").await;
    let hello = "Hello from a real browser, first post here";
    alice.type_into("form.compose #body", hello).await;
    alice.click("form.compose button[type='submit']").await;
    let post = alice.post_with_text(hello).await;
    assert_eq!(alice.path().await, "/", "posting returns to the home feed");

    // 1b. alice posts a photo: picking the file uploads it at once (JS), the composer shows a
    // preview and asks for a description, the post shows the photo with its alt text.
    let files = tempfile::tempdir().expect("temp dir");
    let photo_path = files.path().join("beach.jpg");
    std::fs::write(
        &photo_path,
        weft::media::bench::synthetic_photo(1200, 900, 6).expect("a photo"),
    )
    .expect("write the photo");
    let caption = "A photo from the browser";
    let alt = "Soft colour bands fading from warm to cool";
    alice.type_into("form.compose #body", caption).await;
    alice
        .find("form.compose input[type='file']")
        .await
        .send_keys(&photo_path.to_string_lossy())
        .await
        .expect("choose a file");
    alice.find("form.compose li.attachment textarea").await;
    let kept = alice.value("form.compose #body").await;
    assert_eq!(kept, caption, "the text survives the upload");
    // The composer with the preview and the alt text reminder, as it is at this moment.
    let shot = alice
        .c
        .screenshot()
        .await
        .expect("screenshot of the composer");
    std::fs::write(
        Path::new(SCREENSHOTS).join("desktop-composer-attachment.png"),
        shot,
    )
    .expect("write the screenshot");
    alice
        .type_into("form.compose li.attachment textarea", alt)
        .await;
    alice
        .click("form.compose .compose-actions button.primary")
        .await;
    let photo_post = alice.post_with_text(caption).await;
    alice
        .find(&format!(
            "article#p-{photo_post} .media img.picture[alt='{alt}']"
        ))
        .await;
    alice
        .screenshots(
            &format!("/@alice/{photo_post}"),
            &format!("article#p-{photo_post} .media img.picture"),
            "photo-post",
        )
        .await;
    alice.goto("/").await;

    // 2. bob signs up in his own browser, follows alice, likes her post and replies to it.
    bob.signup("bob").await;
    bob.goto("/@alice").await;
    bob.find("section.profile-header").await;
    assert_eq!(bob.text("form.follow-form button").await, "Follow");
    bob.mark_document().await;
    bob.click("form.follow-form button").await;
    bob.find("form.follow-form[action='/@alice/unfollow']")
        .await;
    assert_eq!(bob.text("form.follow-form button").await, "Unfollow");
    assert!(
        bob.still_same_document().await,
        "following swaps the button in place (htmx), without a page load"
    );

    bob.click(&format!("article#p-{post} a.permalink")).await;
    bob.find(&format!("article.post.focus#p-{post}")).await;
    assert_eq!(bob.path().await, format!("/@alice/{post}"));
    let like = format!("#actions-{post} button.action.like");
    assert_eq!(bob.attr(&like, "aria-pressed").await, "false");
    bob.mark_document().await;
    bob.click(&like).await;
    bob.find(&format!("{like}[aria-pressed='true']")).await;
    assert_eq!(bob.text(&format!("{like} .count")).await, "1");
    assert!(
        bob.still_same_document().await,
        "liking swaps the actions in place (htmx), without a page load"
    );

    let reply_text = "Welcome aboard, nice first post";
    let prefilled = bob.value("#reply-body").await;
    assert_eq!(prefilled, "@alice ", "the reply box starts with a mention");
    // The reply goes out with htmx and comes back in place: the new reply appears right under
    // a fresh reply box, without a page load.
    bob.click("#reply-body").await;
    bob.type_into("#reply-body", reply_text).await;
    bob.mark_document().await;
    bob.click("#reply button[type='submit']").await;
    bob.find("div.new-reply article.post").await;
    let reply = bob.post_with_text(reply_text).await;
    bob.find(&format!(
        "article#p-{reply} p.reply-to a[href='/@alice/{post}']"
    ))
    .await;
    assert!(
        bob.still_same_document().await,
        "replying swaps the reply box in place (htmx), without a page load"
    );
    let fresh = bob.value("#reply-body").await;
    assert_eq!(fresh, "@alice ", "the reply box is fresh again");

    // 3. alice reloads: an unread badge; the notifications page tells her what happened.
    alice.c.refresh().await.expect("reload");
    let badge = alice
        .text("a.nav-link[href='/notifications'] span.badge")
        .await;
    assert_eq!(badge, "3", "follow, like and reply are unread");
    alice.click("a.nav-link[href='/notifications']").await;
    alice.find("div.notification").await;
    let page = alice.text("main").await;
    for line in [
        "followed you",
        "liked your post",
        "replied to you",
        reply_text,
    ] {
        assert!(
            page.contains(line),
            "notifications should say {line:?}:\n{page}"
        );
    }

    // 3b. Typing @bo in the composer suggests bob; Enter completes the mention.
    alice.goto("/").await;
    alice.type_into("form.compose #body", "Thanks @bo").await;
    let suggestion = alice.find("ul.suggestions li[aria-selected='true']").await;
    let label = suggestion.text().await.unwrap_or_default();
    assert!(label.starts_with("@bob"), "suggested {label:?}");
    alice
        .find("form.compose #body")
        .await
        .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
        .await
        .expect("press Enter");
    let completed = alice.value("form.compose #body").await;
    assert_eq!(completed, "Thanks @bob ", "the mention is completed");

    // 3c. Search from the box in the sidebar: the matched words are highlighted.
    weft::service::search::settle(&app.core)
        .await
        .expect("index settles");
    alice.type_into("#nav-q", "first post").await;
    alice
        .find("#nav-q")
        .await
        .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
        .await
        .expect("press Enter");
    alice.find(&format!("article#p-{post} .body mark")).await;
    assert!(alice.path().await.starts_with("/search"));
    alice
        .screenshots(
            "/search?q=first+post",
            &format!("article#p-{post} mark"),
            "search",
        )
        .await;
    alice
        .screenshots("/explore", "section#trending-tags", "explore")
        .await;
    alice
        .screenshots(
            "/settings/search",
            "section#followed-tags",
            "settings-search",
        )
        .await;
    alice
        .screenshots("/admin/search", "section#index dl.facts", "admin-search")
        .await;

    // 4. Screenshots of the main pages, logged in...
    alice
        .screenshots("/notifications", "div.notification.unread", "notifications")
        .await;
    alice.screenshots("/", "form.compose #body", "home").await;
    alice
        .screenshots(
            &format!("/@alice/{post}"),
            &format!("article.post.focus#p-{post}"),
            "thread",
        )
        .await;
    alice
        .screenshots("/settings", "section.settings-section#profile", "settings")
        .await;
    // ...marking notifications read clears the badge...
    alice.goto("/notifications").await;
    alice
        .click("form[action='/notifications/read'] button")
        .await;
    alice.find("div.notification:not(.unread)").await;
    assert!(
        alice
            .c
            .find(Locator::Css("a.nav-link span.badge"))
            .await
            .is_err(),
        "no unread badge after marking all read"
    );

    // ...bob's view of alice's profile (he follows her now)...
    bob.screenshots(
        "/@alice",
        "form.follow-form[action='/@alice/unfollow']",
        "profile",
    )
    .await;
    bob.post_with_text(hello).await;
    // ...and logged out: bob logs out, then the public pages.
    bob.click("form.logout button").await;
    bob.find("a.nav-link[href='/login']").await;
    bob.screenshots("/public", "section.welcome", "public")
        .await;
    bob.post_with_text(hello).await;
    bob.screenshots("/login", "#login-username", "login").await;
    bob.screenshots("/signup", "#signup-username", "signup")
        .await;

    alice.close().await;
    bob.close().await;
    drop(driver);
    eprintln!(
        "browser test done in {:.1?}; screenshots in {SCREENSHOTS}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn someone_finds_and_follows_a_person_on_another_server() {
    std::fs::create_dir_all(SCREENSHOTS).expect("create target/screenshots");
    let driver = Driver::start();
    let a = crate::federation::fed_app().await;
    let b = crate::federation::fed_app().await;
    let alice = a.signup("alice").await;
    alice.say("Hello from the other server #federation").await;
    let bob = driver.session(&b.base, "bob").await;
    bob.signup("bob").await;

    // bob types alice's handle into the search box and lands on her profile here.
    let handle = format!("alice@{}", crate::federation::host(&a));
    bob.type_into("#nav-q", &format!("@{handle}")).await;
    bob.find("#nav-q")
        .await
        .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
        .await
        .expect("press Enter");
    bob.find("section.profile-header").await;
    assert_eq!(bob.path().await, format!("/@{handle}"));
    assert!(bob.text("p.handle").await.contains("on localhost:"));
    bob.click("form.follow-form button").await;
    // Her server accepts; after a reload bob follows her, and her earlier post is here.
    let start = Instant::now();
    loop {
        bob.goto(&format!("/@{handle}")).await;
        if bob.text("form.follow-form button").await == "Unfollow"
            && bob
                .text("main")
                .await
                .contains("Hello from the other server")
        {
            break;
        }
        assert!(start.elapsed() < WAIT, "{}", bob.describe().await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bob.screenshots(
        &format!("/@{handle}"),
        "section.profile-header",
        "remote-profile",
    )
    .await;
    let post = bob.post_with_text("Hello from the other server").await;
    bob.screenshots(
        &format!("/posts/{post}/report"),
        "#report-reason",
        "report-form",
    )
    .await;
    bob.screenshots("/admin/federation", "section#servers", "admin-federation")
        .await;
    bob.screenshots(
        "/settings/migration",
        "#aliases-input",
        "settings-migration",
    )
    .await;
    bob.close().await;
    drop(driver);
}
