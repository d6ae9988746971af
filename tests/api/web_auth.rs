//! Who may see which page: logins, sessions, roles and domain grants, CSRF tokens on
//! every state-changing request, the throttle on failed logins, and 404 pages for what
//! does not exist.

use crate::helpers::TestApp;
use crate::qa_pages::validated_app;
use crate::web_client::{add_user, Visitor, PASSWORD};
use vitrine::users::Role;

#[tokio::test]
async fn anonymous_pages_go_to_the_login_form_and_anonymous_data_gets_401() {
    let app = TestApp::spawn().await;
    let mut visitor = Visitor::new(&app);
    for path in [
        "/ulb/qa/oaivalidator?state=invalid",
        "/qa/oaivalidator",
        "/ulb/qa/records/demo_mono_0001",
        "/ulb/admin/jobs",
        "/ulb/admin/jobreport/1",
    ] {
        let answer = visitor.get(path).await;
        assert_eq!(answer.status, 303, "{path}");
        let location = answer.location.unwrap();
        assert!(location.starts_with("/login?next="), "{location}");
    }
    let answer = visitor.get("/ulb/qa/oaivalidator?state=invalid").await;
    assert_eq!(
        answer.location.unwrap(),
        "/login?next=%2Fulb%2Fqa%2Foaivalidator%3Fstate%3Dinvalid"
    );
    for path in [
        "/ulb/qa/oaivalidator.json",
        "/ulb/qa/oaivalidator.csv",
        "/qa/oaivalidator.csv",
    ] {
        assert_eq!(visitor.get(path).await.status, 401, "{path}");
    }
}

#[tokio::test]
async fn a_login_sets_a_strict_session_cookie_and_returns_to_the_page_asked_for() {
    let app = TestApp::spawn().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut visitor = Visitor::new(&app);
    let form = visitor.get("/login?next=/ulb/qa/oaivalidator").await.html();
    assert_eq!(form.count("//form//input[@name='username']"), 1);
    assert_eq!(
        form.count("//form//input[@name='password' and @type='password']"),
        1
    );
    assert_eq!(
        form.count("//form//input[@name='csrf' and @type='hidden']"),
        1
    );
    let csrf = form.s("string(//input[@name='csrf']/@value)");
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/login", app.address))
        .header("cookie", format!("vitrine_login={csrf}"))
        .form(&[
            ("username", "anna"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/ulb/qa/oaivalidator"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/ulb/qa/oaivalidator");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("vitrine_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "not served over https here");
    assert!(
        cookie.contains(&format!("Max-Age={}", 8 * 3600)),
        "{cookie}"
    );
    // A login does not go to other sites.
    let mut visitor = Visitor::new(&app);
    let answer = visitor.login("anna", PASSWORD, "//evil.example.org/").await;
    assert_eq!(answer.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_a_session() {
    let app = TestApp::spawn().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut visitor = Visitor::new(&app);
    let answer = visitor.login("anna", "wrong password", "/").await;
    assert_eq!(answer.status, 401);
    assert!(!visitor.has_cookie("vitrine_session"));
    let answer = visitor.login("nobody", PASSWORD, "/").await;
    assert_eq!(answer.status, 401);
    assert_eq!(visitor.get("/ulb/qa/oaivalidator").await.status, 303);
}

#[tokio::test]
async fn a_login_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut visitor = Visitor::new(&app);
    let _ = visitor.get("/login").await;
    let answer = visitor
        .post(
            "/login",
            &[("username", "anna"), ("password", PASSWORD), ("next", "/")],
        )
        .await;
    assert_eq!(answer.status, 403);
    let answer = visitor
        .post(
            "/login",
            &[
                ("username", "anna"),
                ("password", PASSWORD),
                ("csrf", "forged"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(answer.status, 403);
    assert!(!visitor.has_cookie("vitrine_session"));
}

#[tokio::test]
async fn a_logout_needs_the_csrf_token_and_then_ends_the_session() {
    let app = TestApp::spawn().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut anna = Visitor::logged_in(&app, "anna").await;
    let csrf = anna.csrf("/ulb/qa/oaivalidator").await;
    assert_eq!(anna.post("/logout", &[]).await.status, 403);
    assert_eq!(
        anna.post("/logout", &[("csrf", "forged")]).await.status,
        403
    );
    assert_eq!(
        anna.get("/ulb/qa/oaivalidator").await.status,
        200,
        "still logged in"
    );
    let answer = anna.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(answer.status, 303);
    assert_eq!(anna.get("/ulb/qa/oaivalidator").await.status, 303);
}

#[tokio::test]
async fn the_session_cookie_is_useless_after_logout_and_after_a_password_change() {
    let app = TestApp::spawn().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let anna = Visitor::logged_in(&app, "anna").await;
    let mut stolen = Visitor::logged_in(&app, "anna").await;
    assert_eq!(stolen.get("/ulb/qa/oaivalidator").await.status, 200);
    let hash = vitrine::users::hash_password("another password").unwrap();
    assert!(app.store.set_password("anna", &hash).await.unwrap());
    assert_eq!(stolen.get("/ulb/qa/oaivalidator").await.status, 303);
    drop(anna);
}

#[tokio::test]
async fn sessions_expire() {
    let app = TestApp::spawn().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let user = app.store.user_with_hash("anna").await.unwrap().unwrap().0;
    let token = "0123456789abcdef";
    let now = app.clock.now();
    let hash = vitrine::web::session::token_hash(token);
    app.store
        .create_session(&hash, user.id, "csrf", now, now + 60)
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = || {
        client
            .get(format!("{}/ulb/qa/oaivalidator", app.address))
            .header("cookie", format!("vitrine_session={token}"))
            .send()
    };
    app.clock.advance(59);
    assert_eq!(page().await.unwrap().status(), 200, "a second to go");
    app.clock.advance(1);
    assert_eq!(page().await.unwrap().status(), 303, "expired");
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_per_user() {
    let app = TestApp::spawn().await;
    add_user(&app, "anna", Role::Qa, None).await;
    let mut visitor = Visitor::new(&app);
    for _ in 0..5 {
        assert_eq!(
            visitor.login("anna", "wrong password", "/").await.status,
            401
        );
    }
    // Now even the right password is refused until the window has passed.
    let answer = visitor.login("anna", PASSWORD, "/").await;
    assert_eq!(answer.status, 429);
    assert!(!visitor.has_cookie("vitrine_session"));
    // The failures count for 15 minutes.
    app.clock.advance(15 * 60);
    assert_eq!(visitor.login("anna", PASSWORD, "/").await.status, 429);
    app.clock.advance(1);
    assert_eq!(visitor.login("anna", PASSWORD, "/").await.status, 303);
    assert!(visitor.has_cookie("vitrine_session"));
}

#[tokio::test]
async fn a_qa_user_gets_403_on_admin_pages_and_outside_the_grant() {
    let (app, report) = validated_app().await;
    add_user(&app, "zoe", Role::Qa, Some("zd")).await;
    let mut zoe = Visitor::logged_in(&app, "zoe").await;
    assert_eq!(zoe.get("/zd/qa/oaivalidator").await.status, 200);
    assert_eq!(zoe.get("/zd/qa/oaivalidator.json").await.status, 200);
    for path in [
        "/zd/admin/jobs".to_string(),
        format!("/zd/admin/jobreport/{}", report.run_id),
        "/ulb/qa/oaivalidator".into(),
        "/ulb/qa/oaivalidator.csv".into(),
        "/qa/oaivalidator".into(),
        "/ulb/qa/records/demo_mono_0001".into(),
    ] {
        let answer = zoe.get(&path).await;
        assert_eq!(answer.status, 403, "{path}");
    }
    let csrf = zoe.csrf("/zd/qa/oaivalidator").await;
    let runs = app.store.job_runs(None).await.unwrap().len();
    let answer = zoe
        .post("/zd/admin/jobs", &[("csrf", &csrf), ("mode", "zmets")])
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        app.store.job_runs(None).await.unwrap().len(),
        runs,
        "no run started"
    );
}

#[tokio::test]
async fn an_admin_of_a_sub_domain_sees_its_pages_and_not_its_parents() {
    let (app, _) = validated_app().await;
    add_user(&app, "zed", Role::Admin, Some("zd")).await;
    let mut zed = Visitor::logged_in(&app, "zed").await;
    assert_eq!(zed.get("/zd/admin/jobs").await.status, 200);
    assert_eq!(zed.get("/ulb/admin/jobs").await.status, 403);
}

#[tokio::test]
async fn starting_a_run_without_the_csrf_token_is_refused_and_starts_nothing() {
    let (app, _) = validated_app().await;
    add_user(&app, "root", Role::Admin, None).await;
    let mut admin = Visitor::logged_in(&app, "root").await;
    let runs = app.store.job_runs(None).await.unwrap().len();
    assert_eq!(
        admin
            .post("/ulb/admin/jobs", &[("mode", "zmets")])
            .await
            .status,
        403
    );
    assert_eq!(
        admin
            .post("/ulb/admin/jobs", &[("mode", "zmets"), ("csrf", "forged")])
            .await
            .status,
        403
    );
    assert_eq!(app.store.job_runs(None).await.unwrap().len(), runs);
}

#[tokio::test]
async fn unknown_domains_records_and_runs_get_404_pages() {
    let (app, _) = validated_app().await;
    add_user(&app, "root", Role::Admin, None).await;
    let mut admin = Visitor::logged_in(&app, "root").await;
    for path in [
        "/nowhere/qa/oaivalidator",
        "/nowhere/qa/oaivalidator.json",
        "/ulb/qa/records/no_such_record",
        "/nowhere/admin/jobs",
        "/ulb/admin/jobreport/99999",
        "/ulb/admin/jobreport/not-a-number",
    ] {
        let answer = admin.get(path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(answer.content_type.starts_with("text/html"), "{path}");
        assert_eq!(answer.html().count("//h1"), 1, "{path}");
    }
}
