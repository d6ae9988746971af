//! Questions about an expression, answered by walking its tree: which functions it
//! calls, which namespace prefixes and variables it uses, whether it depends on the
//! context position.

use super::ast::{Call, Expr, Func, Path, Start, Step, Test};

impl Expr {
    /// Calls `f` with this expression and every expression inside it (arguments,
    /// operands, filter expressions and predicates), parents before children.
    pub fn walk<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        f(self);
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Neg(a) => a.walk(f),
            Expr::Str(_) | Expr::Num(_) | Expr::Var(_) | Expr::Attr(_) => {}
            Expr::Call(c) => c.args.iter().for_each(|a| a.walk(f)),
            Expr::Path(p) => p.walk(f),
        }
    }

    /// As [`Expr::walk`], with mutable access (children first, then the parent).
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => {
                a.walk_mut(f);
                b.walk_mut(f);
            }
            Expr::Neg(a) => a.walk_mut(f),
            Expr::Str(_) | Expr::Num(_) | Expr::Var(_) | Expr::Attr(_) => {}
            Expr::Call(c) => c.args.iter_mut().for_each(|a| a.walk_mut(f)),
            Expr::Path(p) => {
                if let Start::Filter(e, preds) = &mut p.start {
                    e.walk_mut(f);
                    preds.iter_mut().for_each(|x| x.walk_mut(f));
                }
                for s in &mut p.steps {
                    s.preds.iter_mut().for_each(|x| x.walk_mut(f));
                }
            }
        }
        f(self);
    }

    /// The function calls, in the order they are written.
    pub fn calls(&self) -> Vec<&Call> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Call(c) = e {
                out.push(&**c);
            }
        });
        out
    }

    /// The namespace prefixes of name tests and function names (not of variables).
    pub fn prefixes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.walk(&mut |e| match e {
            Expr::Call(c) if !c.name.prefix.is_empty() => out.push(&c.name.prefix),
            Expr::Attr(n) if !n.name.prefix.is_empty() => out.push(&n.name.prefix),
            Expr::Path(p) => {
                for s in &p.steps {
                    if let Test::Name(n) | Test::AnyIn(n) = &s.test {
                        if !n.name.prefix.is_empty() {
                            out.push(&n.name.prefix);
                        }
                    }
                }
            }
            _ => {}
        });
        out
    }

    /// The names of the variables read, each once, in the order first read.
    pub fn variables(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Var(v) = e {
                if !out.contains(&v.name.as_str()) {
                    out.push(&v.name);
                }
            }
        });
        out
    }

    /// The variables read with their slots (see [`Expr::bind`](super::Expr::bind)).
    pub fn variable_slots(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Var(v) = e {
                if !out.iter().any(|(n, _)| *n == v.name) {
                    out.push((v.name.clone(), v.slot));
                }
            }
        });
        out
    }

    /// Whether the expression, as a predicate, is a plain truth test: it can never be a
    /// number and never asks for the position or size.
    pub fn positionless(&self) -> bool {
        self.boolean_typed() && !self.uses_position()
    }

    /// Whether the value is never a number (so that as a predicate it is a truth test).
    pub fn boolean_typed(&self) -> bool {
        match self {
            Expr::Or(..) | Expr::And(..) | Expr::Cmp(..) | Expr::Path(_) | Expr::Union(..) => true,
            Expr::Str(_) | Expr::Attr(_) => true,
            Expr::Call(c) => matches!(
                c.func,
                Some(
                    Func::Not
                        | Func::True
                        | Func::False
                        | Func::Boolean
                        | Func::StartsWith
                        | Func::Contains
                        | Func::String
                        | Func::NormalizeSpace
                        | Func::Concat
                )
            ),
            _ => false,
        }
    }

    /// Whether the value depends on the context position or size.
    pub fn uses_position(&self) -> bool {
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => a.uses_position() || b.uses_position(),
            Expr::Neg(a) => a.uses_position(),
            Expr::Str(_) | Expr::Num(_) | Expr::Var(_) | Expr::Attr(_) => false,
            Expr::Call(c) => {
                let by_name = match &c.func {
                    Some(f) => matches!(f, Func::Last | Func::Position),
                    None => {
                        c.name.prefix.is_empty() && matches!(&*c.name.local, "last" | "position")
                    }
                };
                by_name || c.args.iter().any(Expr::uses_position)
            }
            // A path's own predicates have their own context.
            Expr::Path(path) => match &path.start {
                Start::Filter(e, _) => e.uses_position(),
                _ => false,
            },
        }
    }
}

impl Path {
    fn walk<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        if let Start::Filter(e, preds) = &self.start {
            e.walk(f);
            preds.iter().for_each(|p| p.walk(f));
        }
        for s in &self.steps {
            s.preds.iter().for_each(|p| p.walk(f));
        }
    }
}

impl Step {
    /// Whether this is `descendant-or-self::node()` without predicates (`//`).
    pub fn is_descendant_or_self_node(&self) -> bool {
        *self == Step::descendant_or_self()
    }
}

#[cfg(test)]
mod tests {
    use crate::xpath::parse;

    #[test]
    fn calls_prefixes_and_variables_come_from_the_tree() {
        let e = parse(
            "count(mets:file) > 0 and fn:matches(@x:a, '^f(') or $v:w = 'a:b' and node() and $v:w",
        )
        .unwrap();
        let calls: Vec<String> = e.calls().iter().map(|c| c.name.to_string()).collect();
        assert_eq!(calls, ["count", "fn:matches"]);
        assert_eq!(e.prefixes(), ["mets", "fn", "x"]);
        assert_eq!(e.variables(), ["v:w"]);
        let e = parse("a div (b) mod (c) | child::node() | p:*").unwrap();
        assert!(e.calls().is_empty());
        assert_eq!(e.prefixes(), ["p"]);
    }

    #[test]
    fn position_dependence_is_seen_through_arguments_not_into_predicates() {
        assert!(parse("position() = 1").unwrap().uses_position());
        assert!(parse("concat(last(), 'x')").unwrap().uses_position());
        assert!(!parse("a[position() = 1]").unwrap().uses_position());
    }
}
