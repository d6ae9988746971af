//! The evaluator: runs a bound expression (see `bind.rs`) over libxml2's tree.
//!
//! A rule set evaluates thousands of small expressions per document, and libxml2's
//! setup of each evaluation costs more than the expression itself, so the common
//! shapes take shortcuts: a comparison of an attribute with a literal reads the
//! attribute in place, a path as a truth value stops at the first node, a step whose
//! last predicate is a literal position stops at that node. Every answer is `None` —
//! "ask libxml2" — where a value's conversion is not certain to be libxml2's (see
//! `value.rs`), a variable is unbound, or an error occurs, so that libxml2 reports it
//! in its own words.

use super::ast::{ArithOp, CmpOp, Expr, Path, Start, Step};
use super::axes::{attribute, axis_nodes, axis_visit};
use super::functions::call;
use super::value::{compare, node_string, sort_unique, to_bool, to_number, to_string};
use crate::xml::node::{NodeKind, NodeRef};
use crate::xml::xpath::Value;
use std::borrow::Cow;

/// What an expression needs from its surroundings.
pub trait Env<'d> {
    /// The value bound to the variable in `slot`.
    fn var(&self, slot: usize) -> Option<&Value<'d>>;
    /// A function the host answers (`matches`, `key`, `current`, …), by local name.
    fn call(&self, name: &str, args: Vec<Value<'d>>) -> Result<Value<'d>, String>;
}

/// The evaluation context: node, position and size.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'d> {
    pub node: NodeRef<'d>,
    pub pos: usize,
    pub size: usize,
}

impl<'d> Ctx<'d> {
    fn at(node: NodeRef<'d>) -> Ctx<'d> {
        Ctx {
            node,
            pos: 1,
            size: 1,
        }
    }
}

impl Expr {
    /// The value of the expression at `node`, or `None` to leave it to libxml2.
    pub fn eval<'d>(&self, env: &dyn Env<'d>, node: NodeRef<'d>) -> Option<Value<'d>> {
        self.value(env, Ctx::at(node))
    }

    /// The effective boolean value at `node`.
    pub fn truth<'d>(&self, env: &dyn Env<'d>, node: NodeRef<'d>) -> Option<bool> {
        self.boolean(env, Ctx::at(node))
    }

    /// The expression as a predicate at `node` (position and size 1): its truth, or
    /// `Some(None)` when its value is a number (a position test).
    pub fn predicate<'d>(&self, env: &dyn Env<'d>, node: NodeRef<'d>) -> Option<Option<bool>> {
        if self.boolean_typed() {
            return Some(Some(self.boolean(env, Ctx::at(node))?));
        }
        Some(match self.value(env, Ctx::at(node))? {
            Value::Num(_) => None,
            other => Some(to_bool(&other)),
        })
    }

    pub(crate) fn boolean<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<bool> {
        match self {
            Expr::Or(a, b) => Some(a.boolean(env, ctx)? || b.boolean(env, ctx)?),
            Expr::And(a, b) => Some(a.boolean(env, ctx)? && b.boolean(env, ctx)?),
            Expr::Cmp(op, a, b) => self.comparison(*op, a, b, env, ctx),
            Expr::Path(path) => path.exists(env, ctx),
            Expr::Attr(n) => Some(attribute(ctx.node, &n.uri, &n.name.local).is_some()),
            _ => Some(to_bool(&self.value(env, ctx)?)),
        }
    }

    fn comparison<'d>(
        &self,
        op: CmpOp,
        a: &Expr,
        b: &Expr,
        env: &dyn Env<'d>,
        ctx: Ctx<'d>,
    ) -> Option<bool> {
        // The common `@x = 'literal'` and `$v != ''` without building values.
        if let (CmpOp::Eq | CmpOp::Ne, Expr::Str(lit)) = (op, b) {
            let equal = match a {
                // An absent attribute is an empty node-set: no comparison is true.
                Expr::Attr(n) => match attribute(ctx.node, &n.uri, &n.name.local) {
                    Some(n) => node_string(&n) == lit.as_str(),
                    None => return Some(false),
                },
                _ => match a.borrowed_string(env) {
                    Some(s) => s.as_ref() == lit,
                    None => return compare(op, &a.value(env, ctx)?, &b.value(env, ctx)?),
                },
            };
            return Some(equal == (op == CmpOp::Eq));
        }
        compare(op, &a.value(env, ctx)?, &b.value(env, ctx)?)
    }

    /// The string of a variable or literal holding a string, without copying it.
    pub(crate) fn borrowed_string<'e, 'd: 'e>(
        &'e self,
        env: &'e dyn Env<'d>,
    ) -> Option<Cow<'e, str>> {
        match self {
            Expr::Str(s) => Some(Cow::Borrowed(s)),
            Expr::Var(v) => match env.var(v.slot)? {
                Value::Str(s) => Some(Cow::Borrowed(s)),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn string<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<String> {
        to_string(self.value(env, ctx)?)
    }

    pub(crate) fn number<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<f64> {
        to_number(&self.value(env, ctx)?)
    }

    pub(crate) fn nodes<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Vec<NodeRef<'d>>> {
        match self.value(env, ctx)? {
            Value::Nodes(n) => Some(n),
            _ => None,
        }
    }

    pub(crate) fn value<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Value<'d>> {
        Some(match self {
            Expr::Or(..) | Expr::And(..) | Expr::Cmp(..) => Value::Bool(self.boolean(env, ctx)?),
            Expr::Arith(op, a, b) => {
                let (x, y) = (a.number(env, ctx)?, b.number(env, ctx)?);
                Value::Num(match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    ArithOp::Mul => x * y,
                    ArithOp::Div => x / y,
                    ArithOp::Mod => x % y,
                })
            }
            Expr::Neg(a) => Value::Num(-a.number(env, ctx)?),
            Expr::Union(a, b) => {
                let mut nodes = a.nodes(env, ctx)?;
                nodes.extend(b.nodes(env, ctx)?);
                sort_unique(&mut nodes);
                Value::Nodes(nodes)
            }
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Num(n) => Value::Num(*n),
            Expr::Var(v) => env.var(v.slot)?.clone(),
            Expr::Call(c) => call(c.func.as_ref()?, &c.args, env, ctx)?,
            Expr::Path(path) => Value::Nodes(path.select(env, ctx)?),
            Expr::Attr(n) => Value::Nodes(
                attribute(ctx.node, &n.uri, &n.name.local)
                    .into_iter()
                    .collect(),
            ),
        })
    }
}

impl Path {
    fn select<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Vec<NodeRef<'d>>> {
        let nodes = self.start_nodes(env, ctx)?;
        steps(nodes, &self.steps, env)
    }

    /// Whether the path selects any node, stopping at the first one found where the last
    /// step's predicates allow it.
    fn exists<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<bool> {
        let Some((last, before)) = self.steps.split_last() else {
            return Some(!self.start_nodes(env, ctx)?.is_empty());
        };
        if !last.preds.iter().all(Expr::positionless) {
            return Some(!self.select(env, ctx)?.is_empty());
        }
        let nodes = steps(self.start_nodes(env, ctx)?, before, env)?;
        let mut failed = false;
        for n in nodes {
            let finished = axis_visit(last.axis, &last.test, n, &mut |c| {
                let ctx = Ctx::at(c);
                for p in &last.preds {
                    match p.boolean(env, ctx) {
                        Some(true) => {}
                        Some(false) => return true,
                        None => {
                            failed = true;
                            return false;
                        }
                    }
                }
                false
            });
            if failed {
                return None;
            }
            if !finished {
                return Some(true);
            }
        }
        Some(false)
    }

    fn start_nodes<'d>(&self, env: &dyn Env<'d>, ctx: Ctx<'d>) -> Option<Vec<NodeRef<'d>>> {
        Some(match &self.start {
            Start::Context => vec![ctx.node],
            Start::Root => {
                let root = std::iter::successors(Some(ctx.node), NodeRef::parent)
                    .last()
                    .filter(|n| n.kind() == NodeKind::Document)?;
                vec![root]
            }
            Start::Filter(e, preds) => {
                let mut nodes = e.nodes(env, ctx)?;
                for p in preds {
                    nodes = filter(nodes, p, env)?;
                }
                nodes
            }
        })
    }
}

/// Applies location steps to a node-set in document order.
fn steps<'d>(
    mut nodes: Vec<NodeRef<'d>>,
    steps: &[Step],
    env: &dyn Env<'d>,
) -> Option<Vec<NodeRef<'d>>> {
    for step in steps {
        let mut out = Vec::new();
        for &n in &nodes {
            if let Some(k) = step.nth() {
                out.extend(step.nth_node(k, n, env)?);
                continue;
            }
            let mut found = Vec::new();
            axis_nodes(step.axis, &step.test, n, &mut found);
            for p in &step.preds {
                found = filter(found, p, env)?;
            }
            if step.axis.reverse() {
                found.reverse();
            }
            out.extend(found);
        }
        if nodes.len() > 1 {
            sort_unique(&mut out);
        }
        nodes = out;
    }
    Some(nodes)
}

impl Step {
    /// `k` when the last predicate is the literal position `k` and the others are plain
    /// truth tests (`preceding-sibling::div[@TYPE='page'][1]`): the step then stops at
    /// the k-th node instead of collecting the whole axis.
    fn nth(&self) -> Option<usize> {
        let (last, others) = self.preds.split_last()?;
        match last {
            Expr::Num(k)
                if *k >= 1.0 && k.fract() == 0.0 && others.iter().all(Expr::positionless) =>
            {
                Some(*k as usize)
            }
            _ => None,
        }
    }

    fn nth_node<'d>(
        &self,
        k: usize,
        node: NodeRef<'d>,
        env: &dyn Env<'d>,
    ) -> Option<Option<NodeRef<'d>>> {
        let truth_tests = &self.preds[..self.preds.len() - 1];
        let mut seen = 0;
        let mut found = None;
        let mut failed = false;
        axis_visit(self.axis, &self.test, node, &mut |c| {
            let ctx = Ctx::at(c);
            for p in truth_tests {
                match p.boolean(env, ctx) {
                    Some(true) => {}
                    Some(false) => return true,
                    None => {
                        failed = true;
                        return false;
                    }
                }
            }
            seen += 1;
            if seen == k {
                found = Some(c);
                return false;
            }
            true
        });
        (!failed).then_some(found)
    }
}

/// Applies a predicate to nodes in the order of their axis (positions count from 1).
fn filter<'d>(nodes: Vec<NodeRef<'d>>, pred: &Expr, env: &dyn Env<'d>) -> Option<Vec<NodeRef<'d>>> {
    let size = nodes.len();
    let mut out = Vec::with_capacity(size);
    for (i, node) in nodes.into_iter().enumerate() {
        let ctx = Ctx {
            node,
            pos: i + 1,
            size,
        };
        let keep = match pred {
            Expr::Num(n) => *n == (i + 1) as f64,
            p if p.boolean_typed() => p.boolean(env, ctx)?,
            p => match p.value(env, ctx)? {
                Value::Num(n) => n == (i + 1) as f64,
                v => to_bool(&v),
            },
        };
        if keep {
            out.push(node);
        }
    }
    Some(out)
}
