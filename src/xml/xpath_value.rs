//! Values crossing between libxml2's XPath objects and Rust: [`Value`], and the
//! conversions the evaluator and extension-function calls use.

use super::node::NodeRef;
use libxml::bindings::{
    xmlElementType_XML_NAMESPACE_DECL, xmlXPathCastToString, xmlXPathNewBoolean, xmlXPathNewFloat,
    xmlXPathNewNodeSet, xmlXPathNewString, xmlXPathNodeSetAdd, xmlXPathNodeSetSort,
    xmlXPathObjectPtr, xmlXPathObjectType_XPATH_BOOLEAN, xmlXPathObjectType_XPATH_NODESET,
    xmlXPathObjectType_XPATH_NUMBER, xmlXPathObjectType_XPATH_STRING,
};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

/// Takes ownership of a string libxml2 allocated, copies it and frees it.
///
/// # Safety
/// `raw` must be NULL or a NUL-terminated buffer allocated by libxml2 and owned by the caller.
pub(crate) unsafe fn take_xml_string(raw: *mut u8) -> String {
    if raw.is_null() {
        return String::new();
    }
    // SAFETY: `raw` is a NUL-terminated buffer (caller's guarantee).
    let text = unsafe { CStr::from_ptr(raw as *const c_char) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: `xmlFree` is libxml2's deallocator, initialised before any allocation it made;
    // the buffer is owned by us and not used again.
    unsafe {
        if let Some(free) = libxml::bindings::xmlFree {
            free(raw as *mut c_void);
        }
    }
    text
}

/// The value of an XPath expression or of a function argument.
#[derive(Debug, Clone)]
pub enum Value<'d> {
    /// A node-set, in document order.
    Nodes(Vec<NodeRef<'d>>),
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
}

impl Value<'_> {
    /// XPath's `string()` of the value.
    pub fn to_xpath_string(&self) -> String {
        match self {
            Value::Nodes(nodes) => nodes.first().map(|n| n.string_value()).unwrap_or_default(),
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => format_number(*n),
        }
    }
}

/// XPath 1.0 number-to-string conversion.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if n == n.trunc() && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// # Safety
/// `ptr` must be NULL or a NUL-terminated string.
pub(crate) unsafe fn c_str_or_empty(ptr: *const u8) -> String {
    if ptr.is_null() {
        String::new()
    } else {
        // SAFETY: caller's guarantee.
        unsafe { CStr::from_ptr(ptr as *const c_char) }
            .to_string_lossy()
            .into_owned()
    }
}

/// Converts an XPath object to a [`Value`] (does not free it).
///
/// # Safety
/// `obj` must be a live XPath object whose nodes belong to a document borrowed for `'d`.
pub(crate) unsafe fn object_to_value<'d>(obj: xmlXPathObjectPtr) -> Value<'d> {
    // SAFETY: caller's guarantee; node-set tables hold `nodeNr` valid pointers.
    unsafe {
        #[allow(non_upper_case_globals)]
        match (*obj).type_ {
            xmlXPathObjectType_XPATH_NODESET => {
                let set = (*obj).nodesetval;
                let mut nodes = Vec::new();
                if !set.is_null() {
                    let n = (*set).nodeNr.max(0) as usize;
                    nodes.reserve(n);
                    for i in 0..n {
                        let ptr = *(*set).nodeTab.add(i);
                        // Namespace nodes in a result are copies owned by the node-set and
                        // freed with it; a handle on one would dangle, so they are left out
                        // (XSLT patterns cannot match them, and the engine never needs them).
                        if ptr.is_null() || (*ptr).type_ == xmlElementType_XML_NAMESPACE_DECL {
                            continue;
                        }
                        if let Some(node) = NodeRef::from_ptr(ptr) {
                            nodes.push(node);
                        }
                    }
                }
                Value::Nodes(nodes)
            }
            xmlXPathObjectType_XPATH_BOOLEAN => Value::Bool((*obj).boolval != 0),
            xmlXPathObjectType_XPATH_NUMBER => Value::Num((*obj).floatval),
            xmlXPathObjectType_XPATH_STRING => Value::Str(c_str_or_empty((*obj).stringval)),
            _ => Value::Str(take_xml_string(xmlXPathCastToString(obj))),
        }
    }
}

/// Builds a new XPath object holding `value` (owned by the caller).
pub(crate) fn value_to_object(value: &Value<'_>) -> xmlXPathObjectPtr {
    // SAFETY: the constructors copy their inputs; node pointers are live nodes of the
    // document being evaluated. A NUL inside a string truncates it (XML text has none).
    unsafe {
        match value {
            Value::Bool(b) => xmlXPathNewBoolean(*b as c_int),
            Value::Num(n) => xmlXPathNewFloat(*n),
            Value::Str(s) => {
                let c = CString::new(s.as_str())
                    .or_else(|_| CString::new(s.replace('\0', "")))
                    .unwrap_or_default();
                xmlXPathNewString(c.as_ptr() as *const u8)
            }
            Value::Nodes(nodes) => {
                let obj = xmlXPathNewNodeSet(std::ptr::null_mut());
                if !obj.is_null() {
                    for node in nodes {
                        xmlXPathNodeSetAdd((*obj).nodesetval, node.as_ptr());
                    }
                    xmlXPathNodeSetSort((*obj).nodesetval);
                }
                obj
            }
        }
    }
}
