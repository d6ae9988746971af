//! ListIdentifiers (§4.3) and ListRecords (§4.5), paged by keyset on (datestamp, record):
//! each page costs the same however deep it is. The first request counts the list and
//! pins an open `until` to its responseDate; every later page is driven by the token.
//! ListRecords pages are bounded by `oai.max_page_bytes` of metadata as well as by the
//! page size (the protocol lets a page hold any number of records).

use super::document::Chunks;
use super::error::{Code, OaiError};
use super::request::{ListStart, ListVerb};
use super::resumption_token::TokenState;
use super::{Endpoint, Failure};
use crate::domain::{Datestamp, SetSpec};
use crate::store::ListQuery;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};

pub(super) async fn run(
    ep: &Endpoint<'_>,
    verb: ListVerb,
    start: ListStart,
) -> Result<Chunks, Failure> {
    let with_body = verb == ListVerb::ListRecords;
    let limit = i64::from(ep.tree.page_size(ep.domain.id));
    let (mut state, first) = match start {
        ListStart::Token(token) => {
            let state = ep.tokens.open(
                &token,
                verb.name(),
                ep.domain.name.as_str(),
                ep.response_date,
            )?;
            if state.unlocked != ep.unlocked {
                return Err(OaiError::new(
                    Code::BadResumptionToken,
                    "the resumption token was issued for other credentials; send the same \
                     credentials as for the first request of the list",
                )
                .into());
            }
            (state, false)
        }
        ListStart::Args(args) => {
            let format = ep.format(&args.prefix)?;
            let state = TokenState {
                verb: verb.name().to_string(),
                domain: ep.domain.name.to_string(),
                prefix: format.prefix().to_string(),
                set: args.set.map(|s| s.to_string()),
                from: args.from.map(|d| d.seconds()),
                until: args
                    .until
                    .map(|d| d.last_second())
                    .unwrap_or(ep.response_date),
                after_datestamp: i64::MIN,
                after_record: i64::MIN,
                cursor: 0,
                complete_list_size: 0,
                expires: ep.response_date + ep.token_lifetime,
                diag: args.diag,
                unlocked: ep.unlocked.to_vec(),
            };
            (state, true)
        }
    };
    let no_match = || {
        Failure::from(OaiError::new(
            Code::NoRecordsMatch,
            "no records match the request",
        ))
    };
    let (domain_ids, configured_set) = match &state.set {
        None => (ep.scope(), None),
        Some(set) => {
            let spec = SetSpec::parse(set).map_err(|_| no_match())?;
            let scope = ep.resolve_set(&spec).ok_or_else(no_match)?;
            (Some(scope.domain_ids), scope.configured)
        }
    };
    let mut query = ListQuery {
        prefix: state.prefix.clone(),
        domain_ids,
        configured_set,
        from: state.from,
        until: state.until,
        after: (!first).then_some((state.after_datestamp, state.after_record)),
        limit: limit + 1,
        with_body,
    };
    if first {
        state.complete_list_size = ep.store.count(&query).await?;
        if state.complete_list_size == 0 {
            return Err(no_match());
        }
    }
    let (items, more) = if with_body {
        // Bounded by bytes too: the page ends early once its metadata reaches the budget.
        query.limit = limit;
        let page = ep.store.page(&query, ep.max_page_bytes).await?;
        (page.items, page.more)
    } else {
        let mut items = ep.store.list(&query).await?;
        let more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        (items.into_iter().map(|item| (item, None)).collect(), more)
    };
    if items.is_empty() {
        return Err(no_match());
    }
    let diagnostics = if with_body && state.diag {
        let ids: Vec<i64> = items
            .iter()
            .filter(|(i, _)| !i.deleted)
            .map(|(i, _)| i.record_id)
            .collect();
        ep.store.diagnostics(&ids).await?
    } else {
        Vec::new()
    };
    let sent = items.len() as u64;
    let last = items
        .last()
        .map(|(i, _)| (i.datestamp, i.record_id))
        .unwrap_or_default();
    let mut out = Chunks::default();
    for (item, stored) in items {
        if with_body {
            let diag = diagnostics.iter().find(|d| d.record_id == item.record_id);
            ep.write_record(&mut out, item, stored, diag)?;
        } else {
            ep.write_header(out.writer(), &item);
        }
    }
    if more || !first {
        let w = out.writer();
        let mut element = BytesStart::new("resumptionToken");
        element.push_attribute((
            "completeListSize",
            state.complete_list_size.to_string().as_str(),
        ));
        element.push_attribute(("cursor", state.cursor.to_string().as_str()));
        if more {
            let next = TokenState {
                after_datestamp: last.0,
                after_record: last.1,
                cursor: state.cursor + sent,
                ..state.clone()
            };
            element.push_attribute((
                "expirationDate",
                Datestamp::from_seconds(state.expires).to_string().as_str(),
            ));
            let _ = w.write_event(Event::Start(element));
            let _ = w.write_event(Event::Text(BytesText::new(&ep.tokens.issue(&next))));
            let _ = w.write_event(Event::End(BytesEnd::new("resumptionToken")));
            out.mark_token_issued();
        } else {
            let _ = w.write_event(Event::Empty(element));
        }
    }
    Ok(out)
}
