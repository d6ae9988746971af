//! A small OAI-PMH provider used as the reference in vitrine's harvest comparison
//! (`bench/harvest/compare.py`). The `oai-pmh` crate is a harvester library; what it has
//! for a provider are its typed requests (`Verb`, `Query`, `ListRecordsArgs`,
//! `ResumableArgs`), which this provider decodes every request into. Records are held in
//! memory as exported from vitrine (`oai_dc`, in harvest order); each page is written
//! with quick-xml into one buffer per response, the way a simple provider does it.
//!
//! Usage: `oai-pmh-rs-provider RECORDS.json BIND_ADDR PAGE_SIZE`; prints
//! `listening on http://ADDR` once bound (BIND_ADDR may have port 0).

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use oai_pmh::{ListRecordsArgs, Query, ResumableArgs, Verb};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use std::time::{SystemTime, UNIX_EPOCH};

/// One record as vitrine served it in `oai_dc`.
struct Record {
    identifier: String,
    datestamp: String,
    sets: Vec<String>,
    metadata: String,
}

struct Repository {
    records: Vec<Record>,
    page_size: usize,
}

const OAI_NS: &str = "http://www.openarchives.org/OAI/2.0/";
const OAI_SCHEMA: &str =
    "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd";

/// Where a ListRecords page starts, from the request decoded into the crate's types.
enum Request {
    List { offset: usize, token: Option<String> },
    Bad(&'static str, &'static str),
}

fn decode(query: &str) -> Request {
    if let Ok(resumed) = serde_qs::from_str::<Query<ResumableArgs>>(query) {
        let as_json = serde_json::to_value(&resumed).unwrap_or_default();
        let verb = as_json["verb"].as_str().unwrap_or_default();
        let token = as_json["resumptionToken"].as_str().unwrap_or_default();
        if verb != Verb::ListRecords.to_string() {
            return Request::Bad("badVerb", "only ListRecords is served");
        }
        return match token.parse::<usize>() {
            Ok(offset) => Request::List {
                offset,
                token: Some(token.to_string()),
            },
            Err(_) => Request::Bad("badResumptionToken", "unknown resumption token"),
        };
    }
    match serde_qs::from_str::<Query<ListRecordsArgs>>(query) {
        Ok(q) if q == Query::new(Verb::ListRecords, ListRecordsArgs::new("oai_dc")) => {
            Request::List {
                offset: 0,
                token: None,
            }
        }
        Ok(_) => Request::Bad("cannotDisseminateFormat", "only oai_dc is served"),
        Err(_) => Request::Bad("badArgument", "the request cannot be decoded"),
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` for Unix seconds (UTC).
fn utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) {
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    let _ = w.write_event(Event::Text(BytesText::new(value)));
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

fn respond(repo: &Repository, base_url: &str, query: &str) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let request = decode(query);
    let mut w = Writer::new(Vec::with_capacity(64 * 1024));
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    w.get_mut().push(b'\n');
    let mut root = BytesStart::new("OAI-PMH");
    root.push_attribute(("xmlns", OAI_NS));
    root.push_attribute(("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"));
    root.push_attribute(("xsi:schemaLocation", OAI_SCHEMA));
    let _ = w.write_event(Event::Start(root));
    text(&mut w, "responseDate", &utc(now));
    match request {
        Request::Bad(code, message) => {
            text(&mut w, "request", base_url);
            let mut error = BytesStart::new("error");
            error.push_attribute(("code", code));
            let _ = w.write_event(Event::Start(error));
            let _ = w.write_event(Event::Text(BytesText::new(message)));
            let _ = w.write_event(Event::End(BytesEnd::new("error")));
        }
        Request::List { offset, token } => {
            let mut echo = BytesStart::new("request");
            echo.push_attribute(("verb", "ListRecords"));
            match &token {
                Some(token) => echo.push_attribute(("resumptionToken", token.as_str())),
                None => echo.push_attribute(("metadataPrefix", "oai_dc")),
            }
            let _ = w.write_event(Event::Start(echo));
            let _ = w.write_event(Event::Text(BytesText::new(base_url)));
            let _ = w.write_event(Event::End(BytesEnd::new("request")));
            let end = (offset + repo.page_size).min(repo.records.len());
            let _ = w.write_event(Event::Start(BytesStart::new("ListRecords")));
            for record in &repo.records[offset.min(end)..end] {
                let _ = w.write_event(Event::Start(BytesStart::new("record")));
                let _ = w.write_event(Event::Start(BytesStart::new("header")));
                text(&mut w, "identifier", &record.identifier);
                text(&mut w, "datestamp", &record.datestamp);
                for set in &record.sets {
                    text(&mut w, "setSpec", set);
                }
                let _ = w.write_event(Event::End(BytesEnd::new("header")));
                let _ = w.write_event(Event::Start(BytesStart::new("metadata")));
                w.get_mut().extend_from_slice(record.metadata.as_bytes());
                let _ = w.write_event(Event::End(BytesEnd::new("metadata")));
                let _ = w.write_event(Event::End(BytesEnd::new("record")));
            }
            if token.is_some() || end < repo.records.len() {
                let mut rt = BytesStart::new("resumptionToken");
                rt.push_attribute((
                    "completeListSize",
                    repo.records.len().to_string().as_str(),
                ));
                rt.push_attribute(("cursor", offset.to_string().as_str()));
                if end < repo.records.len() {
                    let _ = w.write_event(Event::Start(rt));
                    let _ = w.write_event(Event::Text(BytesText::new(&end.to_string())));
                    let _ = w.write_event(Event::End(BytesEnd::new("resumptionToken")));
                } else {
                    let _ = w.write_event(Event::Empty(rt));
                }
            }
            let _ = w.write_event(Event::End(BytesEnd::new("ListRecords")));
        }
    }
    let _ = w.write_event(Event::End(BytesEnd::new("OAI-PMH")));
    w.into_inner()
}

async fn oai(repo: web::Data<Repository>, req: HttpRequest) -> HttpResponse {
    let info = req.connection_info();
    let base_url = format!("{}://{}{}", info.scheme(), info.host(), req.path());
    let body = respond(&repo, &base_url, req.query_string());
    HttpResponse::Ok()
        .content_type("text/xml; charset=UTF-8")
        .body(body)
}

fn load(path: &str) -> std::io::Result<Vec<Record>> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let field = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    Ok(json
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|r| Record {
                    identifier: field(r, "identifier"),
                    datestamp: field(r, "datestamp"),
                    sets: r["sets"]
                        .as_array()
                        .map(|s| {
                            s.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    metadata: field(r, "metadata"),
                })
                .collect()
        })
        .unwrap_or_default())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: oai-pmh-rs-provider RECORDS.json BIND_ADDR PAGE_SIZE");
        std::process::exit(2);
    }
    let records = load(&args[1])?;
    let page_size = args[3].parse::<usize>().unwrap_or(100).max(1);
    let repo = web::Data::new(Repository { records, page_size });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(repo.clone())
            .route("/oai", web::get().to(oai))
    })
    .bind(&args[2])?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    server.run().await
}
