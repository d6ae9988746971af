//! A parser of the Prometheus text format (version 0.0.4) for the tests: every line is
//! parsed — HELP and TYPE lines, samples with escaped label values — and anything else
//! fails the test, so that a malformed page cannot pass.

use std::collections::BTreeMap;

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (with `_bucket`, `_sum`, `_count` for histograms).
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Value.
    pub value: f64,
}

/// A parsed page.
#[derive(Debug, Default)]
pub struct Page {
    /// Family name → HELP text.
    pub help: BTreeMap<String, String>,
    /// Family name → TYPE.
    pub kind: BTreeMap<String, String>,
    /// Every sample, in order.
    pub samples: Vec<Sample>,
}

impl Page {
    /// Parses a page; panics with the line on any malformed one.
    pub fn parse(text: &str) -> Page {
        let mut page = Page::default();
        for line in text.lines() {
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect(line);
                let previous = page.help.insert(name.to_string(), unescape_help(help));
                assert!(previous.is_none(), "HELP twice for {name}");
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect(line);
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                assert!(
                    !page
                        .samples
                        .iter()
                        .any(|s| family_of(&s.name, kind) == name),
                    "TYPE after samples of {name}"
                );
                page.kind.insert(name.to_string(), kind.to_string());
            } else {
                assert!(!line.starts_with('#'), "unknown comment line {line}");
                page.samples.push(parse_sample(line));
            }
        }
        page
    }

    /// The family a sample belongs to (histogram samples to their histogram).
    pub fn family(&self, sample: &str) -> Option<&str> {
        if self.kind.contains_key(sample) {
            return self.kind.get_key_value(sample).map(|(k, _)| k.as_str());
        }
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = sample.strip_suffix(suffix) {
                if self.kind.get(base).map(String::as_str) == Some("histogram") {
                    return self.kind.get_key_value(base).map(|(k, _)| k.as_str());
                }
            }
        }
        None
    }

    /// Samples of a name whose labels include every pair of `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample with exactly these labels; panics when there is none.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
    }

    /// The value of the one sample with exactly these labels.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let found: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.name == name && s.labels == wanted)
            .collect();
        assert!(found.len() <= 1, "{name}{labels:?} twice");
        found.first().map(|s| s.value)
    }
}

fn family_of<'a>(sample: &'a str, kind: &str) -> &'a str {
    if kind == "histogram" {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = sample.strip_suffix(suffix) {
                return base;
            }
        }
    }
    sample
}

fn unescape_help(help: &str) -> String {
    let mut out = String::new();
    let mut chars = help.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                other => panic!("bad escape in HELP {help:?}: {other:?}"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `name{k="v",…} value` (no timestamps: vitrine writes none).
fn parse_sample(line: &str) -> Sample {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or_else(|| panic!("no value: {line}"));
    let name = &line[..name_end];
    assert!(
        !name.is_empty() && !name.as_bytes()[0].is_ascii_digit(),
        "bad name: {line}"
    );
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            let (start, c) = chars
                .next()
                .unwrap_or_else(|| panic!("open labels: {line}"));
            if c == '}' {
                rest = &after[start + 1..];
                break;
            }
            let key_start = if c == ',' {
                chars.next().expect(line).0
            } else {
                start
            };
            let eq = after[key_start..].find('=').expect(line) + key_start;
            let key = &after[key_start..eq];
            assert!(
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad label name {key:?}: {line}"
            );
            while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                chars.next();
            }
            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
            let mut value = String::new();
            loop {
                match chars.next().expect(line).1 {
                    '"' => break,
                    '\\' => match chars.next().expect(line).1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        other => panic!("bad escape \\{other}: {line}"),
                    },
                    '\n' => panic!("raw line feed: {line}"),
                    c => value.push(c),
                }
            }
            assert!(
                labels.insert(key.to_string(), value).is_none(),
                "label {key} twice: {line}"
            );
        }
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no space before the value: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v
            .parse()
            .unwrap_or_else(|_| panic!("bad value {v:?}: {line}")),
    };
    Sample {
        name: name.to_string(),
        labels,
        value,
    }
}

#[test]
fn the_parser_reads_escaped_label_values() {
    let page = Page::parse(
        "# HELP a_total An \\\\ example.\n# TYPE a_total counter\n\
         a_total{x=\"q\\\"b\\\\c\\nd\",y=\"\"} 3\na_total 1.5\n",
    );
    assert_eq!(page.help["a_total"], "An \\ example.");
    assert_eq!(
        page.value("a_total", &[("x", "q\"b\\c\nd"), ("y", "")]),
        3.0
    );
    assert_eq!(page.value("a_total", &[]), 1.5);
}
