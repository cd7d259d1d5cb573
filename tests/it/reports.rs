//! Reports: anyone logged in can report a post they can see; only staff see the queue.

use reqwest::StatusCode;

use crate::common::TestApp;

#[actix_web::test]
async fn a_report_reaches_the_moderators_and_only_them() {
    let app = TestApp::spawn().await;
    let admin = app.signup("admin").await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let post = alice.say("something objectionable").await;
    let page = bob.get(&format!("/@alice/{post}")).await;
    page.assert_contains(&format!("/posts/{post}/report"));
    let form = bob.get(&format!("/posts/{post}/report")).await;
    assert_eq!(form.status, StatusCode::OK);
    form.assert_contains("<label for=\"report-reason\"");

    // Too long a reason: the form comes back with what was typed and says why.
    let long = "x".repeat(1001);
    let r = bob
        .post(&format!("/posts/{post}/report"), &[("reason", &long)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("at most 1000");
    r.assert_contains(&long);

    let r = bob
        .post(
            &format!("/posts/{post}/report"),
            &[("reason", "spam, plainly")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.assert_contains("The moderators will look at your report");
    // One's own posts cannot be reported; nor can posts one cannot see.
    let r = alice
        .post(&format!("/posts/{post}/report"), &[("reason", "me")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let private = alice
        .create_post(&[("body", "followers only"), ("visibility", "followers")])
        .await;
    let r = bob
        .post(&format!("/posts/{private}/report"), &[("reason", "x")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .anon()
        .post_raw(&format!("/posts/{post}/report"), &[("reason", "x")])
        .await;
    assert_ne!(r.status, StatusCode::OK);

    // The queue is for staff.
    let q = admin.get("/admin/reports").await;
    q.assert_contains("spam, plainly");
    q.assert_contains("@alice");
    q.assert_contains("bob");
    assert_eq!(
        bob.get("/admin/reports").await.status,
        StatusCode::FORBIDDEN
    );
    let id: String = q
        .body
        .split("/admin/reports/")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let r = bob.post(&format!("/admin/reports/{id}/resolve"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin
        .post(&format!("/admin/reports/{id}/resolve"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    admin
        .get("/admin/reports")
        .await
        .assert_contains("Resolved");
}
