//! Static checks and rewrites of expression text: the function names an expression
//! calls, rule contexts (XSLT match patterns) turned into selecting XPath, and the
//! `$param` substitution of abstract patterns.

/// XPath 1.0's core function library.
const XPATH1_FUNCTIONS: &[&str] = &[
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

/// A function call found in an expression: the name as written (`fn:matches`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Call<'a> {
    pub prefix: &'a str,
    pub local: &'a str,
    /// The argument list, between the parentheses.
    pub args: &'a str,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{B7}')
}

/// The function calls of `expr`, by the XPath 1.0 lexical rules: a name followed by
/// `(` is a function call unless it is a node type test or an operator name.
pub(crate) fn function_calls(expr: &str) -> Vec<Call<'_>> {
    let mut calls = Vec::new();
    let chars: Vec<(usize, char)> = expr.char_indices().collect();
    let mut i = 0;
    // Whether the previous token ends an operand (then a name is an operator name).
    let mut after_operand = false;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i].1 != c {
                i += 1;
            }
            i += 1;
            after_operand = true;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '$' {
            i += 1;
            while i < chars.len() && (is_name_char(chars[i].1) || chars[i].1 == ':') {
                i += 1;
            }
            after_operand = true;
        } else if is_name_start(c) {
            let start = pos;
            let mut j = i;
            let mut colon = None;
            while j < chars.len() {
                let ch = chars[j].1;
                if is_name_char(ch) {
                    j += 1;
                } else if ch == ':'
                    && colon.is_none()
                    && j + 1 < chars.len()
                    && is_name_start(chars[j + 1].1)
                    && !(j > 0 && chars[j - 1].1 == ':')
                {
                    colon = Some(chars[j].0);
                    j += 1;
                } else {
                    break;
                }
            }
            let end = chars.get(j).map_or(expr.len(), |c| c.0);
            let name = &expr[start..end];
            let mut k = j;
            while k < chars.len() && chars[k].1.is_whitespace() {
                k += 1;
            }
            let next = chars.get(k).map(|c| c.1);
            let operator = after_operand && matches!(name, "and" | "or" | "div" | "mod");
            let axis = next == Some(':') && chars.get(k + 1).map(|c| c.1) == Some(':');
            if operator {
                after_operand = false;
            } else if next == Some('(')
                && !matches!(name, "node" | "text" | "comment" | "processing-instruction")
            {
                let (prefix, local) = match colon {
                    Some(c) => (&expr[start..c], &expr[c + 1..end]),
                    None => ("", name),
                };
                let open = chars[k].0 + 1;
                let args = &expr[open..matching_paren(expr, open)];
                calls.push(Call {
                    prefix,
                    local,
                    args,
                });
                after_operand = false;
            } else {
                after_operand = !axis;
            }
            i = j;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.1.is_ascii_digit()))
        {
            while i < chars.len() && (chars[i].1.is_ascii_digit() || chars[i].1 == '.') {
                i += 1;
            }
            after_operand = true;
        } else {
            after_operand = if c == '*' {
                // `*` after an operand is multiplication, otherwise a name test (an operand).
                !after_operand
            } else {
                matches!(c, ')' | ']' | '.')
            };
            i += 1;
        }
    }
    calls
}

/// The namespace prefixes of the names in `expr` (`p:name`, `p:*`, `p:f(`), outside
/// string literals, variable names and axis specifiers.
pub(crate) fn name_prefixes(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = expr.char_indices().collect();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
            i += 1;
        } else if is_name_start(c) {
            let after_dollar = i > 0 && chars[i - 1].1 == '$';
            let mut j = i;
            while j < chars.len() && is_name_char(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(expr.len(), |c| c.0);
            let colon = chars.get(j).map(|c| c.1) == Some(':');
            let next = chars.get(j + 1).map(|c| c.1);
            if colon && next != Some(':') && !after_dollar {
                if next.is_some_and(|n| is_name_start(n) || n == '*') {
                    out.push(&expr[pos..end]);
                }
                // Skip the local part.
                j += 1;
                while j < chars.len() && (is_name_char(chars[j].1) || chars[j].1 == '*') {
                    j += 1;
                }
            } else if colon && after_dollar {
                j += 1;
                while j < chars.len() && is_name_char(chars[j].1) {
                    j += 1;
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The variables `expr` references (`$name`), outside string literals.
pub(crate) fn variable_refs(expr: &str) -> Vec<&str> {
    let mut refs = Vec::new();
    let mut quote: Option<char> = None;
    let mut iter = expr.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '$' => {
                let start = i + 1;
                let mut end = start;
                while let Some(&(j, d)) = iter.peek() {
                    if is_name_char(d) || d == ':' {
                        end = j + d.len_utf8();
                        iter.next();
                    } else {
                        break;
                    }
                }
                if end > start {
                    refs.push(&expr[start..end]);
                }
            }
            None => {}
        }
    }
    refs
}

/// The byte offset of the `)` closing the parenthesis opened just before `start`
/// (the end of `text` when unbalanced).
fn matching_paren(text: &str, start: usize) -> usize {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in text[start..].char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' => depth += 1,
                ')' | ']' if depth > 0 => depth -= 1,
                ')' => return start + i,
                _ => {}
            },
        }
    }
    text.len()
}

/// The value of a string literal (`'x'` or `"x"`), if `arg` is one.
pub(crate) fn string_literal(arg: &str) -> Option<&str> {
    let a = arg.trim();
    let q = a.chars().next()?;
    if (q == '\'' || q == '"') && a.len() >= 2 && a.ends_with(q) && !a[1..a.len() - 1].contains(q) {
        Some(&a[1..a.len() - 1])
    } else {
        None
    }
}

/// Splits `text` at top-level occurrences of `sep` (outside brackets, parentheses and literals).
pub(crate) fn split_top_level(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                _ if c == sep && depth == 0 => {
                    parts.push(&text[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            },
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Turns an XSLT match pattern into an XPath selecting, from the document root, every
/// node the pattern matches: each alternative `p` becomes `//p` unless it is already
/// rooted (`/…`) or starts with `id(`/`key(`.
pub(crate) fn context_to_select(context: &str) -> String {
    split_top_level(context, '|')
        .into_iter()
        .map(|branch| {
            let b = branch.trim();
            if b.starts_with('/') || b.starts_with("id(") || b.starts_with("key(") {
                b.to_string()
            } else {
                format!("//{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
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
pub(crate) fn check_call(call: &Call<'_>, fn_prefixes: &[String]) -> Result<(), String> {
    let known = if call.prefix.is_empty() {
        XPATH1_FUNCTIONS.contains(&call.local)
            || EXTENSION_FUNCTIONS.contains(&call.local)
            || XSLT_FUNCTIONS.contains(&call.local)
    } else {
        fn_prefixes.iter().any(|p| p == call.prefix) && EXTENSION_FUNCTIONS.contains(&call.local)
    };
    if known {
        Ok(())
    } else if call.prefix.is_empty() {
        Err(format!("unknown function {}()", call.local))
    } else {
        Err(format!("unknown function {}:{}()", call.prefix, call.local))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(e: &str) -> Vec<String> {
        function_calls(e)
            .into_iter()
            .map(|c| {
                if c.prefix.is_empty() {
                    c.local.to_string()
                } else {
                    format!("{}:{}", c.prefix, c.local)
                }
            })
            .collect()
    }

    #[test]
    fn function_calls_are_found_and_node_tests_operators_and_literals_are_not() {
        assert_eq!(
            names("count(mets:file) > 0 and (true())"),
            ["count", "true"]
        );
        assert_eq!(names("node() | text() | comment()"), Vec::<String>::new());
        assert_eq!(names("'foo(' = concat(a, \"bar(\")"), ["concat"]);
        assert_eq!(names("fn:matches(@ID, '^x') or mods:x"), ["fn:matches"]);
        assert_eq!(names("a div (b) mod (c)"), Vec::<String>::new());
        assert_eq!(
            names("child::node() and ancestor::mets:div"),
            Vec::<String>::new()
        );
        assert_eq!(names("* and foo(1)"), ["foo"]);
        assert_eq!(names("2 * 3 and frob(.)"), ["frob"]);
    }

    #[test]
    fn call_arguments_are_delimited() {
        let calls = function_calls("matches(concat(a, ')'), '^(x)$', 'i') and not(b)");
        assert_eq!(calls[0].args, "concat(a, ')'), '^(x)$', 'i'");
        assert_eq!(calls[1].args, "a, ')'");
        assert_eq!(calls[2].args, "b");
        assert_eq!(string_literal(" '^(x)$' "), Some("^(x)$"));
        assert_eq!(string_literal("$rx"), None);
    }

    #[test]
    fn namespace_prefixes_of_names() {
        assert_eq!(
            name_prefixes("mets:div/@xlink:href | p:* | child::q:x and fn:f(.) and $v:w = 'a:b'"),
            ["mets", "xlink", "p", "q", "fn"]
        );
        assert_eq!(
            name_prefixes("ancestor::node() | self::x"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn variable_references_outside_literals() {
        assert_eq!(
            variable_refs("$a = '$b' and $rx-url-2 or \"$c\""),
            ["a", "rx-url-2"]
        );
    }

    #[test]
    fn contexts_become_descendant_selections() {
        assert_eq!(context_to_select("@ID"), "//@ID");
        assert_eq!(context_to_select("mets:div/@TYPE"), "//mets:div/@TYPE");
        assert_eq!(
            context_to_select("a | /b[c = 'x|y']"),
            "//a | /b[c = 'x|y']"
        );
        assert_eq!(context_to_select("/"), "/");
        assert_eq!(context_to_select("//x"), "//x");
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
