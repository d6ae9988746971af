//! Black-box tests of the OAI-PMH endpoint, ingest and storage: the real application on
//! port 0, a fresh database per test, assertions by XPath on parsed responses, every
//! response validated against OAI-PMH.xsd (and oai_dc records against oai_dc.xsd).

mod command_line;
mod corpus;
mod errors;
mod flow_control;
mod helpers;
mod hostile;
mod http;
mod ingest_api;
mod ingest_exports;
mod ingest_helpers;
mod ingest_kill;
mod metrics;
mod operations;
mod pages;
mod prometheus_text;
mod protected;
mod qa_pages;
mod readiness;
mod record_inspection;
mod record_states;
mod rule_sets;
mod storage;
mod stored_words;
mod token_cli;
mod validator_job;
mod verbs;
mod web_auth;
mod web_client;
mod zvdd_channel;
