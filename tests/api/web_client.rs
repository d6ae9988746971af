//! A person at the QA and administration pages: logs in through the form (with its CSRF
//! token and cookies, as a browser does), follows no redirect by itself, and parses
//! HTML pages for XPath assertions.

use crate::helpers::TestApp;
use libxml::parser::Parser;
use libxml::tree::Document;
use libxml::xpath::Context;
use vitrine::users::{hash_password, Role};

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// Creates a user (domain `None`: the root).
pub async fn add_user(app: &TestApp, name: &str, role: Role, domain: Option<&str>) {
    let domain_id = match domain {
        Some(d) => Some(app.domain(d).await.id),
        None => None,
    };
    app.store
        .add_user(name, role, domain_id, &hash_password(PASSWORD).unwrap(), 0)
        .await
        .unwrap();
}

/// A browser without JavaScript: cookies by hand, redirects not followed.
pub struct Visitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
    /// Accept-Language sent.
    pub language: &'static str,
}

/// A response, read.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Location header, if any.
    pub location: Option<String>,
    /// Content-Type.
    pub content_type: String,
    /// Body.
    pub body: String,
}

impl Answer {
    /// The body as an HTML document.
    pub fn html(&self) -> Html {
        Html::parse(&self.body)
    }
}

impl<'a> Visitor<'a> {
    /// A visitor without cookies.
    pub fn new(app: &'a TestApp) -> Visitor<'a> {
        Visitor {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
            language: "en",
        }
    }

    /// A visitor logged in as `name` (asserts the login succeeded).
    pub async fn logged_in(app: &'a TestApp, name: &str) -> Visitor<'a> {
        let mut v = Visitor::new(app);
        let answer = v.login(name, PASSWORD, "/").await;
        assert_eq!(
            answer.status, 303,
            "login of {name} failed: {}",
            answer.body
        );
        v
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Whether a cookie is set.
    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.iter().any(|(k, _)| k == name)
    }

    async fn read(&mut self, response: reqwest::Response) -> Answer {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() && !attrs.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
        Answer {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string()),
            content_type: response
                .headers()
                .get("content-type")
                .map(|c| c.to_str().unwrap().to_string())
                .unwrap_or_default(),
            body: response.text().await.unwrap(),
        }
    }

    /// GET a path (with its query).
    pub async fn get(&mut self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{}", self.app.address, path))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.language)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// POST a form.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .client
            .post(format!("{}{}", self.app.address, path))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.language)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// Opens the login form and submits it.
    pub async fn login(&mut self, name: &str, password: &str, next: &str) -> Answer {
        let form = self.get(&format!("/login?next={next}")).await;
        assert_eq!(form.status, 200);
        let csrf = form.html().s("string(//input[@name='csrf']/@value)");
        self.post(
            "/login",
            &[
                ("username", name),
                ("password", password),
                ("csrf", &csrf),
                ("next", next),
            ],
        )
        .await
    }

    /// The CSRF token of the forms on a page.
    pub async fn csrf(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        let token = page.html().s("string((//input[@name='csrf'])[1]/@value)");
        assert!(!token.is_empty(), "no CSRF token on {path}");
        token
    }
}

/// A parsed HTML page.
pub struct Html {
    doc: Document,
}

impl Html {
    /// Parses HTML.
    pub fn parse(text: &str) -> Html {
        let doc = Parser::default_html()
            .parse_string(text)
            .unwrap_or_else(|e| panic!("not parseable as HTML ({e:?}): {text}"));
        Html { doc }
    }

    /// The string value of an XPath expression.
    pub fn s(&self, xpath: &str) -> String {
        let ctx = Context::new(&self.doc).unwrap();
        ctx.evaluate(xpath)
            .unwrap_or_else(|_| panic!("bad XPath {xpath}"))
            .to_string()
    }

    /// The string values of the nodes an XPath expression selects.
    pub fn all(&self, xpath: &str) -> Vec<String> {
        let mut ctx = Context::new(&self.doc).unwrap();
        ctx.findnodes(xpath, None)
            .unwrap_or_default()
            .iter()
            .map(|n| n.get_content().trim().to_string())
            .collect()
    }

    /// How many nodes an XPath expression selects.
    pub fn count(&self, xpath: &str) -> usize {
        let mut ctx = Context::new(&self.doc).unwrap();
        ctx.findnodes(xpath, None).map(|n| n.len()).unwrap_or(0)
    }
}

/// A number as the English pages write it (`1,234`).
pub fn number(text: &str) -> i64 {
    text.trim()
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}
