//! Binding: resolves the names of a parsed expression against a [`Scope`] — namespace
//! prefixes of name tests, function names and arities, variables (range variables of
//! `for`/`some`/`every` first, then the host's), key names — compiles regular
//! expressions given as literals, and notes what the evaluator may shortcut (predicates
//! that never select by position, `//name` as one descendant step). Everything the
//! engine does not implement is refused here, by name.

use super::ast::{
    AtomType, Call, Fun, Kind, NodeTest, Path, Pred, PredKind, Preds, Slot, Step, VarRef, X,
};
use super::{Atomic, Scope};
use crate::schematron::translate_regex;
use crate::xpath::{Axis, NameTest};
use regex::Regex;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Resolves names in `x`; returns the host variable slots it reads.
pub(super) fn bind(x: &mut X, scope: &Scope) -> Result<Vec<usize>, String> {
    let mut b = Binder {
        scope,
        locals: Vec::new(),
        vars: Vec::new(),
    };
    b.expr(x)?;
    b.vars.sort_unstable();
    b.vars.dedup();
    Ok(b.vars)
}

struct Binder<'a, 's> {
    scope: &'a Scope<'s>,
    locals: Vec<String>,
    vars: Vec<usize>,
}

/// The function named `local` (in the functions namespace) and its arities.
fn lookup(local: &str) -> Option<(Fun, usize, usize)> {
    use Fun::*;
    Some(match local {
        "position" => (Position, 0, 0),
        "last" => (Last, 0, 0),
        "count" => (Count, 1, 1),
        "exists" => (Exists, 1, 1),
        "empty" => (Empty, 1, 1),
        "not" => (Not, 1, 1),
        "true" => (True, 0, 0),
        "false" => (False, 0, 0),
        "boolean" => (Boolean, 1, 1),
        "string" => (String, 0, 1),
        "data" => (Data, 1, 1),
        "number" => (Number, 0, 1),
        "concat" => (Concat, 2, usize::MAX),
        "contains" => (Contains, 2, 2),
        "starts-with" => (StartsWith, 2, 2),
        "ends-with" => (EndsWith, 2, 2),
        "substring-before" => (SubstringBefore, 2, 2),
        "substring-after" => (SubstringAfter, 2, 2),
        "substring" => (Substring, 2, 3),
        "string-length" => (StringLength, 0, 1),
        "normalize-space" => (NormalizeSpace, 0, 1),
        "translate" => (Translate, 3, 3),
        "upper-case" => (UpperCase, 1, 1),
        "lower-case" => (LowerCase, 1, 1),
        "matches" => (Matches, 2, 3),
        "replace" => (Replace, 3, 4),
        "tokenize" => (Tokenize, 1, 3),
        "string-join" => (StringJoin, 1, 2),
        "distinct-values" => (DistinctValues, 1, 1),
        "index-of" => (IndexOf, 2, 2),
        "subsequence" => (Subsequence, 2, 3),
        "reverse" => (Reverse, 1, 1),
        "insert-before" => (InsertBefore, 3, 3),
        "remove" => (Remove, 2, 2),
        "exactly-one" => (ExactlyOne, 1, 1),
        "zero-or-one" => (ZeroOrOne, 1, 1),
        "one-or-more" => (OneOrMore, 1, 1),
        "sum" => (Sum, 1, 2),
        "avg" => (Avg, 1, 1),
        "max" => (Max, 1, 1),
        "min" => (Min, 1, 1),
        "floor" => (Floor, 1, 1),
        "ceiling" => (Ceiling, 1, 1),
        "round" => (Round, 1, 1),
        "abs" => (Abs, 1, 1),
        "current-date" => (CurrentDate, 0, 0),
        "root" => (Root, 0, 1),
        "name" => (Name, 0, 1),
        "local-name" => (LocalName, 0, 1),
        "namespace-uri" => (NamespaceUri, 0, 1),
        "key" => (Key, 2, 3),
        "current" => (Current, 0, 0),
        "error" => (Error, 0, 3),
        _ => return None,
    })
}

/// Whether a predicate's value can never be a number, so that its effective boolean
/// value decides.
fn boolean_shaped(x: &X) -> bool {
    use Fun::*;
    match x {
        X::Or(..)
        | X::And(..)
        | X::General(..)
        | X::Value(..)
        | X::NodeCmp(..)
        | X::Quantified(..)
        | X::InstanceOf(..)
        | X::Castable(..)
        | X::Set(..)
        | X::Lit(Atomic::Str(_)) => true,
        X::Path(p) => matches!(p.steps.last(), None | Some(Step::Axis(..))),
        X::Call(c) => matches!(
            c.fun,
            Some(
                Not | True
                    | False
                    | Boolean
                    | Exists
                    | Empty
                    | Contains
                    | StartsWith
                    | EndsWith
                    | Matches
                    | Key
                    | Root
                    | Current
            )
        ),
        _ => false,
    }
}

/// Whether a predicate depends on the position of the candidate.
pub(super) fn positional(p: &Pred) -> bool {
    p.kind != PredKind::Boolean || p.x.calls(&[Fun::Position, Fun::Last])
}

impl Binder<'_, '_> {
    fn uri(&self, prefix: &str) -> Result<String, String> {
        if prefix.is_empty() {
            return Ok(String::new());
        }
        if let Some((_, uri)) = self.scope.namespaces.iter().find(|(p, _)| p == prefix) {
            return Ok(uri.clone());
        }
        if prefix == "xml" {
            return Ok(XML_NS.to_string());
        }
        Err(format!("unknown namespace prefix '{prefix}'"))
    }

    fn name_test(&self, t: &mut NameTest) -> Result<(), String> {
        t.uri = self.uri(&t.name.prefix)?;
        Ok(())
    }

    fn var(&mut self, v: &mut VarRef) -> Result<(), String> {
        if let Some(depth) = self.locals.iter().rposition(|l| *l == v.name) {
            v.slot = Slot::Local(depth);
            return Ok(());
        }
        match (self.scope.var)(&v.name) {
            Some(slot) => {
                v.slot = Slot::Host(slot);
                self.vars.push(slot);
                Ok(())
            }
            None => Err(format!("unknown variable ${}", v.name)),
        }
    }

    fn preds(&mut self, p: &mut Preds) -> Result<(), String> {
        for pred in &mut p.list {
            self.expr(&mut pred.x)?;
            pred.kind = match &pred.x {
                X::Lit(Atomic::Int(k)) => PredKind::Index(*k),
                x if boolean_shaped(x) => PredKind::Boolean,
                _ => PredKind::Any,
            };
        }
        p.stream = p
            .list
            .iter()
            .position(|p| p.x.calls(&[Fun::Last]))
            .unwrap_or(p.list.len());
        Ok(())
    }

    fn path(&mut self, p: &mut Path) -> Result<(), String> {
        for step in &mut p.steps {
            match step {
                Step::Axis(axis, test, preds) => {
                    if matches!(axis, Axis::Following | Axis::Preceding | Axis::Namespace) {
                        return Err(format!("the {} axis is not supported", axis.name()));
                    }
                    match test {
                        NodeTest::Name(t) | NodeTest::AnyIn(t) => self.name_test(t)?,
                        NodeTest::Any | NodeTest::Kind(_) => {}
                    }
                    self.preds(preds)?;
                }
                Step::Filter(x, preds) => {
                    self.expr(x)?;
                    self.preds(preds)?;
                }
            }
        }
        descendant_shortcut(&mut p.steps);
        Ok(())
    }

    fn expr(&mut self, x: &mut X) -> Result<(), String> {
        match x {
            X::Var(v) => self.var(v),
            X::Path(p) => self.path(p),
            X::Filter(primary, preds) => {
                self.expr(primary)?;
                self.preds(preds)
            }
            X::For(v, seq, body) | X::Quantified(_, v, seq, body) => {
                self.expr(seq)?;
                v.slot = Slot::Local(self.locals.len());
                self.locals.push(v.name.clone());
                let r = self.expr(body);
                self.locals.pop();
                r
            }
            X::Call(c) => self.call(c),
            _ => {
                let mut result = Ok(());
                x.children_mut(&mut |c| {
                    if result.is_ok() {
                        result = self.expr(c);
                    }
                });
                result
            }
        }
    }

    fn call(&mut self, c: &mut Call) -> Result<(), String> {
        for a in &mut c.args {
            self.expr(a)?;
        }
        let name = c.name.to_string();
        let (fun, min, max) = match c.name.prefix.as_str() {
            "" | "fn" => {
                lookup(&c.name.local).ok_or_else(|| format!("unknown function {name}()"))?
            }
            "xs" => match AtomType::from_local(&c.name.local) {
                Some(t) if t != AtomType::Any => (Fun::Construct(t), 1, 1),
                _ => return Err(format!("unknown constructor function {name}()")),
            },
            _ => return Err(format!("unknown function {name}()")),
        };
        let n = c.args.len();
        if n < min || n > max {
            return Err(format!("function {name}() does not take {n} arguments"));
        }
        c.fun = Some(fun);
        match fun {
            Fun::Key => {
                let X::Lit(Atomic::Str(key)) = &c.args[0] else {
                    return Err("the key name of key() must be a string literal".into());
                };
                c.key = (self.scope.key)(key).ok_or_else(|| format!("unknown key '{key}'"))?;
            }
            Fun::Matches | Fun::Replace | Fun::Tokenize => {
                let flags_at = if fun == Fun::Replace { 3 } else { 2 };
                let flags = match c.args.get(flags_at) {
                    None => Some(""),
                    Some(X::Lit(Atomic::Str(f))) => Some(f.as_str()),
                    Some(_) => None,
                };
                if let (Some(X::Lit(Atomic::Str(pattern))), Some(flags)) = (c.args.get(1), flags) {
                    // An invalid expression is FORX0002 when the call runs, as with
                    // Saxon; one the engine cannot translate is refused now.
                    match compile_regex(pattern, flags) {
                        Ok(re) => c.regex = Some(re),
                        Err(e) if e.message.contains("support") => return Err(e.message),
                        Err(_) => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Compiles an XML Schema regular expression (FORX0002 when it is not one).
pub(super) fn compile_regex(pattern: &str, flags: &str) -> Result<Regex, super::DynError> {
    let invalid = |why: String| {
        super::DynError::new(
            "FORX0002",
            format!("invalid regular expression '{pattern}': {why}"),
        )
    };
    let source = translate_regex(pattern, flags).map_err(invalid)?;
    Regex::new(&source).map_err(|e| invalid(e.to_string()))
}

/// `descendant-or-self::node()/child::t[p]` as `descendant::t[p]` where no predicate
/// depends on the position (`//a[1]` keeps its meaning: the first `a` of each parent).
fn descendant_shortcut(steps: &mut Vec<Step>) {
    let mut i = 0;
    while i + 1 < steps.len() {
        let joinable = matches!(
            &steps[i],
            Step::Axis(Axis::DescendantOrSelf, NodeTest::Kind(Kind::Node), p) if p.list.is_empty()
        ) && matches!(
            &steps[i + 1],
            Step::Axis(Axis::Child, _, p) if !p.list.iter().any(positional)
        );
        if joinable {
            steps.remove(i);
            if let Step::Axis(axis, _, _) = &mut steps[i] {
                *axis = Axis::Descendant;
            }
        }
        i += 1;
    }
}
