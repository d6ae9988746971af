//! vitrine: an OAI-PMH 2.0 data provider for digitised collections with built-in
//! ZVDD METS/MODS validation.
//!
//! Dependencies point one way: the command line (`cli`) and the wiring (`startup`) →
//! `web`, `ingest`, `jobs` → `validation` → `schematron`, `repair`, `formats` → `xml`;
//! `oai` → `formats`, `store`, `domain`; `store` → `domain`. Nothing points back up.
//! Only `store` talks SQL, and only `web` and `startup` know actix. `metrics` (the
//! request counters and the Prometheus text format) depends on nothing of vitrine's;
//! `web` counts into it and serves it.
//!
//! Who may touch libxml: every `unsafe` block lives in `xml` (the lint below denies it
//! elsewhere), and every document comes from [`xml::parse`]. `schematron`, `validation`,
//! `repair` and `formats` work on such documents through libxml's safe API (nodes,
//! XPath contexts, serialisation); `formats::crosswalk` alone runs libxslt. No other
//! module uses libxml.

#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod formats;
pub mod ingest;
pub mod jobs;
pub mod logging;
pub mod metrics;
pub mod oai;
pub mod preflight;
pub mod progress;
pub mod repair;
pub mod schematron;
pub mod startup;
pub mod store;
pub mod users;
pub mod validation;
pub mod web;
pub mod xml;
pub mod xpath;
