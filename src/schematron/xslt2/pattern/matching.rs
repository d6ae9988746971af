//! Matching a node against a pattern, from the last step upwards.

use super::{Axis, Branch, Head, Pred, Step};
use crate::schematron::xslt2::run::Run;
use crate::xml::node::{NodeKind, NodeRef};
use crate::xpath::v2::{Atomic, DynError, Env, Expr2, Item};

impl Branch {
    pub(super) fn matches<'d>(
        &self,
        env: &Run<'d, '_>,
        node: NodeRef<'d>,
    ) -> Result<bool, DynError> {
        if self.steps.is_empty() {
            return match &self.head {
                Head::Root => Ok(node.kind() == NodeKind::Document),
                Head::Relative => Ok(false),
                Head::Key { .. } => self.head_matches(env, node),
            };
        }
        self.step_matches(env, self.steps.len() - 1, node)
    }

    /// Whether `node` is selected by the path up to and including step `i`.
    fn step_matches<'d>(
        &self,
        env: &Run<'d, '_>,
        i: usize,
        node: NodeRef<'d>,
    ) -> Result<bool, DynError> {
        let (descendant, step) = &self.steps[i];
        if !step.test(node) {
            return Ok(false);
        }
        // An ancestor step is tested on the same node for each of its descendants: its
        // predicates' truth is kept for the document.
        let holds = if i + 1 < self.steps.len() {
            env.remembered(step as *const Step as usize, node, || {
                preds_hold(env, step, node)
            })?
        } else {
            preds_hold(env, step, node)?
        };
        if !holds {
            return Ok(false);
        }
        let parent = node.parent();
        let previous = |env: &Run<'d, '_>, n: NodeRef<'d>| -> Result<bool, DynError> {
            if i == 0 {
                self.head_matches(env, n)
            } else {
                self.step_matches(env, i - 1, n)
            }
        };
        if i == 0 && matches!(self.head, Head::Relative) && !descendant {
            // A relative pattern: the step's axis from any node.
            return Ok(match step.axis {
                Axis::Child | Axis::Attribute => parent.is_some(),
                _ => true,
            });
        }
        // The nodes from which the step (with its separator) reaches `node`.
        let first: Option<NodeRef<'d>> = match step.axis {
            Axis::Itself | Axis::DescendantOrSelf => Some(node),
            Axis::Child | Axis::Attribute | Axis::Descendant => parent,
        };
        let climb = *descendant || matches!(step.axis, Axis::Descendant | Axis::DescendantOrSelf);
        let mut candidate = first;
        while let Some(c) = candidate {
            if previous(env, c)? {
                return Ok(true);
            }
            if !climb {
                break;
            }
            candidate = c.parent();
        }
        Ok(false)
    }

    fn head_matches<'d>(&self, env: &Run<'d, '_>, node: NodeRef<'d>) -> Result<bool, DynError> {
        match &self.head {
            Head::Relative => Ok(true),
            Head::Root => Ok(node.kind() == NodeKind::Document),
            Head::Key {
                key,
                value,
                constant,
                preds,
            } => {
                let lookup = |ctx: NodeRef<'d>| -> Result<Vec<Item<'d>>, DynError> {
                    let values: Vec<Atomic> =
                        crate::xpath::v2::atomize(&value.eval(env, &Item::Node(ctx))?);
                    env.key(*key, &values, Some(ctx))
                };
                let nodes = if *constant {
                    env.key_head(&**value as *const Expr2 as usize, || lookup(node))?
                } else {
                    std::rc::Rc::new(lookup(node)?)
                };
                let Some(position) = nodes.iter().position(|n| *n == Item::Node(node)) else {
                    return Ok(false);
                };
                for p in preds {
                    if !p.holds_with(env, node, || Ok((position + 1, nodes.len())))? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }
}

/// Whether every predicate of `step` holds for `node`; a numeric predicate compares with
/// the node's position among its siblings that pass the test and the predicates before.
fn preds_hold<'d>(env: &Run<'d, '_>, step: &Step, node: NodeRef<'d>) -> Result<bool, DynError> {
    for (j, p) in step.preds.iter().enumerate() {
        if let (0, Some(k), Axis::Child) = (j, p.index, step.axis) {
            // `[k]` first: the node is the k-th when k - 1 siblings before it pass the test.
            let before = std::iter::successors(node.prev_sibling(), NodeRef::prev_sibling)
                .filter(|s| step.test(*s))
                .take(k)
                .count();
            if before + 1 != k {
                return Ok(false);
            }
            continue;
        }
        let position = || sibling_position(env, step, j, node);
        if !p.holds_with(env, node, position)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn sibling_position<'d>(
    env: &Run<'d, '_>,
    step: &Step,
    before: usize,
    node: NodeRef<'d>,
) -> Result<(usize, usize), DynError> {
    let Some(parent) = node.parent() else {
        return Ok((1, 1));
    };
    let siblings: Vec<NodeRef<'d>> = match step.axis {
        Axis::Attribute => parent.attributes().collect(),
        Axis::Child => parent.children().collect(),
        _ => {
            return Err(DynError::new(
                "XTDE0640",
                "a positional predicate in a pattern is only supported on the child and \
                 attribute axes",
            ))
        }
    };
    let mut position = 0;
    let mut size = 0;
    'sibling: for s in siblings {
        if !step.test(s) {
            continue;
        }
        for p in &step.preds[..before] {
            // Earlier predicates are taken as truth values here; positional ones before a
            // second positional predicate are not supported.
            if !p.expr.ebv(env, &Item::Node(s))? {
                continue 'sibling;
            }
        }
        size += 1;
        if s == node {
            position = size;
        }
    }
    Ok((position, size))
}

impl Pred {
    /// The predicate's value at `node`: a number compares with the position, anything
    /// else is taken as its effective boolean value.
    fn holds_with<'d>(
        &self,
        env: &Run<'d, '_>,
        node: NodeRef<'d>,
        position: impl FnOnce() -> Result<(usize, usize), DynError>,
    ) -> Result<bool, DynError> {
        let value = self.expr.eval(env, &Item::Node(node))?;
        if let [Item::Atom(a)] = value.as_slice() {
            let number = match a {
                Atomic::Int(i) => Some(*i as f64),
                Atomic::Dec(d) | Atomic::Dbl(d) => Some(*d),
                _ => None,
            };
            if let Some(number) = number {
                return Ok(position()?.0 as f64 == number);
            }
        }
        crate::schematron::xslt2::run::ebv(&value)
    }
}
