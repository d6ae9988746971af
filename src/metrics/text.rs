//! The Prometheus text exposition format, version 0.0.4: a `# HELP` and a `# TYPE` line
//! per metric family, then one line per sample, label values escaped (`\\`, `\"`, `\n`).

use std::fmt::Write as _;

/// The content type of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a metric family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only ever goes up (until the process restarts).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into cumulative buckets, with their sum and count.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A page of metrics being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts a metric family: its HELP and TYPE lines.
    pub fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let _ = writeln!(
            self.out,
            "# HELP {name} {}\n# TYPE {name} {}",
            escape_help(help),
            kind.as_str()
        );
    }

    /// One sample: `name{label="value",…} value`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (key, label)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(key);
                self.out.push_str("=\"");
                escape_label_into(&mut self.out, label);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        push_value(&mut self.out, value);
        self.out.push('\n');
    }

    /// The page.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Label values escape backslash, double quote and line feed.
fn escape_label_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP texts escape backslash and line feed.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Integers without a fraction, infinities as `+Inf`/`-Inf`, NaN as `NaN`.
fn push_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        let _ = write!(out, "{}", value as i64);
    } else {
        let _ = write!(out, "{value}");
    }
}

/// A bucket bound as the `le` label writes it (`0.005`, `1`, `+Inf`).
pub fn bound_label(bound: f64) -> String {
    let mut out = String::new();
    push_value(&mut out, bound);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut e = Exposition::default();
        e.family("vitrine_x_total", "A \\ help\nline.", Kind::Counter);
        e.sample("vitrine_x_total", &[("a", "q\"b\\c\nd"), ("b", "")], 3.0);
        assert_eq!(
            e.finish(),
            "# HELP vitrine_x_total A \\\\ help\\nline.\n# TYPE vitrine_x_total counter\n\
             vitrine_x_total{a=\"q\\\"b\\\\c\\nd\",b=\"\"} 3\n"
        );
    }

    #[test]
    fn values_are_written_as_prometheus_reads_them() {
        let mut e = Exposition::default();
        e.sample("a", &[], 0.25);
        e.sample("b", &[], f64::INFINITY);
        e.sample("c", &[], 12.0);
        assert_eq!(e.finish(), "a 0.25\nb +Inf\nc 12\n");
        assert_eq!(bound_label(0.001), "0.001");
        assert_eq!(bound_label(30.0), "30");
    }
}
