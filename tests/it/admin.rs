use reqwest::StatusCode;

use crate::common::{PASSWORD, TestApp, User};

async fn set_settings(admin: &User, registration: &str, login_required: bool) {
    let mut f = vec![
        ("name", "Test Town"),
        ("description", "A test instance"),
        ("registration", registration),
    ];
    if login_required {
        f.push(("login_required", "1"));
    }
    let r = admin.post("/admin/settings", &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[actix_web::test]
async fn closed_registration_refuses_sign_ups() {
    let app = TestApp::spawn().await;
    let admin = app.signup("admin").await;
    set_settings(&admin, "closed", false).await;
    let u = User::new(&app.base, "x");
    let page = u.get("/signup").await;
    page.assert_contains("Registration is closed");
    let r = u
        .post("/signup", &[("username", "newbie"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.anon().get("/@newbie").await.status,
        StatusCode::NOT_FOUND
    );
    // The new name shows up in the page title, set by the admin.
    app.anon().get("/public").await.assert_contains("Test Town");
}

#[actix_web::test]
async fn sign_ups_by_approval_wait_for_staff() {
    let app = TestApp::spawn().await;
    let admin = app.signup("admin").await;
    set_settings(&admin, "approval", false).await;
    let u = User::new(&app.base, "newbie");
    let r = u
        .post("/signup", &[("username", "newbie"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let r = u
        .post(
            "/signup",
            &[
                ("username", "newbie"),
                ("password", PASSWORD),
                ("reason", "I live here"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    r.assert_contains("An admin will review it");
    let (_, r) = app.login("newbie", PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_contains("waiting for an admin");
    // Pending accounts have no public profile.
    assert_eq!(
        app.anon().get("/@newbie").await.status,
        StatusCode::NOT_FOUND
    );

    let page = admin.get("/admin").await;
    page.assert_contains("I live here");
    let r = admin.post("/admin/accounts/newbie/approve", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (_, r) = app.login("newbie", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // A rejected sign-up disappears and the name is free again.
    let v = User::new(&app.base, "spammer");
    v.post(
        "/signup",
        &[
            ("username", "spammer"),
            ("password", PASSWORD),
            ("reason", "buy now"),
        ],
    )
    .await;
    let r = admin.post("/admin/accounts/spammer/reject", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (_, r) = app.login("spammer", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn an_admin_can_require_login_to_read() {
    let app = TestApp::spawn().await;
    let admin = app.signup("admin").await;
    let id = admin.say("members only chatter").await;
    set_settings(&admin, "open", true).await;
    let anon = app.anon();
    for path in [
        "/",
        "/public",
        "/@admin",
        &format!("/@admin/{id}"),
        "/tags/x",
    ] {
        let r = anon.get(path).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        r.assert_lacks("members only chatter");
    }
    assert_eq!(anon.get("/login").await.status, StatusCode::OK);
    assert_eq!(anon.get("/healthz").await.status, StatusCode::OK);
    admin
        .get("/public")
        .await
        .assert_contains("members only chatter");
}

#[actix_web::test]
async fn roles_are_set_by_admins_only() {
    let app = TestApp::spawn().await;
    let admin = app.signup("admin").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;

    let r = bob
        .post("/admin/accounts/carol/role", &[("role", "admin")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = admin
        .post("/admin/accounts/bob/role", &[("role", "moderator")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A moderator sees the admin page but cannot change roles or instance settings.
    assert_eq!(bob.get("/admin").await.status, StatusCode::OK);
    let r = bob
        .post("/admin/accounts/carol/role", &[("role", "moderator")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = bob
        .post(
            "/admin/settings",
            &[("name", "Mine"), ("registration", "closed")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A moderator may delete someone else's post.
    let id = carol.say("rule-breaking post").await;
    let r = bob.post(&format!("/posts/{id}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.anon().get(&format!("/@carol/{id}")).await.status,
        StatusCode::OK
    );
    app.anon()
        .get(&format!("/@carol/{id}"))
        .await
        .assert_contains("This post was deleted");

    let r = admin
        .post("/admin/accounts/admin/role", &[("role", "user")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an admin cannot demote themself"
    );
    let r = admin
        .post("/admin/accounts/bob/role", &[("role", "emperor")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn the_verified_badge_shows_next_to_the_name_everywhere() {
    let app = TestApp::spawn().await;
    let admin = app.signup("admin").await;
    let bob = app.signup("bob").await;
    let id = bob.say("hello from bob").await;
    let host = app.addr.to_string();
    let label = format!("Verified by {host}");
    app.anon().get("/@bob").await.assert_lacks(&label);

    let r = bob.post("/admin/accounts/bob/verify", &[("on", "1")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin
        .post("/admin/accounts/bob/verify", &[("on", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let anon = app.anon();
    anon.get("/@bob").await.assert_contains(&label);
    anon.get("/public").await.assert_contains(&label);
    anon.get(&format!("/@bob/{id}"))
        .await
        .assert_contains(&label);

    admin
        .post("/admin/accounts/bob/verify", &[("on", "0")])
        .await;
    anon.get("/@bob").await.assert_lacks(&label);
}

#[actix_web::test]
async fn the_cli_creates_users_sets_roles_and_passwords() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_weft");
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(bin)
            .args(args)
            .arg("--data")
            .arg(dir.path())
            .env("WEFT_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The command may exit before reading (a bad argument); that is its answer.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    };
    let out = run(
        &[
            "admin",
            "create-user",
            "root",
            "--admin",
            "--email",
            "r@x.org",
        ],
        "rootpassword\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created @root (admin)"));
    let out = run(&["admin", "create-user", "root"], "rootpassword\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken"));
    let out = run(&["admin", "create-user", "tiny"], "short\n");
    assert!(!out.status.success());
    let out = run(&["admin", "create-user", "eve"], "evepassword\n");
    assert!(out.status.success());
    let out = run(&["admin", "set-role", "eve", "moderator"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["admin", "set-password", "eve"], "another password\n");
    assert!(out.status.success());

    let dir_path = dir.path().to_path_buf();
    let app = TestApp::with_config(|c| c.server.data_dir = dir_path).await;
    let (eve, r) = app.login("eve", "another password").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(eve.get("/admin").await.status, StatusCode::OK);
    let (root, r) = app.login("root", "rootpassword").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    root.get("/admin").await.assert_contains("Registration");
}

#[actix_web::test]
async fn failed_jobs_are_shown_to_the_admin_who_can_retry_or_delete_them() {
    let app = crate::common::TestApp::spawn().await;
    let admin = app.signup("root").await;
    let user = app.signup("eve").await;
    // A job no handler can read: set aside at once as dead.
    app.core
        .db
        .write(|c| {
            weft::store::jobs::insert(c, 42, "fan_out", "{not json", 0, 0)?;
            Ok(())
        })
        .await
        .unwrap();
    app.core.jobs.wake();
    let mut page = admin.get("/admin").await;
    for _ in 0..100 {
        if page.body.contains("Last error") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        page = admin.get("/admin").await;
    }
    page.assert_contains("Background jobs");
    page.assert_contains("unreadable fan_out job");
    // Only admins decide.
    let r = user.post("/admin/jobs/42", &[("action", "delete")]).await;
    assert_eq!(r.status, reqwest::StatusCode::FORBIDDEN);
    user.get("/admin").await.assert_lacks("Background jobs");
    let r = admin.post("/admin/jobs/42", &[("action", "retry")]).await;
    assert_eq!(r.status, reqwest::StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    admin.get("/admin").await.assert_contains("Last error");
    let r = admin.post("/admin/jobs/42", &[("action", "delete")]).await;
    assert_eq!(r.status, reqwest::StatusCode::SEE_OTHER);
    admin.get("/admin").await.assert_lacks("Last error");
    let r = admin.post("/admin/jobs/42", &[("action", "delete")]).await;
    assert_eq!(r.status, reqwest::StatusCode::NOT_FOUND);
}
