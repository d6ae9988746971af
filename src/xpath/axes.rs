//! The axes of XPath 1.0 that the evaluator walks, and node tests.

use super::ast::{Axis, Test};
use crate::xml::node::{NodeKind, NodeRef};

/// The attribute `local` in namespace `ns` of `node`.
pub(crate) fn attribute<'d>(node: NodeRef<'d>, ns: &str, local: &str) -> Option<NodeRef<'d>> {
    node.attributes()
        .find(|a| a.local_name_is(local) && a.namespace_uri_is(ns))
}

pub(crate) fn test_matches(test: &Test, axis: Axis, node: NodeRef<'_>) -> bool {
    let principal = if axis == Axis::Attribute {
        NodeKind::Attribute
    } else {
        NodeKind::Element
    };
    match test {
        Test::Node => true,
        Test::Text => node.kind() == NodeKind::Text,
        Test::Comment => node.kind() == NodeKind::Comment,
        Test::Any => node.kind() == principal,
        Test::AnyIn(n) => node.kind() == principal && node.namespace_uri_is(&n.uri),
        Test::Name(n) => {
            node.kind() == principal
                && node.local_name_is(&n.name.local)
                && node.namespace_uri_is(&n.uri)
        }
        // Not bound (see `bind.rs`), so never evaluated.
        Test::Pi(_) => false,
    }
}

/// The nodes on `axis` from `node` that pass `test`, in axis order.
pub(crate) fn axis_nodes<'d>(
    axis: Axis,
    test: &Test,
    node: NodeRef<'d>,
    out: &mut Vec<NodeRef<'d>>,
) {
    axis_visit(axis, test, node, &mut |n| {
        out.push(n);
        true
    });
}

/// Calls `visit` with the nodes on `axis` from `node` that pass `test`, in axis order,
/// until it returns `false`; returns whether it went to the end.
pub(crate) fn axis_visit<'d>(
    axis: Axis,
    test: &Test,
    node: NodeRef<'d>,
    visit: &mut dyn FnMut(NodeRef<'d>) -> bool,
) -> bool {
    let mut each = |nodes: &mut dyn Iterator<Item = NodeRef<'d>>| {
        for n in nodes {
            if test_matches(test, axis, n) && !visit(n) {
                return false;
            }
        }
        true
    };
    match axis {
        Axis::Child => each(&mut node.children()),
        Axis::Attribute => each(&mut node.attributes()),
        Axis::Itself => each(&mut std::iter::once(node)),
        Axis::Parent => each(&mut node.parent().into_iter()),
        Axis::Ancestor => each(&mut std::iter::successors(node.parent(), NodeRef::parent)),
        Axis::AncestorOrSelf => each(&mut std::iter::successors(Some(node), NodeRef::parent)),
        Axis::Descendant => each(&mut Descendants::new(node)),
        Axis::DescendantOrSelf => each(&mut std::iter::once(node).chain(Descendants::new(node))),
        Axis::FollowingSibling | Axis::PrecedingSibling if node.kind() == NodeKind::Attribute => {
            true
        }
        Axis::FollowingSibling => each(&mut std::iter::successors(
            node.next_sibling(),
            NodeRef::next_sibling,
        )),
        Axis::PrecedingSibling => each(&mut std::iter::successors(
            node.prev_sibling(),
            NodeRef::prev_sibling,
        )),
        // Not bound (see `bind.rs`), so never evaluated.
        Axis::Following | Axis::Preceding | Axis::Namespace => true,
    }
}

/// The descendants of a node in document order (pre-order, without recursion).
struct Descendants<'d> {
    top: NodeRef<'d>,
    next: Option<NodeRef<'d>>,
}

impl<'d> Descendants<'d> {
    fn new(top: NodeRef<'d>) -> Self {
        Descendants {
            top,
            next: top.first_child(),
        }
    }
}

impl<'d> Iterator for Descendants<'d> {
    type Item = NodeRef<'d>;

    fn next(&mut self) -> Option<NodeRef<'d>> {
        let n = self.next?;
        // Down to the first child, else to the next sibling of the nearest node that has
        // one, stopping at the top.
        self.next = n.first_child().or_else(|| {
            let mut up = Some(n);
            while let Some(u) = up.filter(|u| *u != self.top) {
                if let Some(next) = u.next_sibling() {
                    return Some(next);
                }
                up = u.parent();
            }
            None
        });
        Some(n)
    }
}
