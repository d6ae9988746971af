//! Read-only, copyable handles on the nodes of a parsed libxml2 document.
//!
//! [`NodeRef`] borrows the [`Document`] it points into, so a handle can never outlive
//! the tree. It is what the XPath layer ([`super::xpath`]) returns and what the
//! Schematron engine walks; it reads libxml2's node structs directly instead of going
//! through the libxml crate's `Node`, which registers every wrapped node in a per-document
//! map and would make walking a large document allocate per node.

use libxml::bindings::{
    xmlAttr, xmlElementType_XML_ATTRIBUTE_NODE, xmlElementType_XML_CDATA_SECTION_NODE,
    xmlElementType_XML_COMMENT_NODE, xmlElementType_XML_DOCUMENT_NODE,
    xmlElementType_XML_ELEMENT_NODE, xmlElementType_XML_PI_NODE, xmlElementType_XML_TEXT_NODE,
    xmlGetLineNo, xmlNodePtr, xmlXPathCastNodeToString, xmlXPathCmpNodes,
};
use libxml::tree::Document;
use std::cmp::Ordering;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::raw::c_char;

/// The kinds of node the engine distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// The document node (`/`).
    Document,
    /// An element.
    Element,
    /// An attribute.
    Attribute,
    /// A text or CDATA node.
    Text,
    /// A comment.
    Comment,
    /// A processing instruction.
    ProcessingInstruction,
    /// Anything else libxml2 may hold (DTD nodes, entity references, namespaces).
    Other,
}

/// A node of a document borrowed for `'d`.
#[derive(Clone, Copy)]
pub struct NodeRef<'d> {
    ptr: xmlNodePtr,
    _doc: PhantomData<&'d Document>,
}

impl PartialEq for NodeRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}
impl Eq for NodeRef<'_> {}

impl std::hash::Hash for NodeRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.ptr as usize).hash(state)
    }
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeRef({:?} {})", self.kind(), self.name())
    }
}

/// Copies a NUL-terminated libxml2 string, or "" for NULL.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string valid for the call.
unsafe fn c_str<'a>(ptr: *const u8) -> &'a str {
    if ptr.is_null() {
        ""
    } else {
        // SAFETY: guaranteed by the caller; libxml2 stores UTF-8.
        unsafe { CStr::from_ptr(ptr as *const c_char) }
            .to_str()
            .unwrap_or("")
    }
}

/// Whether the NUL-terminated name or namespace URI at `ptr` equals `s` (NULL equals
/// ""). Most names that differ do so in their first byte, which is looked at alone;
/// otherwise the stored string is measured and compared as a whole slice, which beats a
/// byte-by-byte loop where strings share long prefixes (`http://www.loc.gov/`).
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string valid for the call.
unsafe fn c_name_is(ptr: *const u8, s: &str) -> bool {
    if ptr.is_null() {
        return s.is_empty();
    }
    // SAFETY: guaranteed by the caller: the first byte exists (it may be the NUL), and
    // the string is terminated.
    unsafe {
        *ptr == s.as_bytes().first().copied().unwrap_or(0)
            && CStr::from_ptr(ptr as *const c_char).to_bytes() == s.as_bytes()
    }
}

/// Whether the NUL-terminated string at `ptr` equals `s` (NULL equals ""), reading no
/// further than `s` is long (for values, which may be long).
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string valid for the call.
unsafe fn c_str_is(ptr: *const u8, s: &str) -> bool {
    if ptr.is_null() {
        return s.is_empty();
    }
    let bytes = s.as_bytes();
    // SAFETY: the caller's guarantee; reading stops at the first NUL or mismatch, and a
    // NUL in the stored string is reached no later than index `bytes.len()`.
    unsafe {
        for (i, &b) in bytes.iter().enumerate() {
            if *ptr.add(i) != b || b == 0 {
                return false;
            }
        }
        *ptr.add(bytes.len()) == 0
    }
}

impl<'d> NodeRef<'d> {
    /// The document node of `doc`.
    pub fn document(doc: &'d Document) -> NodeRef<'d> {
        NodeRef {
            ptr: doc.doc_ptr() as xmlNodePtr,
            _doc: PhantomData,
        }
    }

    /// Wraps a node pointer that belongs to a document borrowed for `'d`.
    ///
    /// Only the XPath layer creates handles from pointers, always from nodes that
    /// libxml2 returned for that document.
    pub(crate) fn from_ptr(ptr: xmlNodePtr) -> Option<NodeRef<'d>> {
        (!ptr.is_null()).then_some(NodeRef {
            ptr,
            _doc: PhantomData,
        })
    }

    pub(crate) fn as_ptr(&self) -> xmlNodePtr {
        self.ptr
    }

    /// What kind of node this is.
    pub fn kind(&self) -> NodeKind {
        // SAFETY: `ptr` points to a live node of a document borrowed for 'd.
        let t = unsafe { (*self.ptr).type_ };
        #[allow(non_upper_case_globals)]
        match t {
            xmlElementType_XML_ELEMENT_NODE => NodeKind::Element,
            xmlElementType_XML_ATTRIBUTE_NODE => NodeKind::Attribute,
            xmlElementType_XML_TEXT_NODE | xmlElementType_XML_CDATA_SECTION_NODE => NodeKind::Text,
            xmlElementType_XML_COMMENT_NODE => NodeKind::Comment,
            xmlElementType_XML_PI_NODE => NodeKind::ProcessingInstruction,
            xmlElementType_XML_DOCUMENT_NODE => NodeKind::Document,
            _ => NodeKind::Other,
        }
    }

    /// The local name of an element, attribute or processing instruction ("" otherwise).
    pub fn local_name(&self) -> &'d str {
        match self.kind() {
            // SAFETY: elements, attributes and PIs store their name as a NUL-terminated
            // string owned by the document (or its dictionary) for its whole life.
            NodeKind::Element | NodeKind::Attribute | NodeKind::ProcessingInstruction => unsafe {
                c_str((*self.ptr).name)
            },
            _ => "",
        }
    }

    /// The namespace URI of an element or attribute ("" when it has none).
    pub fn namespace_uri(&self) -> &'d str {
        match self.kind() {
            // SAFETY: `ns` is NULL or a namespace declaration that lives as long as the document.
            NodeKind::Element | NodeKind::Attribute => unsafe {
                let ns = (*self.ptr).ns;
                if ns.is_null() {
                    ""
                } else {
                    c_str((*ns).href)
                }
            },
            _ => "",
        }
    }

    /// The prefix the node was written with ("" when none).
    pub fn prefix(&self) -> &'d str {
        match self.kind() {
            // SAFETY: as in `namespace_uri`.
            NodeKind::Element | NodeKind::Attribute => unsafe {
                let ns = (*self.ptr).ns;
                if ns.is_null() {
                    ""
                } else {
                    c_str((*ns).prefix)
                }
            },
            _ => "",
        }
    }

    /// The address of the stored name: nodes with the same address have the same name
    /// (libxml2 shares names through the document's dictionary), so it can key a cache.
    pub fn name_address(&self) -> usize {
        // SAFETY: `ptr` points to a live node; only the field's value is read.
        unsafe { (*self.ptr).name as usize }
    }

    /// Whether the local name of an element or attribute is `name`, compared without
    /// copying or validating the stored string.
    pub fn local_name_is(&self, name: &str) -> bool {
        match self.kind() {
            // SAFETY: as in `local_name`.
            NodeKind::Element | NodeKind::Attribute => unsafe { c_name_is((*self.ptr).name, name) },
            _ => false,
        }
    }

    /// Whether the namespace URI of an element or attribute is `uri`; "" stands for no
    /// namespace at all, as for libxml2's name tests (which look at the namespace
    /// pointer, not at its URI).
    pub fn namespace_uri_is(&self, uri: &str) -> bool {
        match self.kind() {
            // SAFETY: as in `namespace_uri`.
            NodeKind::Element | NodeKind::Attribute => unsafe {
                let ns = (*self.ptr).ns;
                if ns.is_null() {
                    uri.is_empty()
                } else {
                    !uri.is_empty() && c_name_is((*ns).href, uri)
                }
            },
            _ => false,
        }
    }

    /// Whether the string value of an attribute is `value`, without building it when the
    /// attribute holds a single text node (as parsed attributes do).
    pub fn attribute_value_is(&self, value: &str) -> bool {
        if self.kind() == NodeKind::Attribute {
            // SAFETY: an attribute's `children` is NULL or its first (text or entity
            // reference) child, a live node of the same document.
            unsafe {
                let child = (*self.ptr).children;
                if !child.is_null()
                    && (*child).next.is_null()
                    && (*child).type_ == xmlElementType_XML_TEXT_NODE
                {
                    return c_str_is((*child).content, value);
                }
            }
        }
        self.string_value() == value
    }

    /// XPath's `name()`: the qualified name as written.
    pub fn name(&self) -> String {
        let prefix = self.prefix();
        if prefix.is_empty() {
            self.local_name().to_string()
        } else {
            format!("{prefix}:{}", self.local_name())
        }
    }

    /// The parent node; for an attribute, its element.
    pub fn parent(&self) -> Option<NodeRef<'d>> {
        if matches!(self.kind(), NodeKind::Document | NodeKind::Other) {
            return None;
        }
        // SAFETY: `parent` is NULL or a live node of the same document.
        NodeRef::from_ptr(unsafe { (*self.ptr).parent })
    }

    /// The first child (never an attribute).
    pub fn first_child(&self) -> Option<NodeRef<'d>> {
        match self.kind() {
            // SAFETY: `children` of an element or document is NULL or a live child node.
            NodeKind::Element | NodeKind::Document => {
                NodeRef::from_ptr(unsafe { (*self.ptr).children })
            }
            _ => None,
        }
    }

    /// The next sibling (for an attribute, the next attribute).
    pub fn next_sibling(&self) -> Option<NodeRef<'d>> {
        // SAFETY: `next` is NULL or a live sibling; xmlAttr starts with the same fields as xmlNode.
        NodeRef::from_ptr(unsafe { (*self.ptr).next })
    }

    /// The previous sibling.
    pub fn prev_sibling(&self) -> Option<NodeRef<'d>> {
        // SAFETY: `prev` is NULL or a live sibling.
        NodeRef::from_ptr(unsafe { (*self.ptr).prev })
    }

    /// Iterates over the children.
    pub fn children(&self) -> impl Iterator<Item = NodeRef<'d>> {
        std::iter::successors(self.first_child(), |n| n.next_sibling())
    }

    /// Iterates over the element children.
    pub fn element_children(&self) -> impl Iterator<Item = NodeRef<'d>> {
        self.children().filter(|n| n.kind() == NodeKind::Element)
    }

    /// Iterates over the attributes of an element.
    pub fn attributes(&self) -> impl Iterator<Item = NodeRef<'d>> {
        let first = if self.kind() == NodeKind::Element {
            // SAFETY: `properties` is NULL or the first attribute; libxml2's xmlAttr shares
            // xmlNode's leading layout (type, name, children, last, parent, next, prev, doc, ns).
            NodeRef::from_ptr(unsafe { (*self.ptr).properties as *mut xmlAttr as xmlNodePtr })
        } else {
            None
        };
        std::iter::successors(first, |n| n.next_sibling())
    }

    /// The value of the attribute `name` in no namespace.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.attributes()
            .find(|a| a.local_name() == name && a.namespace_uri().is_empty())
            .map(|a| a.string_value())
    }

    /// The value of the attribute `name` in namespace `ns`.
    pub fn attribute_ns(&self, name: &str, ns: &str) -> Option<String> {
        self.attributes()
            .find(|a| a.local_name() == name && a.namespace_uri() == ns)
            .map(|a| a.string_value())
    }

    /// The string value without copying, where the tree holds it in one piece: a text
    /// node, or an attribute whose value is one text node.
    pub fn stored_text(&self) -> Option<&'d str> {
        // SAFETY: the node is live; a text node's `content` and an attribute's children
        // are owned by the document borrowed for 'd.
        unsafe {
            let text = match self.kind() {
                NodeKind::Text => self.ptr,
                NodeKind::Attribute => {
                    let child = (*self.ptr).children;
                    if child.is_null()
                        || !(*child).next.is_null()
                        || (*child).type_ != xmlElementType_XML_TEXT_NODE
                    {
                        return None;
                    }
                    child
                }
                _ => return None,
            };
            let content = (*text).content;
            if content.is_null() {
                return Some("");
            }
            CStr::from_ptr(content as *const c_char).to_str().ok()
        }
    }

    /// XPath's string value of the node.
    pub fn string_value(&self) -> String {
        // SAFETY: the node is live; the returned buffer is owned by us and freed below.
        unsafe {
            let raw = xmlXPathCastNodeToString(self.ptr);
            super::xpath_value::take_xml_string(raw)
        }
    }

    /// The line the node starts on in its source (0 when unknown).
    pub fn line(&self) -> usize {
        // SAFETY: the node is live; xmlGetLineNo only reads it.
        let line = unsafe { xmlGetLineNo(self.ptr) };
        line.max(0) as usize
    }

    /// Document order of two nodes of the same document.
    pub fn document_order(&self, other: &NodeRef<'d>) -> Ordering {
        if self.ptr == other.ptr {
            return Ordering::Equal;
        }
        // SAFETY: both nodes are live nodes of the same document.
        match unsafe { xmlXPathCmpNodes(self.ptr, other.ptr) } {
            1 => Ordering::Less,
            -1 => Ordering::Greater,
            _ => Ordering::Equal,
        }
    }

    /// Resolves `prefix` through the namespace declarations in scope on this element.
    pub fn lookup_namespace(&self, prefix: &str) -> Option<String> {
        let mut cur = Some(*self);
        while let Some(node) = cur {
            if node.kind() == NodeKind::Element {
                // SAFETY: `nsDef` is the list of namespaces declared on the element.
                let mut ns = unsafe { (*node.ptr).nsDef };
                while !ns.is_null() {
                    // SAFETY: `ns` is a live namespace declaration of the element.
                    let (p, href, next) =
                        unsafe { (c_str((*ns).prefix), c_str((*ns).href), (*ns).next) };
                    if p == prefix {
                        return Some(href.to_string());
                    }
                    ns = next;
                }
            }
            cur = node.parent();
        }
        (prefix == "xml").then(|| "http://www.w3.org/XML/1998/namespace".to_string())
    }
}
