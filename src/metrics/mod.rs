//! What `/metrics` reports about the requests this process served: requests by endpoint,
//! OAI verb and HTTP status, their latency, the bytes sent, resumption tokens issued and
//! requests turned away by the overload limits. Counting is a few relaxed atomic
//! additions per request; the series of an endpoint are found under a read lock that is
//! written only the first time an endpoint is seen. Label values are bounded: endpoints
//! are the OAI endpoints of existing domains and route patterns, never raw paths.
//!
//! The figures read from the database (records per state, validator runs, the pool) are
//! gathered when `/metrics` is asked for, by the web layer; [`text`] writes them all.

pub mod text;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use text::{Exposition, Kind};

/// The values of the `verb` label: `""` for requests that are not OAI-PMH requests, the
/// six verbs, `none` for an OAI-PMH request without a verb, `illegal` for an unknown or
/// repeated verb.
pub const VERB_LABELS: [&str; 9] = [
    "",
    "Identify",
    "ListMetadataFormats",
    "ListSets",
    "ListIdentifiers",
    "ListRecords",
    "GetRecord",
    "none",
    "illegal",
];

/// The `verb` label of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerbLabel(usize);

impl VerbLabel {
    /// Not an OAI-PMH request.
    pub const NOT_OAI: VerbLabel = VerbLabel(0);

    /// The label of an OAI-PMH request with these arguments.
    pub fn of<'a>(args: impl IntoIterator<Item = (&'a str, &'a str)>) -> VerbLabel {
        let mut verbs = args.into_iter().filter(|(k, _)| *k == "verb");
        match (verbs.next(), verbs.next()) {
            (None, _) => VerbLabel(7),
            (Some((_, verb)), None) => VERB_LABELS[1..7]
                .iter()
                .position(|v| *v == verb)
                .map_or(VerbLabel(8), |i| VerbLabel(i + 1)),
            (Some(_), Some(_)) => VerbLabel(8),
        }
    }

    /// The label of an OAI-PMH request given as a query string.
    pub fn of_query(query: &str) -> VerbLabel {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        VerbLabel::of(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The label's text.
    pub fn as_str(self) -> &'static str {
        VERB_LABELS[self.0]
    }
}

/// Upper bounds of the latency buckets, in seconds (1 ms to 30 s).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Statuses counted by an atomic each; any other goes to a small locked map.
const STATUSES: [u16; 20] = [
    200, 201, 204, 301, 302, 303, 304, 308, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500,
    503,
];

/// A latency histogram: observations per bucket (not cumulative: the encoder sums them),
/// and the sum in nanoseconds.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Relaxed);
    }
}

/// The requests of one endpoint and verb.
#[derive(Debug, Default)]
pub struct VerbStats {
    statuses: [AtomicU64; STATUSES.len()],
    other_statuses: Mutex<BTreeMap<u16, u64>>,
    latency: Histogram,
    bytes: AtomicU64,
    tokens: AtomicU64,
}

impl VerbStats {
    /// Counts a request answered with `status` after `elapsed` (until the response
    /// started).
    pub fn answered(&self, status: u16, elapsed: Duration) {
        match STATUSES.iter().position(|s| *s == status) {
            Some(i) => {
                self.statuses[i].fetch_add(1, Relaxed);
            }
            None => {
                if let Ok(mut other) = self.other_statuses.lock() {
                    *other.entry(status).or_default() += 1;
                }
            }
        }
        self.latency.observe(elapsed);
    }

    /// Counts bytes of a response body sent.
    pub fn sent(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Relaxed);
    }

    /// Counts a resumption token issued.
    pub fn issued_token(&self) {
        self.tokens.fetch_add(1, Relaxed);
    }

    fn by_status(&self) -> Vec<(u16, u64)> {
        let mut out: Vec<(u16, u64)> = STATUSES
            .iter()
            .zip(&self.statuses)
            .map(|(s, n)| (*s, n.load(Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        if let Ok(other) = self.other_statuses.lock() {
            out.extend(other.iter().map(|(s, n)| (*s, *n)));
        }
        out.sort_unstable();
        out
    }
}

/// The requests of one endpoint, per verb.
#[derive(Debug, Default)]
pub struct EndpointStats {
    verbs: [VerbStats; VERB_LABELS.len()],
}

impl EndpointStats {
    /// The requests with this verb.
    pub fn verb(&self, verb: VerbLabel) -> &VerbStats {
        &self.verbs[verb.0]
    }
}

/// Why a request was turned away with 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overload {
    /// `server.max_concurrent_requests` were being served.
    Requests,
    /// `server.max_response_bytes` were held by responses being sent.
    ResponseMemory,
}

/// The counters of this process.
#[derive(Debug, Default)]
pub struct Metrics {
    endpoints: RwLock<HashMap<String, Arc<EndpointStats>>>,
    overload_requests: AtomicU64,
    overload_memory: AtomicU64,
}

impl Metrics {
    /// The series of an endpoint, created when first asked for. `endpoint` must come from
    /// a bounded set (an existing domain's OAI path, a route pattern).
    pub fn endpoint(&self, endpoint: &str) -> Arc<EndpointStats> {
        if let Some(stats) = self.known(endpoint) {
            return stats;
        }
        let mut map = match self.endpoints.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(endpoint.to_string()).or_default().clone()
    }

    /// The series of an endpoint seen before.
    pub fn known(&self, endpoint: &str) -> Option<Arc<EndpointStats>> {
        let map = match self.endpoints.read() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(endpoint).cloned()
    }

    /// Counts a request turned away with 503.
    pub fn overloaded(&self, reason: Overload) {
        match reason {
            Overload::Requests => self.overload_requests.fetch_add(1, Relaxed),
            Overload::ResponseMemory => self.overload_memory.fetch_add(1, Relaxed),
        };
    }

    /// Writes the request counters.
    pub fn write(&self, e: &mut Exposition) {
        let endpoints: Vec<(String, Arc<EndpointStats>)> = {
            let map = match self.endpoints.read() {
                Ok(map) => map,
                Err(poisoned) => poisoned.into_inner(),
            };
            let mut all: Vec<_> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all
        };
        let series = || {
            endpoints.iter().flat_map(|(endpoint, stats)| {
                VERB_LABELS
                    .iter()
                    .zip(&stats.verbs)
                    .map(move |(verb, s)| (endpoint.as_str(), *verb, s))
            })
        };
        e.family(
            "vitrine_http_requests_total",
            "Requests answered, by endpoint (OAI-PMH endpoint path or route pattern), OAI-PMH verb and HTTP status.",
            Kind::Counter,
        );
        for (endpoint, verb, s) in series() {
            for (status, n) in s.by_status() {
                let status = status.to_string();
                e.sample(
                    "vitrine_http_requests_total",
                    &[("endpoint", endpoint), ("verb", verb), ("status", &status)],
                    n as f64,
                );
            }
        }
        e.family(
            "vitrine_http_request_duration_seconds",
            "Time from a request's arrival until its response started, by endpoint and verb.",
            Kind::Histogram,
        );
        for (endpoint, verb, s) in series() {
            let counts: Vec<u64> = s.latency.buckets.iter().map(|b| b.load(Relaxed)).collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (i, n) in counts.iter().enumerate() {
                cumulative += n;
                let le = LATENCY_BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| text::bound_label(*b));
                e.sample(
                    "vitrine_http_request_duration_seconds_bucket",
                    &[("endpoint", endpoint), ("verb", verb), ("le", &le)],
                    cumulative as f64,
                );
            }
            let labels = [("endpoint", endpoint), ("verb", verb)];
            let sum = s.latency.sum_nanos.load(Relaxed) as f64 / 1e9;
            e.sample("vitrine_http_request_duration_seconds_sum", &labels, sum);
            e.sample(
                "vitrine_http_request_duration_seconds_count",
                &labels,
                total as f64,
            );
        }
        e.family(
            "vitrine_http_response_bytes_total",
            "Bytes of response bodies sent (after compression), by endpoint and verb.",
            Kind::Counter,
        );
        for (endpoint, verb, s) in series() {
            let bytes = s.bytes.load(Relaxed);
            if bytes > 0 {
                e.sample(
                    "vitrine_http_response_bytes_total",
                    &[("endpoint", endpoint), ("verb", verb)],
                    bytes as f64,
                );
            }
        }
        e.family(
            "vitrine_oai_resumption_tokens_issued_total",
            "Resumption tokens issued (list responses with more to come), by endpoint and verb.",
            Kind::Counter,
        );
        for (endpoint, verb, s) in series() {
            let tokens = s.tokens.load(Relaxed);
            if tokens > 0 {
                e.sample(
                    "vitrine_oai_resumption_tokens_issued_total",
                    &[("endpoint", endpoint), ("verb", verb)],
                    tokens as f64,
                );
            }
        }
        e.family(
            "vitrine_overload_rejections_total",
            "Requests answered 503 with Retry-After because a limit was reached: requests served at once (server.max_concurrent_requests) or memory of responses (server.max_response_bytes).",
            Kind::Counter,
        );
        for (limit, counter) in [
            ("requests", &self.overload_requests),
            ("response_memory", &self.overload_memory),
        ] {
            e.sample(
                "vitrine_overload_rejections_total",
                &[("limit", limit)],
                counter.load(Relaxed) as f64,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_labelled_by_the_protocol_s_words() {
        assert_eq!(
            VerbLabel::of_query("verb=ListRecords&x=1").as_str(),
            "ListRecords"
        );
        assert_eq!(
            VerbLabel::of_query("metadataPrefix=oai_dc").as_str(),
            "none"
        );
        assert_eq!(VerbLabel::of_query("verb=Foo").as_str(), "illegal");
        assert_eq!(
            VerbLabel::of_query("verb=Identify&verb=Identify").as_str(),
            "illegal"
        );
        assert_eq!(VerbLabel::NOT_OAI.as_str(), "");
    }

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let m = Metrics::default();
        let s = m.endpoint("/oai");
        let v = s.verb(VerbLabel::of_query("verb=Identify"));
        v.answered(200, Duration::from_micros(800));
        v.answered(200, Duration::from_millis(40));
        v.answered(599, Duration::from_secs(60));
        let mut e = Exposition::default();
        m.write(&mut e);
        let page = e.finish();
        for line in [
            "vitrine_http_requests_total{endpoint=\"/oai\",verb=\"Identify\",status=\"200\"} 2",
            "vitrine_http_requests_total{endpoint=\"/oai\",verb=\"Identify\",status=\"599\"} 1",
            "vitrine_http_request_duration_seconds_bucket{endpoint=\"/oai\",verb=\"Identify\",le=\"0.001\"} 1",
            "vitrine_http_request_duration_seconds_bucket{endpoint=\"/oai\",verb=\"Identify\",le=\"0.025\"} 1",
            "vitrine_http_request_duration_seconds_bucket{endpoint=\"/oai\",verb=\"Identify\",le=\"0.05\"} 2",
            "vitrine_http_request_duration_seconds_bucket{endpoint=\"/oai\",verb=\"Identify\",le=\"30\"} 2",
            "vitrine_http_request_duration_seconds_bucket{endpoint=\"/oai\",verb=\"Identify\",le=\"+Inf\"} 3",
            "vitrine_http_request_duration_seconds_sum{endpoint=\"/oai\",verb=\"Identify\"} 60.0408",
            "vitrine_http_request_duration_seconds_count{endpoint=\"/oai\",verb=\"Identify\"} 3",
        ] {
            assert!(page.lines().any(|l| l == line), "{line}\n{page}");
        }
    }
}
