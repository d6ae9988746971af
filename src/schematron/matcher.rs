//! Rule contexts tested node by node instead of selected with XPath.
//!
//! Selecting the nodes of each rule with its own `//pattern` costs one scan of the
//! document per rule. Most contexts are simple location paths — `p:name`, `p:*`,
//! `@attr`, `a/b`, `a//b`, each step with optional predicates, and unions of those —
//! and for them one walk over the document can decide for every node and every rule
//! whether the node matches, with the predicates evaluated at the node itself.
//! Whatever falls outside that shape (axes, node-type tests, `id()`/`key()`,
//! variables, `current()`, `position()`/`last()`) keeps its XPath selection.

use super::expr::{function_calls, split_top_level};
use super::model::ExprId;
use super::simple::{self, Simple};
use crate::xml::node::{NodeKind, NodeRef};

/// A rule context as a union of step paths.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    pub branches: Vec<Branch>,
}

/// One alternative of a union: a path of steps, the last one the node itself.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    /// `/a/b`: the first step's node is a child of the document node.
    pub rooted: bool,
    pub steps: Vec<Step>,
}

/// A name test with predicates.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Reached from the previous step through `//` (any ancestor) rather than `/` (parent).
    pub descendant: bool,
    pub attribute: bool,
    /// Namespace URI the node must have ("" for none); `None` for an unprefixed `*`.
    pub ns: Option<String>,
    /// Local name; `None` for `*`.
    pub local: Option<String>,
    /// Predicates, in order.
    pub preds: Vec<Pred>,
}

/// A predicate: evaluated in Rust when simple enough, else through XPath.
#[derive(Debug, Clone)]
pub(crate) enum Pred {
    Native(Simple),
    XPath(ExprId),
}

/// Parses `context` into a matcher, or `None` when it is not of the simple shape.
/// `ns` resolves a prefix to its URI; `pred` registers a predicate expression (`None`
/// when it cannot stand alone, which leaves the context to XPath too).
pub(crate) fn parse(
    context: &str,
    ns: impl Fn(&str) -> Option<String>,
    mut pred: impl FnMut(&str) -> Option<ExprId>,
) -> Option<Matcher> {
    let mut branches = Vec::new();
    for text in split_top_level(context, '|') {
        let (rooted, raw_steps) = branch_parts(text.trim())?;
        let mut steps = Vec::new();
        for (i, (descendant, step)) in raw_steps.iter().enumerate() {
            let (attribute, prefix, local, preds) = step_parts(step)?;
            // An attribute has no children: only the last step may be one.
            if attribute && i + 1 != raw_steps.len() {
                return None;
            }
            let uri = match prefix {
                // A prefix bound to "" is left to XPath: libxml2 then wants a namespace
                // whose URI is empty, which "" (no namespace) cannot express here.
                Some(p) => Some(ns(p).filter(|u| !u.is_empty())?),
                None if local.is_none() => None,
                None => Some(String::new()),
            };
            let mut ids = Vec::new();
            for p in preds {
                if let Some(simple) = simple::parse(p, &ns) {
                    ids.push(Pred::Native(simple));
                    continue;
                }
                if !simple_predicate(p) {
                    return None;
                }
                ids.push(Pred::XPath(pred(p)?));
            }
            steps.push(Step {
                descendant: *descendant,
                attribute,
                ns: uri,
                local: local.map(str::to_string),
                preds: ids,
            });
        }
        branches.push(Branch { rooted, steps });
    }
    Some(Matcher { branches })
}

/// Predicates whose truth at a node does not depend on variables, on the current rule
/// node or on the node's position among those the step selects, and whose evaluation
/// cannot fail: paths, comparisons, literals and `not()`. (XPath evaluates a step's
/// predicates at every candidate node, so an error there would abort the selection
/// even at nodes this matcher never needs to visit.)
fn simple_predicate(p: &str) -> bool {
    !p.contains('$')
        && !p.trim().is_empty()
        && function_calls(p).iter().all(|c| {
            c.prefix.is_empty()
                && c.local == "not"
                && !c.args.trim().is_empty()
                && split_top_level(c.args, ',').len() == 1
        })
}

/// Splits a branch into `(rooted, [(descendant, step text)])` at top-level `/` and `//`.
fn branch_parts(text: &str) -> Option<(bool, Vec<(bool, &str)>)> {
    let mut steps = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut sep_desc = false;
    let mut rooted = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '(' => depth += 1,
                ']' | ')' => depth -= 1,
                '/' if depth == 0 => {
                    let step = &text[start..i];
                    let double = bytes.get(i + 1) == Some(&b'/');
                    if i == 0 {
                        if double {
                            return None;
                        }
                        rooted = true;
                    } else {
                        steps.push((sep_desc, step.trim()));
                    }
                    sep_desc = double;
                    i += if double { 2 } else { 1 };
                    start = i;
                    continue;
                }
                _ => {}
            },
        }
        i += 1;
    }
    if quote.is_some() || depth != 0 {
        return None;
    }
    steps.push((sep_desc, text[start..].trim()));
    if steps.iter().any(|(_, s)| s.is_empty()) {
        return None;
    }
    Some((rooted, steps))
}

type StepParts<'a> = (bool, Option<&'a str>, Option<&'a str>, Vec<&'a str>);

/// Splits a step into `(attribute, prefix, local name or None for *, predicates)`.
fn step_parts(step: &str) -> Option<StepParts<'_>> {
    let (attribute, rest) = match step.strip_prefix('@') {
        Some(r) => (true, r),
        None => (false, step),
    };
    let name_end = rest.find('[').unwrap_or(rest.len());
    let name = rest[..name_end].trim();
    let (prefix, local) = match name.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, name),
    };
    if prefix.is_some_and(|p| !is_ncname(p)) {
        return None;
    }
    let local = if local == "*" {
        None
    } else if is_ncname(local) {
        Some(local)
    } else {
        return None;
    };
    let mut preds = Vec::new();
    let mut rest = rest[name_end..].trim_start();
    while !rest.is_empty() {
        if !rest.starts_with('[') {
            return None;
        }
        let close = closing_bracket(rest)?;
        preds.push(&rest[1..close]);
        rest = rest[close + 1..].trim_start();
    }
    Some((attribute, prefix, local, preds))
}

/// The offset of the `]` closing the `[` at the start of `text`.
fn closing_bracket(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '(' => depth += 1,
                ')' => depth -= 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{B7}'))
}

impl Step {
    /// Whether `node` passes the name test (predicates aside).
    pub fn name_matches(&self, node: NodeRef<'_>) -> bool {
        let kind_ok = match node.kind() {
            NodeKind::Element => !self.attribute,
            NodeKind::Attribute => self.attribute,
            _ => false,
        };
        kind_ok
            && self.local.as_deref().is_none_or(|l| node.local_name_is(l))
            && self.ns.as_deref().is_none_or(|u| node.namespace_uri_is(u))
    }
}

/// Why a match could not be decided node by node.
pub(crate) enum Undecided {
    /// A predicate's value is a number (a position test) or its evaluation failed.
    Fallback,
}

impl Branch {
    /// Whether `node` matches the branch; `pred` tells whether a predicate holds at a
    /// node (`None`: undecidable here).
    pub fn matches<'d>(
        &self,
        node: NodeRef<'d>,
        pred: &mut impl FnMut(ExprId, NodeRef<'d>) -> Option<bool>,
    ) -> Result<bool, Undecided> {
        self.match_at(self.steps.len() - 1, node, pred)
    }

    fn match_at<'d>(
        &self,
        index: usize,
        node: NodeRef<'d>,
        pred: &mut impl FnMut(ExprId, NodeRef<'d>) -> Option<bool>,
    ) -> Result<bool, Undecided> {
        let step = &self.steps[index];
        if !step.name_matches(node) {
            return Ok(false);
        }
        for p in &step.preds {
            let truth = match p {
                Pred::Native(simple) => Some(simple.truth(node)),
                Pred::XPath(id) => pred(*id, node),
            };
            match truth {
                Some(true) => {}
                Some(false) => return Ok(false),
                None => return Err(Undecided::Fallback),
            }
        }
        let parent = node.parent();
        if index == 0 {
            return Ok(!self.rooted || parent.is_some_and(|p| p.kind() == NodeKind::Document));
        }
        if step.descendant {
            let mut up = parent;
            while let Some(a) = up {
                if a.kind() != NodeKind::Element {
                    break;
                }
                if self.match_at(index - 1, a, pred)? {
                    return Ok(true);
                }
                up = a.parent();
            }
            Ok(false)
        } else {
            match parent {
                Some(p) if p.kind() == NodeKind::Element => self.match_at(index - 1, p, pred),
                _ => Ok(false),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(context: &str) -> Option<Matcher> {
        let mut n = 0;
        parse(
            context,
            |p| (p == "m").then(|| "urn:m".to_string()),
            |_| {
                n += 1;
                Some(n)
            },
        )
    }

    #[test]
    fn simple_predicates_are_native() {
        let m = parsed("m:a[@T = 'x'][m:b]").unwrap();
        assert!(matches!(m.branches[0].steps[0].preds[0], Pred::Native(_)));
        assert!(matches!(m.branches[0].steps[0].preds[1], Pred::XPath(_)));
    }

    #[test]
    fn simple_paths_are_parsed_and_the_rest_is_left_to_xpath() {
        let m = parsed("m:a[@T='x|/y']//m:b[not(@C)] | @ID | /m:r/*").unwrap();
        assert_eq!(m.branches.len(), 3);
        let b = &m.branches[0];
        assert!(!b.rooted);
        assert_eq!(b.steps.len(), 2);
        assert_eq!(b.steps[0].preds.len(), 1);
        assert_eq!(b.steps[1].preds.len(), 1);
        assert!(b.steps[1].descendant);
        assert_eq!(b.steps[1].ns.as_deref(), Some("urn:m"));
        assert!(m.branches[1].steps[0].attribute);
        assert_eq!(m.branches[1].steps[0].ns.as_deref(), Some(""));
        assert!(m.branches[2].rooted);
        assert_eq!(m.branches[2].steps[1].ns, None);
        for complex in [
            "/",
            "//m:a",
            "text()",
            "node()",
            "m:a/text()",
            "child::m:a",
            "@ID/..",
            "m:a[$v]",
            "m:a[position() = 1]",
            "m:a[last()]",
            "m:a[current()]",
            "m:a[matches(@x, '(')]",
            "m:a[not(@x, @y)]",
            "key('k', 'v')",
            "id('x')",
            "q:a",
            ".",
            "@ID/m:a",
        ] {
            assert!(parsed(complex).is_none(), "{complex}");
        }
    }
}
