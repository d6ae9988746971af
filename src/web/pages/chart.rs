//! Charts as inline SVG, readable without colour: every bar and line carries its label
//! and its number as text.

use super::Lang;
use crate::store::{TrendPoint, STATES};
use maud::{html, Markup};
use std::collections::BTreeMap;

const WIDTH: i64 = 560;
const LABEL: i64 = 150;
const ROW: i64 = 30;

fn scaled(value: i64, max: i64, room: i64) -> i64 {
    if max <= 0 || value <= 0 {
        0
    } else {
        ((value as f64 / max as f64) * room as f64).round().max(2.0) as i64
    }
}

/// Horizontal bars, one per state: the state's name, a bar, and the number (with a note
/// such as "12 exported").
pub fn state_bars(lang: Lang, title: &str, rows: &[(String, i64, String)]) -> Markup {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0);
    let room = WIDTH - LABEL - 160;
    let height = ROW * rows.len() as i64 + 10;
    html! {
        svg.chart role="img" aria-label=(title) viewBox={ "0 0 " (WIDTH) " " (height) }
            xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for (i, (state, value, note)) in rows.iter().enumerate() {
                @let y = 5 + ROW * i as i64;
                @let w = scaled(*value, max, room);
                text x=(LABEL - 8) y=(y + 19) text-anchor="end" { (lang.state(state)) }
                rect class={ "bar-" (state) } x=(LABEL) y=(y + 4) width=(w) height=(ROW - 10) rx="2" {}
                text x=(LABEL + w + 8) y=(y + 19) {
                    tspan font-weight="600" { (lang.number(*value)) }
                    @if !note.is_empty() { "  " (note) }
                }
            }
            line.axis x1=(LABEL) y1="2" x2=(LABEL) y2=(height - 2) {}
        }
    }
}

/// Records per state before and after a run: two bars per state.
pub fn before_after(
    lang: Lang,
    title: &str,
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
) -> Markup {
    let value = |m: &BTreeMap<String, i64>, s: &str| m.get(s).copied().unwrap_or(0);
    let max = STATES
        .iter()
        .flat_map(|s| [value(before, s), value(after, s)])
        .max()
        .unwrap_or(0);
    let room = WIDTH - LABEL - 110;
    let group = 2 * ROW - 4;
    let height = group * STATES.len() as i64 + 10;
    html! {
        svg.chart role="img" aria-label=(title) viewBox={ "0 0 " (WIDTH) " " (height) }
            xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for (i, state) in STATES.iter().enumerate() {
                @let y = 5 + group * i as i64;
                @let wb = scaled(value(before, state), max, room);
                @let wa = scaled(value(after, state), max, room);
                text x=(LABEL - 8) y=(y + 31) text-anchor="end" { (lang.state(state)) }
                rect class={ "bar-" (state) } x=(LABEL) y=(y + 3) width=(wb) height="20" rx="2" opacity="0.45" {}
                text x=(LABEL + wb + 8) y=(y + 18) {
                    (lang.t("vorher ", "before ")) tspan font-weight="600" { (lang.number(value(before, state))) }
                }
                rect class={ "bar-" (state) } x=(LABEL) y=(y + 27) width=(wa) height="20" rx="2" {}
                text x=(LABEL + wa + 8) y=(y + 42) {
                    (lang.t("nachher ", "after ")) tspan font-weight="600" { (lang.number(value(after, state))) }
                }
            }
            line.axis x1=(LABEL) y1="2" x2=(LABEL) y2=(height - 2) {}
        }
    }
}

/// Records per state over the last runs: one line per state, labelled at its end with
/// the state and its last number; the runs along the bottom.
pub fn trend(lang: Lang, title: &str, points: &[TrendPoint]) -> Markup {
    let (left, right, top, bottom, height) = (50i64, 190i64, 12i64, 40i64, 230i64);
    let plot_w = WIDTH - left - right;
    let plot_h = height - top - bottom;
    let max = points
        .iter()
        .flat_map(|p| p.counts.values().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let x = |i: usize| {
        if points.len() <= 1 {
            left + plot_w / 2
        } else {
            left + plot_w * i as i64 / (points.len() as i64 - 1)
        }
    };
    let y = |v: i64| top + plot_h - (plot_h as f64 * v as f64 / max as f64).round() as i64;
    // End labels, pushed apart so they do not overlap.
    let mut ends: Vec<(&str, i64, i64)> = STATES
        .iter()
        .map(|s| {
            let last = points
                .last()
                .and_then(|p| p.counts.get(*s).copied())
                .unwrap_or(0);
            (*s, last, y(last))
        })
        .collect();
    ends.sort_by_key(|e| e.2);
    for i in 1..ends.len() {
        if ends[i].2 < ends[i - 1].2 + 15 {
            ends[i].2 = ends[i - 1].2 + 15;
        }
    }
    html! {
        svg.chart role="img" aria-label=(title) viewBox={ "0 0 " (WIDTH) " " (height) }
            xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            line.grid x1=(left) y1=(top) x2=(left + plot_w) y2=(top) {}
            text x=(left - 6) y=(top + 4) text-anchor="end" { (lang.number(max)) }
            line.axis x1=(left) y1=(top + plot_h) x2=(left + plot_w) y2=(top + plot_h) {}
            text x=(left - 6) y=(top + plot_h + 4) text-anchor="end" { "0" }
            @for state in STATES {
                @let path = points.iter().enumerate().map(|(i, p)| {
                    format!("{},{}", x(i), y(p.counts.get(state).copied().unwrap_or(0)))
                }).collect::<Vec<_>>().join(" ");
                polyline class={ "line-" (state) } points=(path) fill="none" stroke-width="2.5" {}
                @for (i, p) in points.iter().enumerate() {
                    circle class={ "bar-" (state) } cx=(x(i)) cy=(y(p.counts.get(state).copied().unwrap_or(0))) r="3.5" {}
                }
            }
            @for (state, last, ly) in &ends {
                text x=(left + plot_w + 10) y=(ly + 4) {
                    tspan class={ "bar-" (state) } { "■ " }
                    (lang.state(state)) ": " tspan font-weight="600" { (lang.number(*last)) }
                }
            }
            @for (i, p) in points.iter().enumerate() {
                text x=(x(i)) y=(top + plot_h + 18) text-anchor="middle" { "#" (p.run_id) }
                text x=(x(i)) y=(top + plot_h + 33) text-anchor="middle" font-size="11" {
                    (super::utc(p.started_at).get(5..10).unwrap_or(""))
                }
            }
        }
    }
}
