//! Recognition of XPath 2.0 constructs where the XPath 1.0 grammar fails, so that an
//! expression written for XPath 2.0 is refused with the name of what it uses
//! (`for … return`, `eq`, `(a, b)`, a function call as a path step …) rather than
//! with a bare syntax error.

use super::lexer::Tok;

fn name(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Name(n)) => Some(n),
        _ => None,
    }
}

/// The XPath 2.0 construct the tokens around position `at` belong to, where the
/// XPath 1.0 grammar failed there.
pub(crate) fn construct_at(toks: &[(Tok, usize)], at: usize) -> Option<&'static str> {
    let tok = |k: isize| -> Option<&Tok> {
        let i = at as isize + k;
        if i < 0 {
            None
        } else {
            toks.get(i as usize).map(|t| &t.0)
        }
    };
    let (prev, cur, next) = (tok(-1), tok(0), tok(1));
    if let (Some(Tok::Name(n)), Some(Tok::Var(_))) = (prev, cur) {
        match n.as_str() {
            "for" => return Some("for … return"),
            "some" | "every" => return Some("some/every … satisfies"),
            _ => {}
        }
    }
    if matches!(
        (prev, cur),
        (Some(Tok::Lt), Some(Tok::Lt)) | (Some(Tok::Gt), Some(Tok::Gt))
    ) {
        return Some("node order comparison (<< or >>)");
    }
    if matches!((prev, cur), (Some(Tok::LParen), Some(Tok::RParen))) {
        return Some("empty sequence ()");
    }
    if cur == Some(&Tok::Question) {
        return Some("occurrence indicator (?)");
    }
    if cur == Some(&Tok::Comma) {
        return Some("sequence constructor (a, b)");
    }
    if let Some(n) = name(cur) {
        let construct = match n {
            "then" | "else" => "if … then … else",
            "to" => "range (to)",
            "except" | "intersect" => "except/intersect",
            "union" => "union keyword",
            "eq" | "ne" | "lt" | "le" | "gt" | "ge" => "value comparison (eq, ne, lt, le, gt, ge)",
            "is" => "node comparison (is)",
            "idiv" => "idiv",
            "return" => "for … return",
            "satisfies" | "in" => "some/every … satisfies",
            "instance" if name(next) == Some("of") => "instance of",
            "cast" | "castable" | "treat" if name(next) == Some("as") => "cast/castable/treat as",
            _ if next == Some(&Tok::LParen) => match n {
                "element" | "attribute" | "document-node" | "schema-element"
                | "schema-attribute" | "item" | "empty-sequence" => "kind test",
                _ => "function call as a path step",
            },
            _ => return None,
        };
        return Some(construct);
    }
    None
}
