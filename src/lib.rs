//! vitrine: an OAI-PMH 2.0 data provider for digitised collections with built-in
//! ZVDD METS/MODS validation.

pub mod config;
pub mod demo;
pub mod domain;
pub mod formats;
pub mod ingest;
pub mod oai;
pub mod startup;
pub mod store;
pub mod web;
pub mod xml;
