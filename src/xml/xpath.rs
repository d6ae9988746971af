//! Compiled XPath 1.0 over libxml2, with variables and extension functions.
//!
//! [`XPathExpr`] is an expression compiled once and evaluated any number of times,
//! against any document, on the thread that compiled it. [`Evaluator`] is the
//! per-document evaluation context: namespace bindings, variables and extension
//! functions whose bodies live in Rust behind the [`FunctionHost`] trait. All of the
//! engine's `unsafe` code is in this file, [`super::xpath_value`] and [`super::node`].

use super::node::NodeRef;
pub use super::xpath_value::{format_number, Value};
use super::xpath_value::{object_to_value, take_xml_string, value_to_object};
use libxml::bindings::{
    valuePop, valuePush, xmlDocPtr, xmlError, xmlXPathCastToBoolean, xmlXPathCastToString,
    xmlXPathCompExprPtr, xmlXPathCompiledEval, xmlXPathCompiledEvalToBoolean, xmlXPathContextPtr,
    xmlXPathContextSetCache, xmlXPathCtxtCompile, xmlXPathErr, xmlXPathError_XPATH_EXPR_ERROR,
    xmlXPathFreeCompExpr, xmlXPathFreeContext, xmlXPathFreeObject, xmlXPathNewContext,
    xmlXPathObjectPtr, xmlXPathObjectType_XPATH_NUMBER, xmlXPathOrderDocElems,
    xmlXPathParserContextPtr, xmlXPathRegisterFuncNS, xmlXPathRegisterNs, xmlXPathRegisterVariable,
};
use libxml::tree::Document;
use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::os::raw::{c_int, c_void};

/// Where libxml2 reports evaluation and compilation errors of a context we own: the
/// message is kept in the [`ErrorSink`] behind `userData` instead of going to stderr.
unsafe extern "C" fn record_error(user_data: *mut c_void, error: *mut xmlError) {
    if user_data.is_null() || error.is_null() {
        return;
    }
    // SAFETY: every context we create sets `userData` to a live `ErrorSink` (first field
    // of the evaluator state, see `State`), and libxml2 passes a valid error record.
    unsafe {
        let sink = &*(user_data as *const ErrorSink);
        let message = (*error).message;
        let text = if !message.is_null() {
            CStr::from_ptr(message).to_string_lossy().trim().to_string()
        } else {
            // xmlXPathErr records only the code; XPath codes start at 1200 (XML_XPATH_EXPRESSION_OK).
            let code = (*error).code - 1200;
            let what = XPATH_ERRORS
                .get(code.max(0) as usize)
                .copied()
                .unwrap_or("XPath error");
            format!("{what} at offset {}", (*error).int1)
        };
        sink.0.borrow_mut().get_or_insert(text);
    }
}

/// libxml2's XPath error messages, indexed by `xmlXPathError` code.
const XPATH_ERRORS: [&str; 27] = [
    "Ok",
    "Number encoding",
    "Unfinished literal",
    "Start of literal",
    "Expected $ for variable reference",
    "Undefined variable",
    "Invalid predicate",
    "Invalid expression",
    "Missing closing curly brace",
    "Unregistered function",
    "Invalid operand",
    "Invalid type",
    "Invalid number of arguments",
    "Invalid context size",
    "Invalid context position",
    "Memory allocation error",
    "Syntax error",
    "Resource error",
    "Sub resource error",
    "Undefined namespace prefix",
    "Encoding error",
    "Char out of XML range",
    "Invalid or incomplete context",
    "Stack usage error",
    "Forbidden variable",
    "Operation limit exceeded",
    "Recursion limit exceeded",
];

/// The first error libxml2 or an extension function reported during one call.
#[derive(Default)]
struct ErrorSink(RefCell<Option<String>>);

impl ErrorSink {
    fn take(&self, fallback: &str) -> String {
        self.0
            .borrow_mut()
            .take()
            .unwrap_or_else(|| fallback.to_string())
    }
}

/// An XPath 1.0 expression compiled by libxml2. Not `Send`: libxml2 caches function
/// lookups inside it on first evaluation, so keep one per thread.
pub struct XPathExpr {
    ptr: xmlXPathCompExprPtr,
}

impl Drop for XPathExpr {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from xmlXPathCtxtCompile and is freed exactly once.
        unsafe { xmlXPathFreeCompExpr(self.ptr) };
    }
}

impl XPathExpr {
    /// Compiles `source`, or returns libxml2's message for a malformed expression.
    /// Function names and namespace prefixes are resolved later, at evaluation.
    pub fn compile(source: &str) -> Result<XPathExpr, String> {
        libxml::parser::Parser::default(); // makes sure libxml2 is initialised
        let c_source = CString::new(source).map_err(|_| "NUL byte in expression".to_string())?;
        let sink = ErrorSink::default();
        // SAFETY: a document-less context is allowed; it is freed below after its one use.
        // `userData` points to `sink`, which outlives the context.
        let ptr = unsafe {
            let ctxt = xmlXPathNewContext(std::ptr::null_mut());
            if ctxt.is_null() {
                return Err("out of memory".to_string());
            }
            (*ctxt).userData = &sink as *const ErrorSink as *mut c_void;
            (*ctxt).error = Some(record_error);
            let comp = xmlXPathCtxtCompile(ctxt, c_source.as_ptr() as *const u8);
            xmlXPathFreeContext(ctxt);
            comp
        };
        if ptr.is_null() {
            Err(sink.take("invalid expression"))
        } else {
            Ok(XPathExpr { ptr })
        }
    }
}

/// The Rust side of extension functions: called with the function's local name,
/// its namespace URI ("" for none) and its arguments in order.
pub trait FunctionHost<'d> {
    /// Computes the function's value, or an error message that aborts the evaluation.
    fn call(&self, name: &str, namespace: &str, args: Vec<Value<'d>>) -> Result<Value<'d>, String>;
}

/// State reachable from libxml2 callbacks through the context's `userData`.
#[repr(C)]
struct State<H> {
    /// Must stay the first field: `record_error` reads `userData` as an `ErrorSink`.
    errors: ErrorSink,
    /// Borrowed for the evaluator's `'h`, which outlives every callback.
    host: *const H,
}

/// Evaluation context for one document.
pub struct Evaluator<'d, 'h, H: FunctionHost<'d>> {
    ctxt: xmlXPathContextPtr,
    state: Box<State<H>>,
    _doc: PhantomData<(&'d Document, &'h H)>,
}

impl<'d, H: FunctionHost<'d>> Drop for Evaluator<'d, '_, H> {
    fn drop(&mut self) {
        // SAFETY: the context was created in `new` and is freed exactly once; it owns
        // its registered variables and namespace bindings.
        unsafe { xmlXPathFreeContext(self.ctxt) };
    }
}

/// Speeds up document-order comparisons on `doc` (libxml2 numbers the elements in
/// their content field, as xsltproc does before a transformation).
pub fn order_document(doc: &Document) {
    // SAFETY: the document is live and not shared with another thread (`Document` is not
    // `Send`); only element nodes' unused content slot is written.
    unsafe { xmlXPathOrderDocElems(doc.doc_ptr() as xmlDocPtr) };
}

/// A NUL-terminated string as `&str` (lossily converted only if it is not UTF-8).
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string that outlives the returned value.
unsafe fn c_str_borrowed<'a>(ptr: *const u8) -> std::borrow::Cow<'a, str> {
    if ptr.is_null() {
        std::borrow::Cow::Borrowed("")
    } else {
        // SAFETY: caller's guarantee.
        unsafe { CStr::from_ptr(ptr as *const std::os::raw::c_char) }.to_string_lossy()
    }
}

unsafe extern "C" fn trampoline<'d, H: FunctionHost<'d>>(
    pctxt: xmlXPathParserContextPtr,
    nargs: c_int,
) {
    // SAFETY: libxml2 calls registered functions with a live parser context whose
    // `context.userData` is the `State<H>` installed by `Evaluator::new` (which outlives the
    // evaluation), with `nargs` arguments on the value stack, and with `context.function` /
    // `context.functionURI` naming the function being called.
    unsafe {
        let ctxt = (*pctxt).context;
        let state = &*((*ctxt).userData as *const State<H>);
        let name = c_str_borrowed((*ctxt).function);
        let uri = c_str_borrowed((*ctxt).functionURI);
        let mut args = Vec::with_capacity(nargs.max(0) as usize);
        for _ in 0..nargs {
            let obj = valuePop(pctxt);
            if obj.is_null() {
                state
                    .errors
                    .0
                    .borrow_mut()
                    .get_or_insert_with(|| format!("{name}(): stack error"));
                xmlXPathErr(pctxt, xmlXPathError_XPATH_EXPR_ERROR as c_int);
                return;
            }
            args.push(object_to_value::<'d>(obj));
            xmlXPathFreeObject(obj);
        }
        args.reverse();
        match (*state.host).call(&name, &uri, args) {
            Ok(value) => {
                valuePush(pctxt, value_to_object(&value));
            }
            Err(message) => {
                state.errors.0.borrow_mut().get_or_insert(message);
                xmlXPathErr(pctxt, xmlXPathError_XPATH_EXPR_ERROR as c_int);
            }
        }
    }
}

impl<'d, 'h, H: FunctionHost<'d>> Evaluator<'d, 'h, H> {
    /// A context on `doc` whose extension functions are answered by `host`.
    pub fn new(doc: &'d Document, host: &'h H) -> Result<Self, String> {
        let state = Box::new(State {
            errors: ErrorSink::default(),
            host: host as *const H,
        });
        // SAFETY: the document is live for 'd; `userData` points into the boxed state,
        // whose address is stable and which lives as long as the context.
        let ctxt = unsafe { xmlXPathNewContext(doc.doc_ptr() as xmlDocPtr) };
        if ctxt.is_null() {
            return Err("cannot create an XPath context".into());
        }
        // SAFETY: `ctxt` was just created and is exclusively ours.
        unsafe {
            (*ctxt).userData = &*state as *const State<H> as *mut c_void;
            (*ctxt).error = Some(record_error);
            // Reuse XPath objects instead of allocating one per intermediate result, as
            // libxslt does for its transformation contexts (default cache sizes).
            xmlXPathContextSetCache(ctxt, 1, -1, 0);
        }
        Ok(Evaluator {
            ctxt,
            state,
            _doc: PhantomData,
        })
    }

    /// Binds `prefix` to `uri` for every later evaluation.
    pub fn register_namespace(&self, prefix: &str, uri: &str) -> Result<(), String> {
        let p = CString::new(prefix).map_err(|e| e.to_string())?;
        let u = CString::new(uri).map_err(|e| e.to_string())?;
        // SAFETY: the context is live; libxml2 copies both strings.
        let rc = unsafe {
            xmlXPathRegisterNs(self.ctxt, p.as_ptr() as *const u8, u.as_ptr() as *const u8)
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("cannot bind namespace prefix {prefix}"))
        }
    }

    /// Makes `name` (in namespace `uri`, "" for none) an extension function answered by the host.
    pub fn register_function(&self, name: &str, uri: &str) -> Result<(), String> {
        let n = CString::new(name).map_err(|e| e.to_string())?;
        let u = CString::new(uri).map_err(|e| e.to_string())?;
        let uri_ptr = if uri.is_empty() {
            std::ptr::null()
        } else {
            u.as_ptr() as *const u8
        };
        // SAFETY: the context is live; libxml2 copies the names; the trampoline is
        // instantiated for this evaluator's host type and reads the state installed in `new`.
        let rc = unsafe {
            xmlXPathRegisterFuncNS(
                self.ctxt,
                n.as_ptr() as *const u8,
                uri_ptr,
                Some(trampoline::<'d, H>),
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("cannot register function {name}"))
        }
    }

    fn set_node(&self, node: NodeRef<'d>) {
        // SAFETY: the context is live and `node` belongs to its document.
        unsafe {
            (*self.ctxt).node = node.as_ptr();
            (*self.ctxt).contextSize = 1;
            (*self.ctxt).proximityPosition = 1;
        }
    }

    fn run(&self, expr: &XPathExpr, node: NodeRef<'d>) -> Result<xmlXPathObjectPtr, String> {
        self.set_node(node);
        // SAFETY: expression and context are live; the result (if any) is owned by us.
        let obj = unsafe { xmlXPathCompiledEval(expr.ptr, self.ctxt) };
        let error = self.state.errors.0.borrow_mut().take();
        match (obj.is_null(), error) {
            (false, None) => Ok(obj),
            (is_null, error) => {
                if !is_null {
                    // SAFETY: we own the object and drop it on the error path.
                    unsafe { xmlXPathFreeObject(obj) };
                }
                Err(error.unwrap_or_else(|| "XPath evaluation failed".into()))
            }
        }
    }

    /// Evaluates `expr` at `node` and binds the result to the variable `$name`.
    pub fn bind_variable(
        &self,
        name: &str,
        expr: &XPathExpr,
        node: NodeRef<'d>,
    ) -> Result<(), String> {
        let obj = self.run(expr, node)?;
        self.bind_object(name, obj)
    }

    /// Binds `$name` to `value`.
    pub fn bind_value(&self, name: &str, value: &Value<'d>) -> Result<(), String> {
        self.bind_object(name, value_to_object(value))
    }

    /// As [`Evaluator::bind_variable`], with the name already a C string (saves
    /// building one per binding).
    pub fn bind_variable_c(
        &self,
        name: &CStr,
        expr: &XPathExpr,
        node: NodeRef<'d>,
    ) -> Result<(), String> {
        let obj = self.run(expr, node)?;
        self.bind_object_c(name, obj)
    }

    /// As [`Evaluator::bind_value`], with the name already a C string.
    pub fn bind_value_c(&self, name: &CStr, value: &Value<'d>) -> Result<(), String> {
        self.bind_object_c(name, value_to_object(value))
    }

    fn bind_object(&self, name: &str, obj: xmlXPathObjectPtr) -> Result<(), String> {
        match CString::new(name) {
            Ok(n) => self.bind_object_c(&n, obj),
            Err(e) => {
                // SAFETY: the object was not handed over, so it is still ours.
                unsafe { xmlXPathFreeObject(obj) };
                Err(e.to_string())
            }
        }
    }

    fn bind_object_c(&self, name: &CStr, obj: xmlXPathObjectPtr) -> Result<(), String> {
        // SAFETY: the context takes ownership of `obj` (and frees a value it replaces);
        // libxml2 copies the name.
        let rc = unsafe { xmlXPathRegisterVariable(self.ctxt, name.as_ptr() as *const u8, obj) };
        if rc == 0 {
            Ok(())
        } else {
            // SAFETY: registration failed, so the object is still ours.
            unsafe { xmlXPathFreeObject(obj) };
            Err(format!("cannot bind variable ${}", name.to_string_lossy()))
        }
    }

    /// The effective boolean value of `expr` at `node`.
    pub fn eval_bool(&self, expr: &XPathExpr, node: NodeRef<'d>) -> Result<bool, String> {
        self.set_node(node);
        // SAFETY: expression and context are live; no object is returned.
        let rc = unsafe { xmlXPathCompiledEvalToBoolean(expr.ptr, self.ctxt) };
        let error = self.state.errors.0.borrow_mut().take();
        match (rc, error) {
            (_, Some(e)) => Err(e),
            (r, None) if r < 0 => Err("XPath evaluation failed".into()),
            (r, None) => Ok(r == 1),
        }
    }

    /// The truth of a predicate at `node` — the effective boolean value of `expr` —
    /// or `None` when the value is a number, which as a predicate would test the
    /// node's position rather than be true or false by itself.
    pub fn eval_predicate(
        &self,
        expr: &XPathExpr,
        node: NodeRef<'d>,
    ) -> Result<Option<bool>, String> {
        let obj = self.run(expr, node)?;
        // SAFETY: we own `obj` (a live object returned by the evaluation) and free it
        // once, after reading its type; the boolean cast only reads it.
        unsafe {
            let truth = if (*obj).type_ == xmlXPathObjectType_XPATH_NUMBER {
                None
            } else {
                Some(xmlXPathCastToBoolean(obj) != 0)
            };
            xmlXPathFreeObject(obj);
            Ok(truth)
        }
    }

    /// `string()` of `expr` at `node`.
    pub fn eval_string(&self, expr: &XPathExpr, node: NodeRef<'d>) -> Result<String, String> {
        let obj = self.run(expr, node)?;
        // SAFETY: we own `obj`; the cast returns a new buffer we take over.
        unsafe {
            let s = take_xml_string(xmlXPathCastToString(obj));
            xmlXPathFreeObject(obj);
            Ok(s)
        }
    }

    /// The value of `expr` at `node`.
    pub fn eval_value(&self, expr: &XPathExpr, node: NodeRef<'d>) -> Result<Value<'d>, String> {
        let obj = self.run(expr, node)?;
        // SAFETY: we own `obj`; its nodes belong to this context's document.
        unsafe {
            let v = object_to_value::<'d>(obj);
            xmlXPathFreeObject(obj);
            Ok(v)
        }
    }

    /// The node-set `expr` selects at `node`, in document order; an error if it is not a node-set.
    pub fn eval_nodes(
        &self,
        expr: &XPathExpr,
        node: NodeRef<'d>,
    ) -> Result<Vec<NodeRef<'d>>, String> {
        match self.eval_value(expr, node)? {
            Value::Nodes(nodes) => Ok(nodes),
            _ => Err("expression does not select nodes".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Upper;
    impl<'d> FunctionHost<'d> for Upper {
        fn call(&self, name: &str, _ns: &str, args: Vec<Value<'d>>) -> Result<Value<'d>, String> {
            match name {
                "up" => Ok(Value::Str(args[0].to_xpath_string().to_uppercase())),
                _ => Err(format!("{name} refused")),
            }
        }
    }

    #[test]
    fn compiled_expressions_evaluate_with_functions_and_variables() {
        let doc = crate::xml::parse(b"<a xmlns='urn:x'><b>x</b><b>y</b></a>", Default::default())
            .unwrap();
        let host = Upper;
        let ev = Evaluator::new(&doc, &host).unwrap();
        ev.register_namespace("p", "urn:x").unwrap();
        ev.register_function("up", "").unwrap();
        ev.register_function("bad", "").unwrap();
        let root = NodeRef::document(&doc);
        let e = XPathExpr::compile("up(/p:a/p:b[2])").unwrap();
        assert_eq!(ev.eval_string(&e, root).unwrap(), "Y");
        let count = XPathExpr::compile("count(//p:b)").unwrap();
        ev.bind_variable("n", &count, root).unwrap();
        let v = XPathExpr::compile("$n = 2").unwrap();
        assert!(ev.eval_bool(&v, root).unwrap());
        let bad = XPathExpr::compile("bad()").unwrap();
        assert_eq!(ev.eval_bool(&bad, root).unwrap_err(), "bad refused");
        assert!(XPathExpr::compile("//p:b[").is_err());
        let ns_nodes = XPathExpr::compile("//namespace::* | //p:b").unwrap();
        assert_eq!(
            ev.eval_nodes(&ns_nodes, root).unwrap().len(),
            2,
            "namespace nodes are left out"
        );
        let unknown = XPathExpr::compile("nothere()").unwrap();
        assert!(ev.eval_string(&unknown, root).is_err());
    }
}
