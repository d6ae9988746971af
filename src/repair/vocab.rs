//! The vocabularies the repairs map into, with the same tests the rule set applies:
//! URLs and contact addresses (`$rx-url`, `$rx-contact`) and the DFG structure types
//! (`$struct-types`) from Goobi/Kitodo ruleset names. Languages are in [`super::lang`].

use regex::Regex;
use std::sync::OnceLock;

/// `$rx-url` of the rule set: an absolute http(s) URL with a full host name.
pub fn is_url(value: &str) -> bool {
    static RX: OnceLock<Regex> = OnceLock::new();
    RX.get_or_init(|| {
        Regex::new(
            r"^https?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:[0-9]+)?([/?#]\S*)?$",
        )
        .expect("valid regex")
    })
    .is_match(value.trim())
}

/// `dv:ownerContact` as the rule set accepts it: an e-mail address (`mailto:` optional)
/// or a URL.
pub fn is_contact(value: &str) -> bool {
    static RX: OnceLock<Regex> = OnceLock::new();
    let rx = RX
        .get_or_init(|| Regex::new(r"^(mailto:)?[^\s@]+@[^\s@]+\.[^\s@]+$").expect("valid regex"));
    rx.is_match(value.trim()) || is_url(value)
}

/// The DFG structure types (`$struct-types` of the rule set).
const DFG_TYPES: &str =
    "act additional address album annotation article atlas bachelor_thesis binding bookplate \
cartulary chapter collation colophon contained_work contents corrigenda cover cover_back \
cover_front day dedication diploma_thesis doctoral_thesis document dossier edge endsheet \
engraved_titlepage entry ephemera fascicle file folder fragment ground_plan \
habilitation_thesis illustration image imprint index initial_decoration inventory issue \
judgement land_register leaflet lecture letter magister_thesis manuscript map master_thesis \
monograph month multivolume_work musical_notation newspaper note official_notification \
ornament paper part paste_down periodical photograph plan poster preface preprint \
printed_archives printers_mark privileges proceeding provenance register report \
research_paper review scheme seal section spine stamp study subinventory table text \
title_page verse volume year";

/// Ruleset names whose DFG type is not just their snake_case spelling.
const TYPE_ALIASES: [(&str, &str); 16] = [
    ("periodical_volume", "volume"),
    ("newspaper_volume", "year"),
    ("newspaper_year", "year"),
    ("periodical_year", "year"),
    ("newspaper_issue", "issue"),
    ("periodical_issue", "issue"),
    ("newspaper_month", "month"),
    ("newspaper_day", "day"),
    ("titlepage", "title_page"),
    ("table_of_contents", "contents"),
    ("errata", "corrigenda"),
    ("front_cover", "cover_front"),
    ("back_cover", "cover_back"),
    ("multi_volume_work", "multivolume_work"),
    ("multivolume", "multivolume_work"),
    ("newspaper_supplement", "additional"),
];

/// Whether `value` is a DFG structure type (case-sensitive, as the rule set checks).
pub fn is_dfg_type(value: &str) -> bool {
    DFG_TYPES.split_ascii_whitespace().any(|t| t == value)
}

/// The DFG structure type for a ruleset type name (`MultivolumeWork` →
/// `multivolume_work`, `PeriodicalVolume` → `volume`, `TitlePage` → `title_page`),
/// or `None` when it has none.
pub fn dfg_type(value: &str) -> Option<&'static str> {
    let snake = snake_case(value.trim());
    let key = TYPE_ALIASES
        .iter()
        .find(|(from, _)| *from == snake)
        .map_or(snake.as_str(), |(_, to)| *to);
    DFG_TYPES.split_ascii_whitespace().find(|t| *t == key)
}

/// `MultivolumeWork` → `multivolume_work`; `Title Page`, `title-page` → `title_page`.
fn snake_case(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let mut prev_lower = false;
    for c in value.chars() {
        if c == ' ' || c == '-' || c == '_' {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        } else if c.is_uppercase() {
            if prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out
}
