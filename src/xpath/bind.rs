//! Binding: resolves the names of a parsed expression — prefixes to namespace URIs,
//! function names to the functions that answer them, variables to slots — so that the
//! evaluator can run it, and rewrites the tree into faster equivalent forms. What the
//! evaluator does not implement (the `following`, `preceding` and `namespace` axes,
//! processing-instruction tests, core functions such as `id()` and `round()`) makes
//! binding fail with the reason; the caller then leaves the expression to libxml2.

use super::ast::{Axis, Expr, Func, Path, Start, Step, Test};

/// What binding needs to know about the expression's surroundings.
pub struct Bindings<'a> {
    /// The namespace URI of a prefix.
    pub namespace: &'a dyn Fn(&str) -> Option<String>,
    /// The slot of a variable.
    pub variable: &'a dyn Fn(&str) -> Option<usize>,
    /// Whether the host answers the function `local` in namespace `uri` ("" when the
    /// call has no prefix).
    pub host_function: &'a dyn Fn(&str, &str) -> bool,
}

impl Expr {
    /// Binds every name of the expression; `Err` says what the evaluator cannot run.
    pub fn bind(&mut self, b: &Bindings<'_>) -> Result<(), String> {
        let mut failure = None;
        self.walk_mut(&mut |e| {
            if failure.is_none() {
                if let Err(why) = bind_one(e, b) {
                    failure = Some(why);
                }
            }
        });
        match failure {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// Rewrites `@name` into [`Expr::Attr`] and `//name` (descendant-or-self::node()/
    /// child::name) into one descendant step where the predicates cannot depend on the
    /// position. Call after [`Expr::bind`].
    pub fn optimise(&mut self) {
        self.walk_mut(&mut |e| {
            let Expr::Path(path) = e else { return };
            if let Some(attr) = single_attribute(path) {
                *e = attr;
                return;
            }
            let mut i = 0;
            while i + 1 < path.steps.len() {
                let fusable = path.steps[i].is_descendant_or_self_node()
                    && path.steps[i + 1].axis == Axis::Child
                    && path.steps[i + 1].preds.iter().all(Expr::positionless);
                if fusable {
                    path.steps.remove(i);
                    path.steps[i].axis = Axis::Descendant;
                }
                i += 1;
            }
        });
    }
}

/// `@name` of the context node, as [`Expr::Attr`].
fn single_attribute(path: &Path) -> Option<Expr> {
    match (&path.start, path.steps.as_slice()) {
        (
            Start::Context,
            [Step {
                axis: Axis::Attribute,
                test: Test::Name(n),
                preds,
            }],
        ) if preds.is_empty() => Some(Expr::Attr(n.clone())),
        _ => None,
    }
}

fn bind_one(e: &mut Expr, b: &Bindings<'_>) -> Result<(), String> {
    match e {
        Expr::Var(v) => {
            v.slot =
                (b.variable)(&v.name).ok_or_else(|| format!("unbound variable ${}", v.name))?;
        }
        Expr::Call(c) => {
            let uri = if c.name.prefix.is_empty() {
                String::new()
            } else {
                (b.namespace)(&c.name.prefix)
                    .ok_or_else(|| format!("undeclared prefix {}", c.name.prefix))?
            };
            let core = if uri.is_empty() {
                core_function(&c.name.local, c.args.len())
            } else {
                None
            };
            c.func = match core {
                Some(f) => Some(f),
                None if (b.host_function)(&uri, &c.name.local) => {
                    Some(Func::Host(c.name.local.clone()))
                }
                None => return Err(format!("function {}() is not evaluated natively", c.name)),
            };
        }
        Expr::Attr(n) => bind_name(&mut n.uri, &n.name.prefix, b)?,
        Expr::Path(p) => {
            for s in &mut p.steps {
                if matches!(s.axis, Axis::Following | Axis::Preceding | Axis::Namespace) {
                    return Err(format!(
                        "the {} axis is not evaluated natively",
                        s.axis.name()
                    ));
                }
                match &mut s.test {
                    Test::Name(n) | Test::AnyIn(n) => bind_name(&mut n.uri, &n.name.prefix, b)?,
                    Test::Pi(_) => {
                        return Err("processing-instruction() is not evaluated natively".into())
                    }
                    Test::Any | Test::Text | Test::Node | Test::Comment => {}
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn bind_name(uri: &mut String, prefix: &str, b: &Bindings<'_>) -> Result<(), String> {
    *uri = if prefix.is_empty() {
        String::new()
    } else {
        (b.namespace)(prefix).ok_or_else(|| format!("undeclared prefix {prefix}"))?
    };
    Ok(())
}

/// The core function `name` called with `n` arguments, where the evaluator has it.
fn core_function(name: &str, n: usize) -> Option<Func> {
    let arity = |min: usize, max: usize| (min..=max).contains(&n);
    Some(match name {
        "last" if arity(0, 0) => Func::Last,
        "position" if arity(0, 0) => Func::Position,
        "count" if arity(1, 1) => Func::Count,
        "local-name" if arity(0, 1) => Func::LocalName,
        "name" if arity(0, 1) => Func::Name,
        "string" if arity(0, 1) => Func::String,
        "concat" if n >= 2 => Func::Concat,
        "starts-with" if arity(2, 2) => Func::StartsWith,
        "contains" if arity(2, 2) => Func::Contains,
        "substring-before" if arity(2, 2) => Func::SubstringBefore,
        "substring-after" if arity(2, 2) => Func::SubstringAfter,
        "substring" if arity(2, 3) => Func::Substring,
        "string-length" if arity(0, 1) => Func::StringLength,
        "normalize-space" if arity(0, 1) => Func::NormalizeSpace,
        "translate" if arity(3, 3) => Func::Translate,
        "not" if arity(1, 1) => Func::Not,
        "true" if arity(0, 0) => Func::True,
        "false" if arity(0, 0) => Func::False,
        "boolean" if arity(1, 1) => Func::Boolean,
        "number" if arity(0, 1) => Func::Number,
        "sum" if arity(1, 1) => Func::Sum,
        "floor" if arity(1, 1) => Func::Floor,
        "ceiling" if arity(1, 1) => Func::Ceiling,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xpath::parse;

    fn bound(src: &str) -> Result<Expr, String> {
        let ns = |p: &str| (p == "m").then(|| "urn:m".to_string());
        let var = |v: &str| (v == "v").then_some(3);
        let host = |uri: &str, local: &str| uri.is_empty() && local == "matches";
        let mut e = parse(src).unwrap();
        e.bind(&Bindings {
            namespace: &ns,
            variable: &var,
            host_function: &host,
        })?;
        e.optimise();
        Ok(e)
    }

    #[test]
    fn names_resolve_and_what_the_evaluator_lacks_is_named() {
        let e = bound("m:a[@m:b = $v] and matches(., 'x')").unwrap();
        assert_eq!(e.variable_slots(), [("v".to_string(), 3)]);
        assert!(bound("following::m:a").unwrap_err().contains("following"));
        assert!(bound("round(1.5)").unwrap_err().contains("round()"));
        assert!(bound("$w").unwrap_err().contains("$w"));
        assert!(bound("q:a").unwrap_err().contains("q"));
        assert!(bound("processing-instruction()").is_err());
    }

    #[test]
    fn attributes_and_descendant_steps_are_rewritten() {
        assert!(matches!(bound("@m:b").unwrap(), Expr::Attr(n) if n.uri == "urn:m"));
        let Expr::Path(p) = bound("//m:a[@b]").unwrap() else {
            panic!("a path")
        };
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].axis, Axis::Descendant);
        // A position predicate keeps `//` as two steps.
        let Expr::Path(p) = bound("//m:a[1]").unwrap() else {
            panic!("a path")
        };
        assert_eq!(p.steps.len(), 2);
    }
}
