//! What the compiler knows about functions and contexts: the functions the engine
//! implements, each call of a parsed expression checked against them, rule contexts
//! (XSLT match patterns) turned into selecting XPath, and the `$param` substitution of
//! abstract patterns (a text macro, applied before anything is parsed).

use crate::xpath::{Call, Expr, Start, Step};

/// XPath 1.0's core function library.
pub(crate) const XPATH1_FUNCTIONS: &[&str] = &[
    "last",
    "position",
    "count",
    "id",
    "local-name",
    "namespace-uri",
    "name",
    "string",
    "concat",
    "starts-with",
    "contains",
    "substring-before",
    "substring-after",
    "substring",
    "string-length",
    "normalize-space",
    "translate",
    "boolean",
    "not",
    "true",
    "false",
    "lang",
    "number",
    "sum",
    "floor",
    "ceiling",
    "round",
];

/// XPath 2.0 string functions the engine implements.
pub(crate) const EXTENSION_FUNCTIONS: &[&str] = &[
    "matches",
    "replace",
    "lower-case",
    "upper-case",
    "ends-with",
];

/// XSLT functions the engine implements.
pub(crate) const XSLT_FUNCTIONS: &[&str] = &["key", "current"];

/// The XPath functions namespace.
pub(crate) const FN_NS: &str = "http://www.w3.org/2005/xpath-functions";

/// Turns a parsed XSLT match pattern into an XPath expression selecting, from the
/// document root, every node the pattern matches: each relative alternative `p`
/// becomes `//p`; rooted ones (`/…`) and those starting with `id()` or `key()` stay
/// as they are. `Err` for an alternative that is not a path.
pub(crate) fn context_to_select(context: &Expr) -> Result<Expr, String> {
    match context {
        Expr::Union(a, b) => Ok(Expr::Union(
            Box::new(context_to_select(a)?),
            Box::new(context_to_select(b)?),
        )),
        Expr::Path(p) if p.start == Start::Context => {
            let mut p = p.clone();
            p.start = Start::Root;
            p.steps.insert(0, Step::descendant_or_self());
            Ok(Expr::Path(p))
        }
        Expr::Path(p) if p.start == Start::Root => Ok(context.clone()),
        Expr::Path(p) if matches!(&p.start, Start::Filter(Expr::Call(c), _) if id_or_key(c)) => {
            Ok(context.clone())
        }
        Expr::Call(c) if id_or_key(c) => Ok(context.clone()),
        other => Err(format!(
            "'{other}' is not a pattern (a path, or one starting with id() or key())"
        )),
    }
}

/// Whether a pattern may start with this call (XSLT 1.0 §5.2).
fn id_or_key(c: &Call) -> bool {
    c.name.prefix.is_empty() && matches!(c.name.local.as_str(), "id" | "key")
}

/// Substitutes abstract-pattern parameters: every `$name` is replaced by its value,
/// longer names first so that `$a` does not eat the start of `$ab`.
pub(crate) fn substitute_params(text: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
    let mut out = text.to_string();
    for (name, value) in sorted {
        out = out.replace(&format!("${name}"), value);
    }
    out
}

/// Checks one called function against what the engine can evaluate; `fn_prefixes` are
/// the prefixes the schema binds to the XPath functions namespace.
pub(crate) fn check_call(call: &Call, fn_prefixes: &[String]) -> Result<(), String> {
    let (prefix, local) = (call.name.prefix.as_str(), call.name.local.as_str());
    let known = if prefix.is_empty() {
        XPATH1_FUNCTIONS.contains(&local)
            || EXTENSION_FUNCTIONS.contains(&local)
            || XSLT_FUNCTIONS.contains(&local)
    } else {
        fn_prefixes.iter().any(|p| p == prefix) && EXTENSION_FUNCTIONS.contains(&local)
    };
    if known {
        Ok(())
    } else {
        Err(format!("unknown function {}()", call.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xpath::parse;

    fn select(context: &str) -> String {
        context_to_select(&parse(context).unwrap())
            .unwrap()
            .to_string()
    }

    #[test]
    fn contexts_become_descendant_selections() {
        assert_eq!(select("@ID"), "/descendant-or-self::node()/attribute::ID");
        assert_eq!(
            select("a | /b[c = 'x|y']"),
            "(/descendant-or-self::node()/child::a) | (/child::b[(child::c) = ('x|y')])"
        );
        assert_eq!(select("/"), "/");
        assert_eq!(select("key('k', 'v')"), "key('k', 'v')");
        assert_eq!(select("id('a')/b"), "id('a')/child::b");
        for not_a_pattern in ["'x'", "(a | b)/c", "$v/a", "current()", "count(a)"] {
            assert!(
                context_to_select(&parse(not_a_pattern).unwrap()).is_err(),
                "{not_a_pattern}"
            );
        }
    }

    #[test]
    fn unknown_functions_are_named() {
        let e = parse("count(x) and fn:matches(x, 'y') and f:g(x) and tokenize(x, ' ')").unwrap();
        let checked: Vec<Result<(), String>> = e
            .calls()
            .into_iter()
            .map(|c| check_call(c, &["fn".to_string()]))
            .collect();
        assert!(checked[0].is_ok() && checked[1].is_ok());
        assert_eq!(checked[2], Err("unknown function f:g()".to_string()));
        assert_eq!(checked[3], Err("unknown function tokenize()".to_string()));
    }

    #[test]
    fn longer_parameters_are_substituted_first() {
        let p = vec![
            ("a".to_string(), "X".to_string()),
            ("ab".to_string(), "Y".to_string()),
        ];
        assert_eq!(substitute_params("$ab = $a", &p), "Y = X");
    }
}
