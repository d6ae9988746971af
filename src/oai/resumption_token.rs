//! Resumption tokens: stateless, opaque, signed (HMAC-SHA256). A token carries everything
//! needed to produce the next page — verb, endpoint, prefix, set, from, the pinned until,
//! the keyset position of the last item sent, cursor and completeListSize — so tokens
//! survive restarts, work on every instance sharing the secret, and re-issuing a token
//! returns the same page (SPEC §3, OAI-TRAPS "Flow control").

use super::error::{Code, OaiError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The state a token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenState {
    /// Verb (`ListIdentifiers` / `ListRecords`).
    #[serde(rename = "v")]
    pub verb: String,
    /// Endpoint's domain name.
    #[serde(rename = "d")]
    pub domain: String,
    /// metadataPrefix.
    #[serde(rename = "p")]
    pub prefix: String,
    /// set.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// from (Unix seconds, inclusive).
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// until (Unix seconds, inclusive), pinned at the first request.
    #[serde(rename = "u")]
    pub until: i64,
    /// Datestamp of the last item sent.
    #[serde(rename = "a")]
    pub after_datestamp: i64,
    /// Record id of the last item sent.
    #[serde(rename = "b")]
    pub after_record: i64,
    /// Items sent before the page this token asks for.
    #[serde(rename = "c")]
    pub cursor: u64,
    /// Size of the whole list, counted at the first request.
    #[serde(rename = "n")]
    pub complete_list_size: u64,
    /// Expiry (Unix seconds).
    #[serde(rename = "e")]
    pub expires: i64,
    /// `diag=true` was asked for.
    #[serde(rename = "g", default, skip_serializing_if = "std::ops::Not::not")]
    pub diag: bool,
    /// Protected domains whose credentials the client sent when the list began: the
    /// token serves only a client that sends the same (a token never widens or narrows
    /// what its holder sees, and completeListSize stays true).
    #[serde(rename = "k", default, skip_serializing_if = "Vec::is_empty")]
    pub unlocked: Vec<i64>,
}

/// How many bytes of the HMAC-SHA256 a token carries as its signature.
const TAG_BYTES: usize = 18;

/// The signing key.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl TokenKey {
    /// A key from a secret.
    pub fn new(secret: &[u8]) -> Self {
        TokenKey(secret.to_vec())
    }

    /// The keyed MAC over `payload`, ready to finalize or verify.
    fn keyed(&self, payload: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(payload);
        mac
    }

    /// The signature a token carries: the MAC's first `TAG_BYTES` bytes.
    fn mac(&self, payload: &[u8]) -> Vec<u8> {
        self.keyed(payload).finalize().into_bytes()[..TAG_BYTES].to_vec()
    }

    /// Whether `tag` is the signature of `payload` (the MAC's own comparison, in
    /// constant time; a tag of another length is refused first, since the MAC accepts
    /// any left part of itself).
    fn signs(&self, payload: &[u8], tag: &[u8]) -> bool {
        tag.len() == TAG_BYTES && self.keyed(payload).verify_truncated_left(tag).is_ok()
    }

    /// Encodes and signs a token.
    pub fn issue(&self, state: &TokenState) -> String {
        let payload = serde_json::to_vec(state).unwrap_or_default();
        let mac = self.mac(&payload);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// Checks and decodes a token for `verb` on endpoint `domain` at time `now`.
    pub fn open(
        &self,
        token: &str,
        verb: &str,
        domain: &str,
        now: i64,
    ) -> Result<TokenState, OaiError> {
        let bad = |why: &str| {
            OaiError::new(
                Code::BadResumptionToken,
                format!("the resumption token {why}"),
            )
        };
        let (payload, mac) = token
            .split_once('.')
            .ok_or_else(|| bad("is not one of this repository's"))?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| bad("is damaged"))?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| bad("is damaged"))?;
        if !self.signs(&payload, &mac) {
            return Err(bad("is damaged or was not issued by this repository"));
        }
        let state: TokenState = serde_json::from_slice(&payload).map_err(|_| bad("is damaged"))?;
        if state.verb != verb {
            return Err(bad(&format!("belongs to {}, not {verb}", state.verb)));
        }
        if state.domain != domain {
            return Err(bad("belongs to another endpoint"));
        }
        if state.expires < now {
            return Err(bad("has expired; start the harvest again"));
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> TokenState {
        TokenState {
            verb: "ListRecords".into(),
            domain: "ulb".into(),
            prefix: "mets".into(),
            set: Some("zd".into()),
            from: None,
            until: 2_000,
            after_datestamp: 1_000,
            after_record: 7,
            cursor: 100,
            complete_list_size: 774,
            expires: 10_000,
            diag: false,
            unlocked: vec![3],
        }
    }

    #[test]
    fn a_token_round_trips() {
        let key = TokenKey::new(b"secret");
        let token = key.issue(&state());
        assert_eq!(key.open(&token, "ListRecords", "ulb", 5).unwrap(), state());
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
    }

    #[test]
    fn forged_foreign_and_expired_tokens_are_bad() {
        let key = TokenKey::new(b"secret");
        let token = key.issue(&state());
        let mut forged = token.clone().into_bytes();
        forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        for (t, verb, domain, now) in [
            (forged.as_str(), "ListRecords", "ulb", 5),
            (token.as_str(), "ListIdentifiers", "ulb", 5),
            (token.as_str(), "ListRecords", "other", 5),
            (token.as_str(), "ListRecords", "ulb", 20_000),
            ("garbage", "ListRecords", "ulb", 5),
        ] {
            let err = key.open(t, verb, domain, now).unwrap_err();
            assert_eq!(err.code, Code::BadResumptionToken);
        }
        assert!(TokenKey::new(b"other")
            .open(&token, "ListRecords", "ulb", 5)
            .is_err());
    }

    #[test]
    fn a_token_whose_signature_is_cut_short_is_bad() {
        let key = TokenKey::new(b"secret");
        let token = key.issue(&state());
        let (payload, tag) = token.split_once('.').unwrap();
        let tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
        for len in [0, 1, TAG_BYTES - 1] {
            let short = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&tag[..len]));
            let err = key.open(&short, "ListRecords", "ulb", 5).unwrap_err();
            assert_eq!(err.code, Code::BadResumptionToken, "{len} bytes");
        }
        assert!(key.open(&token, "ListRecords", "ulb", 5).is_ok());
    }
}
