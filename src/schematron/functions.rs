//! The extension functions the engine registers with libxml2: XPath 2.0's `matches`,
//! `replace`, `lower-case`, `upper-case`, `ends-with` (unprefixed and in the XPath
//! functions namespace) and XSLT's `key` and `current`.

use super::regex;
use crate::xml::node::NodeRef;
use crate::xml::xpath::{FunctionHost, Value};
use crate::xpath::node_string;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};

/// One `xsl:key`'s index: string value of `use` → nodes in document order.
pub(crate) type KeyIndex<'d> = rustc_hash::FxHashMap<String, Vec<NodeRef<'d>>>;

/// Answers extension-function calls during the validation of one document.
#[derive(Default)]
pub(crate) struct Host<'d> {
    /// `xsl:key` indexes: key name → string value of `use` → nodes in document order.
    pub keys: RefCell<rustc_hash::FxHashMap<String, KeyIndex<'d>>>,
    /// The node the current rule fired on (XSLT's `current()`).
    pub current: Cell<Option<NodeRef<'d>>>,
}

fn arity(name: &str, args: &[Value<'_>], min: usize, max: usize) -> Result<(), String> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            min.to_string()
        } else {
            format!("{min} to {max}")
        };
        return Err(format!(
            "{name}() takes {want} arguments, got {}",
            args.len()
        ));
    }
    Ok(())
}

/// XPath's `string()` of argument `i` ("" when absent), borrowed when it is a string.
fn string_arg<'a>(args: &'a [Value<'_>], i: usize) -> Cow<'a, str> {
    match args.get(i) {
        Some(Value::Str(s)) => Cow::Borrowed(s),
        Some(other) => Cow::Owned(other.to_xpath_string()),
        None => Cow::Borrowed(""),
    }
}

impl<'d> FunctionHost<'d> for Host<'d> {
    fn call(&self, name: &str, _ns: &str, args: Vec<Value<'d>>) -> Result<Value<'d>, String> {
        match name {
            "matches" => {
                arity(name, &args, 2, 3)?;
                let re = regex::compile(&string_arg(&args, 1), &string_arg(&args, 2))?;
                Ok(Value::Bool(re.is_match(&string_arg(&args, 0))))
            }
            "replace" => {
                arity(name, &args, 3, 4)?;
                let re = regex::compile(&string_arg(&args, 1), &string_arg(&args, 3))?;
                if re.is_match("") {
                    return Err("replace(): the pattern matches the empty string (FORX0003)".into());
                }
                replace(&re, &string_arg(&args, 0), &string_arg(&args, 2)).map(Value::Str)
            }
            "lower-case" => {
                arity(name, &args, 1, 1)?;
                Ok(Value::Str(string_arg(&args, 0).to_lowercase()))
            }
            "upper-case" => {
                arity(name, &args, 1, 1)?;
                Ok(Value::Str(string_arg(&args, 0).to_uppercase()))
            }
            "ends-with" => {
                arity(name, &args, 2, 2)?;
                Ok(Value::Bool(
                    string_arg(&args, 0).ends_with(string_arg(&args, 1).as_ref()),
                ))
            }
            "current" => {
                arity(name, &args, 0, 0)?;
                Ok(Value::Nodes(self.current.get().into_iter().collect()))
            }
            "key" => {
                arity(name, &args, 2, 2)?;
                let key_name = string_arg(&args, 0);
                let keys = self.keys.borrow();
                let index = keys
                    .get(key_name.as_ref())
                    .ok_or_else(|| format!("key(): no xsl:key named '{key_name}'"))?;
                let found: Vec<NodeRef<'d>> = match &args[1] {
                    Value::Nodes(nodes) if nodes.len() != 1 => {
                        let mut found: Vec<NodeRef<'d>> = Vec::new();
                        for n in nodes {
                            if let Some(hits) = index.get(node_string(n).as_ref()) {
                                found.extend(hits.iter().copied());
                            }
                        }
                        found.sort_by(|a, b| a.document_order(b));
                        found.dedup();
                        found
                    }
                    Value::Nodes(nodes) => index
                        .get(node_string(&nodes[0]).as_ref())
                        .cloned()
                        .unwrap_or_default(),
                    Value::Str(s) => index.get(s.as_str()).cloned().unwrap_or_default(),
                    other => index
                        .get(other.to_xpath_string().as_str())
                        .cloned()
                        .unwrap_or_default(),
                };
                Ok(Value::Nodes(found))
            }
            other => Err(format!("unknown function {other}()")),
        }
    }
}

/// XPath 2.0 `replace`: `$N` inserts group N (the longest number that names a group),
/// `\$` and `\\` are literal; any other `\` or a lone `$` is an error (FORX0004).
fn replace(re: &::regex::Regex, input: &str, replacement: &str) -> Result<String, String> {
    let groups = re.captures_len() - 1;
    let mut out = String::with_capacity(input.len());
    let mut last = 0;
    for caps in re.captures_iter(input) {
        let m = caps.get(0).expect("group 0 always matches");
        out.push_str(&input[last..m.start()]);
        let mut chars = replacement.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('\\' | '$')) => out.push(e),
                    _ => return Err("replace(): invalid '\\' in replacement (FORX0004)".into()),
                },
                '$' => {
                    let mut digits = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        let candidate = format!("{digits}{d}");
                        if !digits.is_empty()
                            && candidate.parse::<usize>().unwrap_or(usize::MAX) > groups
                        {
                            break;
                        }
                        digits = candidate;
                        chars.next();
                    }
                    if digits.is_empty() {
                        return Err(
                            "replace(): '$' not followed by a group number (FORX0004)".into()
                        );
                    }
                    let n: usize = digits.parse().unwrap_or(usize::MAX);
                    if let Some(g) = caps.get(n) {
                        out.push_str(g.as_str());
                    }
                }
                other => out.push(other),
            }
        }
        last = m.end();
    }
    out.push_str(&input[last..]);
    Ok(out)
}
