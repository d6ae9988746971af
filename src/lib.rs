//! vitrine: an OAI-PMH 2.0 data provider for digitised collections with built-in
//! ZVDD METS/MODS validation.
//!
//! Dependencies point inward: `web` → {`oai`, `ingest`, `store`}; `oai`, `ingest` →
//! {`formats`, `schematron`, `xml`, `domain`}. Only `store` talks SQL, only `xml`,
//! `formats` and `schematron` touch libxml, only `web` and `startup` know actix.

pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod formats;
pub mod ingest;
pub mod jobs;
pub mod oai;
pub mod progress;
pub mod repair;
pub mod schematron;
pub mod startup;
pub mod store;
pub mod users;
pub mod validation;
pub mod web;
pub mod xml;
