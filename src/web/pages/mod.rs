//! The pages people read: the start page, the login form, the QA statistics of a domain
//! (with its `.json` and `.csv`), one record's validation, the jobs of a domain and one
//! run's report. Server-rendered with maud (which escapes everything it is given), in
//! German or English by `Accept-Language` (German by default), one stylesheet, charts as
//! inline SVG; no JavaScript.

mod chart;
mod home;
mod jobs;
mod layout;
mod login;
mod qa;
mod qa_data;
mod record;
mod report;

pub use home::index as home_index;
pub use layout::{error_page, not_found, page};

use actix_web::http::header;
use actix_web::{web, HttpRequest};

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// German, the default.
    De,
    /// English.
    En,
}

impl Lang {
    /// The language the request prefers among German and English (`Accept-Language`,
    /// by quality); German when it names neither.
    pub fn of(req: &HttpRequest) -> Lang {
        let header = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Self::from_header(header)
    }

    fn from_header(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "de" => Lang::De,
                "en" => Lang::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::De, |(_, lang)| lang)
    }

    /// The German or the English text.
    pub fn t(self, de: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::De => de,
            Lang::En => en,
        }
    }

    /// `lang` attribute value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// A whole number with thousands separators (`12.345` / `12,345`).
    pub fn number(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let sep = self.t(".", ",");
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        if n < 0 {
            format!("-{out}")
        } else {
            out
        }
    }

    /// A state's name for people.
    pub fn state(self, state: &str) -> &'static str {
        match state {
            "undefined" => self.t("nicht validiert", "not validated"),
            "invalid" => self.t("ungültig", "invalid"),
            "valid_warn" => self.t("gültig mit Warnungen", "valid with warnings"),
            "valid" => self.t("gültig", "valid"),
            _ => "?",
        }
    }
}

/// A time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// A duration as `1 h 02 min`, `3 min 05 s` or `12 s`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as i64;
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else if seconds < 10.0 {
        format!("{:.1} s", seconds.max(0.0))
    } else {
        format!("{s} s")
    }
}

/// The path prefix of a domain's pages: `/ulb` (the root domain too; its QA page is also
/// at `/qa/oaivalidator`).
pub fn base(domain: &crate::domain::Domain) -> String {
    format!("/{}", domain.name.as_str())
}

/// The OAI-PMH endpoint of a domain on this site.
pub fn endpoint(domain: &crate::domain::Domain) -> String {
    if domain.parent_id.is_none() {
        "/oai".to_string()
    } else {
        format!("/{}/oai", domain.name.as_str())
    }
}

/// A path segment, percent-encoded.
pub fn segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Registers the pages (the start page, `/`, is registered with the other routes).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/vitrine.css", web::get().to(layout::stylesheet))
        .route("/login", web::get().to(login::form))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route("/qa/oaivalidator", web::get().to(qa::root_page))
        .route("/qa/oaivalidator.json", web::get().to(qa_data::root_json))
        .route("/qa/oaivalidator.csv", web::get().to(qa_data::root_csv))
        .route("/{dname}/qa/oaivalidator", web::get().to(qa::page))
        .route(
            "/{dname}/qa/oaivalidator.json",
            web::get().to(qa_data::json),
        )
        .route("/{dname}/qa/oaivalidator.csv", web::get().to(qa_data::csv))
        .route(
            "/{dname}/qa/records/{local_id}",
            web::get().to(record::page),
        )
        .route("/{dname}/admin/jobs", web::get().to(jobs::page))
        .route("/{dname}/admin/jobs", web::post().to(jobs::start))
        .route(
            "/{dname}/admin/jobreport/{jobid}",
            web::get().to(report::page),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_is_the_default_and_english_wins_by_quality() {
        assert_eq!(Lang::from_header(""), Lang::De);
        assert_eq!(Lang::from_header("fr-FR"), Lang::De);
        assert_eq!(Lang::from_header("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_header("de-DE,de;q=0.9,en;q=0.8"), Lang::De);
        assert_eq!(Lang::from_header("fr;q=1, en;q=0.5, de;q=0.4"), Lang::En);
    }

    #[test]
    fn numbers_get_separators_per_language() {
        assert_eq!(Lang::De.number(1234567), "1.234.567");
        assert_eq!(Lang::En.number(100000), "100,000");
        assert_eq!(Lang::En.number(12), "12");
    }
}
