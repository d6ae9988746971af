//! Paths and predicates: steps along the axes of `crate::xpath`'s walker, predicates
//! tested candidate by candidate (stopping at `[k]` once the k-th is found) unless they
//! ask for `last()`, results in document order without duplicates, and the existence
//! test that effective boolean values of paths use, which stops at the first node.

use super::ast::{Fun, NodeTest, Path, Pred, PredKind, Preds, Step};
use super::eval::{ebv, ebv_of, eval, is_kind, Ev, Focus, R};
use super::{DynError, Item, Seq};
use crate::xml::node::{NodeKind, NodeRef};
use crate::xpath::axes::axis_visit;
use crate::xpath::{Axis, Test};

/// At most this many leading predicates are tested candidate by candidate.
const STREAMED: usize = 8;

fn test_node(test: &NodeTest, axis: Axis, n: NodeRef<'_>) -> bool {
    let principal = if axis == Axis::Attribute {
        NodeKind::Attribute
    } else {
        NodeKind::Element
    };
    match test {
        NodeTest::Name(t) => {
            n.kind() == principal && n.local_name_is(&t.name.local) && n.namespace_uri_is(&t.uri)
        }
        NodeTest::Any => n.kind() == principal,
        NodeTest::AnyIn(t) => n.kind() == principal && n.namespace_uri_is(&t.uri),
        NodeTest::Kind(k) => is_kind(*k, n),
    }
}

/// Whether a candidate at position `pos` passes predicate `p`.
fn pred_true<'d>(p: &Pred, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<bool> {
    match p.kind {
        PredKind::Index(k) => Ok(f.pos as i64 == k),
        PredKind::Boolean => ebv(&p.x, ev, f),
        PredKind::Any => {
            let v = eval(&p.x, ev, f)?;
            match v.as_slice() {
                [Item::Atom(a)] if a.is_numeric() => Ok(a.as_f64() == Some(f.pos as f64)),
                _ => ebv_of(&v),
            }
        }
    }
}

/// Whether a positional predicate `[k]` has had its k-th candidate, so that no later
/// candidate can pass.
fn exhausted(preds: &[Pred], counters: &[usize; STREAMED]) -> bool {
    preds
        .iter()
        .zip(counters)
        .any(|(p, &c)| matches!(p.kind, PredKind::Index(k) if c as i64 >= k))
}

/// Tests one candidate against the streamed predicates, counting positions.
fn candidate<'d>(
    preds: &[Pred],
    counters: &mut [usize; STREAMED],
    c: NodeRef<'d>,
    ev: &mut Ev<'_, 'd>,
) -> R<bool> {
    let it = Item::Node(c);
    for (j, p) in preds.iter().enumerate() {
        counters[j] += 1;
        let f = Focus {
            item: &it,
            pos: counters[j],
            size: 0,
        };
        if !pred_true(p, ev, f)? {
            return Ok(false);
        }
    }
    Ok(true)
}

type Visit<'v, 'a, 'd> = dyn FnMut(&mut Ev<'a, 'd>, NodeRef<'d>) -> R<bool> + 'v;

/// Calls `visit` with the nodes on `axis` from `node` that pass `test` and `preds`
/// (which must not call `last()`), in axis order, until it returns `false` or no later
/// node can pass.
fn stream_axis<'a, 'd>(
    axis: Axis,
    test: &NodeTest,
    preds: &[Pred],
    node: NodeRef<'d>,
    ev: &mut Ev<'a, 'd>,
    visit: &mut Visit<'_, 'a, 'd>,
) -> R<()> {
    let mut counters = [0usize; STREAMED];
    let mut err = None;
    axis_visit(axis, &Test::Node, node, &mut |c| {
        if !test_node(test, axis, c) {
            return true;
        }
        let go = match candidate(preds, &mut counters, c, ev) {
            Ok(true) => visit(ev, c),
            Ok(false) => Ok(true),
            Err(e) => Err(e),
        };
        match go {
            Ok(go) => go && !exhausted(preds, &counters),
            Err(e) => {
                err = Some(e);
                false
            }
        }
    });
    err.map_or(Ok(()), Err)
}

/// Appends the nodes of step `axis::test[preds]` from `node` to `out`, in document order.
fn axis_step<'d>(
    axis: Axis,
    test: &NodeTest,
    preds: &Preds,
    node: NodeRef<'d>,
    ev: &mut Ev<'_, 'd>,
    out: &mut Seq<'d>,
) -> R<()> {
    let start = out.len();
    let streamed = preds.stream.min(STREAMED);
    stream_axis(
        axis,
        test,
        &preds.list[..streamed],
        node,
        ev,
        &mut |_, c| {
            out.push(Item::Node(c));
            Ok(true)
        },
    )?;
    if streamed < preds.list.len() {
        let tail = out.split_off(start);
        let rest = filter_list(tail, &preds.list[streamed..], ev)?;
        out.extend(rest);
    }
    if axis.reverse() {
        out[start..].reverse();
    }
    Ok(())
}

fn filter_list<'d>(mut items: Seq<'d>, preds: &[Pred], ev: &mut Ev<'_, 'd>) -> R<Seq<'d>> {
    for p in preds {
        if items.is_empty() {
            break;
        }
        if let PredKind::Index(k) = p.kind {
            items = if k >= 1 && (k as usize) <= items.len() {
                vec![items.swap_remove(k as usize - 1)]
            } else {
                Vec::new()
            };
            continue;
        }
        let size = items.len();
        let mut kept = Vec::new();
        for (i, it) in items.into_iter().enumerate() {
            let f = Focus {
                item: &it,
                pos: i + 1,
                size,
            };
            if pred_true(p, ev, f)? {
                kept.push(it);
            }
        }
        items = kept;
    }
    Ok(items)
}

/// The items that pass the predicates, in order.
pub(super) fn filter<'d>(items: Seq<'d>, preds: &Preds, ev: &mut Ev<'_, 'd>) -> R<Seq<'d>> {
    filter_list(items, &preds.list, ev)
}

/// Sorts nodes into document order and drops duplicates.
pub(super) fn sort_nodes(nodes: &mut Vec<NodeRef<'_>>) {
    if nodes.len() < 2 {
        return;
    }
    nodes.sort_by(|a, b| a.document_order(b));
    nodes.dedup();
}

fn sort_items(items: &mut Seq<'_>) {
    let mut nodes: Vec<NodeRef> = items
        .iter()
        .filter_map(|i| match i {
            Item::Node(n) => Some(*n),
            Item::Atom(_) => None,
        })
        .collect();
    sort_nodes(&mut nodes);
    *items = nodes.into_iter().map(Item::Node).collect();
}

fn context_node<'d>(f: Focus<'_, 'd>, axis: Axis) -> R<NodeRef<'d>> {
    match f.item {
        Item::Node(n) => Ok(*n),
        Item::Atom(a) => Err(DynError::new(
            "XPTY0020",
            format!(
                "The context item for the {} axis is not a node but {}",
                axis.name(),
                a.type_name()
            ),
        )),
    }
}

/// The document node of the tree holding the context node (`/`).
fn root<'d>(f: Focus<'_, 'd>) -> R<NodeRef<'d>> {
    let Item::Node(n) = f.item else {
        return Err(DynError::new(
            "XPDY0050",
            "The context item for '/' is not a node",
        ));
    };
    let top = std::iter::successors(Some(*n), NodeRef::parent)
        .last()
        .unwrap_or(*n);
    if top.kind() != NodeKind::Document {
        return Err(DynError::new(
            "XPDY0050",
            "The root of the tree containing the context item is not a document node",
        ));
    }
    Ok(top)
}

fn step_input<'d>(item: &Item<'d>) -> R<NodeRef<'d>> {
    match item {
        Item::Node(n) => Ok(*n),
        Item::Atom(a) => Err(DynError::new(
            "XPTY0019",
            format!(
                "The required item type of the first operand of '/' is node(), not {}",
                a.type_name()
            ),
        )),
    }
}

/// Whether the step results stay in document order without sorting, and whether no
/// node of the result contains another, given the same of its input.
fn order_after(axis: Axis, single: bool, sorted: bool, flat: bool) -> (bool, bool) {
    match axis {
        Axis::Child => (single || sorted && flat, single || flat),
        Axis::Attribute => (single || sorted, true),
        Axis::Itself => (single || sorted, single || flat),
        Axis::Descendant | Axis::DescendantOrSelf => (single || sorted && flat, false),
        Axis::Parent | Axis::FollowingSibling | Axis::PrecedingSibling => (single, single),
        _ => (single, false),
    }
}

/// The items a path starts from, and the steps left to apply.
fn start<'p, 'd>(p: &'p Path, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<(Seq<'d>, &'p [Step])> {
    if p.root {
        return Ok((vec![Item::Node(root(f)?)], &p.steps));
    }
    match p.steps.first() {
        Some(Step::Filter(x, preds)) => {
            let items = eval(x, ev, f)?;
            Ok((filter(items, preds, ev)?, &p.steps[1..]))
        }
        Some(Step::Axis(axis, ..)) => {
            let n = context_node(f, *axis)?;
            Ok((vec![Item::Node(n)], &p.steps))
        }
        None => Ok((vec![f.item.clone()], &p.steps)),
    }
}

/// Evaluates a path.
pub(super) fn eval_path<'d>(p: &Path, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<Seq<'d>> {
    let (mut cur, steps) = start(p, ev, f)?;
    let (mut sorted, mut flat) = (cur.len() <= 1, cur.len() <= 1);
    for step in steps {
        let n = cur.len();
        let mut out = Vec::new();
        match step {
            Step::Axis(axis, test, preds) => {
                for item in &cur {
                    axis_step(*axis, test, preds, step_input(item)?, ev, &mut out)?;
                }
                let (s, fl) = order_after(*axis, n == 1, sorted, flat);
                if !s && out.len() > 1 {
                    sort_items(&mut out);
                }
                (sorted, flat) = (true, fl);
            }
            Step::Filter(x, preds) => {
                for (k, item) in cur.iter().enumerate() {
                    step_input(item)?;
                    let g = Focus {
                        item,
                        pos: k + 1,
                        size: n,
                    };
                    let items = eval(x, ev, g)?;
                    out.extend(filter(items, preds, ev)?);
                }
                let nodes = out.iter().filter(|i| matches!(i, Item::Node(_))).count();
                if nodes == out.len() {
                    sort_items(&mut out);
                    (sorted, flat) = (true, out.len() <= 1);
                } else if nodes > 0 {
                    return Err(DynError::new(
                        "XPTY0018",
                        "The result of the last step in a path expression contains both nodes and atomic values",
                    ));
                } else {
                    (sorted, flat) = (false, false);
                }
            }
        }
        cur = out;
    }
    Ok(cur)
}

/// Whether every step after the start yields nodes (so that the path's effective
/// boolean value is whether it selects anything).
pub(super) fn nodes_only(p: &Path) -> bool {
    matches!(p.steps.last(), Some(Step::Axis(..))) || p.steps.is_empty() && p.root
}

/// The effective boolean value of a path: for a path that ends in an axis step,
/// whether it selects a node, looked for depth first and stopping at the first.
pub(super) fn ebv_path<'d>(p: &Path, ev: &mut Ev<'_, 'd>, f: Focus<'_, 'd>) -> R<bool> {
    let depth_first = nodes_only(p)
        && p.steps.iter().skip(1).all(|s| match s {
            Step::Axis(..) => true,
            Step::Filter(x, _) => !x.calls(&[Fun::Position, Fun::Last]),
        });
    if !depth_first {
        return ebv_of(&eval_path(p, ev, f)?);
    }
    let (cur, steps) = start(p, ev, f)?;
    for item in &cur {
        if any_from(steps, step_input(item)?, ev)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `steps` select any node from `node`.
fn any_from<'d>(steps: &[Step], node: NodeRef<'d>, ev: &mut Ev<'_, 'd>) -> R<bool> {
    let Some((step, rest)) = steps.split_first() else {
        return Ok(true);
    };
    match step {
        Step::Axis(axis, test, preds)
            if preds.stream == preds.list.len() && preds.stream <= STREAMED =>
        {
            let mut found = false;
            stream_axis(*axis, test, &preds.list, node, ev, &mut |ev, c| {
                found = rest.is_empty() || any_from(rest, c, ev)?;
                Ok(!found)
            })?;
            Ok(found)
        }
        Step::Axis(axis, test, preds) => {
            let mut buf = Vec::new();
            axis_step(*axis, test, preds, node, ev, &mut buf)?;
            for it in &buf {
                if any_from(rest, step_input(it)?, ev)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Step::Filter(x, preds) => {
            let it = Item::Node(node);
            let g = Focus {
                item: &it,
                pos: 1,
                size: 1,
            };
            let items = filter(eval(x, ev, g)?, preds, ev)?;
            for it in &items {
                if rest.is_empty() {
                    return Ok(true);
                }
                if any_from(rest, step_input(it)?, ev)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}
