//! libxml2 as the second wall behind the prolog check: a parse in which libxml2 itself
//! stops at the first entity declaration or reference to a declared or undeclared entity,
//! and a walk of the finished tree that refuses character data longer than harvesters
//! using libxml2's default limits accept.
//!
//! libxml2 2.9.14 has no option that refuses entity declarations (`XML_PARSE_NOENT` would
//! substitute them, and with them load external entities). Its SAX2 tree builder calls the
//! context's `entityDecl` and `reference` handlers, so this parse replaces those two with
//! handlers that record the refusal and halt the parser: no entity is ever declared, so
//! nothing can be expanded, whatever the prolog check let through. `XML_PARSE_HUGE` is
//! never set, so libxml2's own bounds (depth 256, 10 MB per text node and name, entity
//! amplification checks) stay on as well.
//!
//! Each thread keeps one parser context for UTF-8 input and reuses it (libxml2 resets it
//! at the start of every read). Its name dictionary is shared by the documents parsed on
//! that thread, so element and attribute names are stored once rather than copied into
//! every node; the documents hold their own reference to it. A dictionary that has grown past
//! [`DICTIONARY_LIMIT`] names is let go with its context after the parse, so hostile
//! input cannot make it grow without bound.

use libxml::bindings::{
    __xmlStructuredError, __xmlStructuredErrorContext, xmlChar, xmlCtxtReadMemory, xmlDictSize,
    xmlDocPtr, xmlElementType_XML_CDATA_SECTION_NODE, xmlElementType_XML_COMMENT_NODE,
    xmlElementType_XML_DOCUMENT_NODE, xmlElementType_XML_ELEMENT_NODE,
    xmlElementType_XML_ENTITY_REF_NODE, xmlElementType_XML_PI_NODE, xmlElementType_XML_TEXT_NODE,
    xmlError, xmlFreeParserCtxt, xmlNewParserCtxt, xmlNodePtr, xmlParserCtxtPtr, xmlParserOption,
    xmlParserOption_XML_PARSE_IGNORE_ENC, xmlParserOption_XML_PARSE_NOERROR,
    xmlParserOption_XML_PARSE_NONET, xmlParserOption_XML_PARSE_NOWARNING, xmlSAX2GetColumnNumber,
    xmlSAX2GetLineNumber, xmlSetStructuredErrorFunc, xmlStopParser, xmlStructuredErrorFunc,
};
use libxml::error::StructuredError;
use libxml::tree::Document;
use std::cell::{Cell, RefCell};
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};

/// Why libxml2 did not return a document.
#[derive(Debug)]
pub enum Failure {
    /// libxml2 met an entity declaration or reference and stopped (line, column).
    Entity(usize, usize),
    /// libxml2 reported the document not well-formed; its first diagnostic, if any.
    Malformed(Option<StructuredError>),
    /// libxml2 could not allocate a parser context.
    NoContext,
}

/// How many names a thread's parser dictionary may hold before the context is replaced.
pub const DICTIONARY_LIMIT: usize = 100_000;

thread_local! {
    /// Where the entity handlers of a parse on this thread record the first refusal.
    static ENTITY_REFUSED: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
    /// The parser context this thread reuses; `None` until the first parse.
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

/// Parses `text` (at most `i32::MAX` bytes) with libxml2, no network, no DTD loading,
/// no entity substitution and entity declarations refused inside libxml2.
/// `utf8` says `text` is UTF-8 whatever its declaration names.
pub fn read(text: &[u8], utf8: bool) -> Result<Document, Failure> {
    let size = c_int::try_from(text.len()).map_err(|_| Failure::Malformed(None))?;
    let mut options = xmlParserOption_XML_PARSE_NONET
        | xmlParserOption_XML_PARSE_NOERROR
        | xmlParserOption_XML_PARSE_NOWARNING;
    if utf8 {
        options |= xmlParserOption_XML_PARSE_IGNORE_ENC;
    }
    let mut collector = Collector::install();
    ENTITY_REFUSED.with(|r| r.set(None));
    let document = if utf8 {
        CONTEXT.with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) => {
                let context = match slot.as_mut() {
                    Some(context) => context,
                    None => slot.insert(Context::new().ok_or(Failure::NoContext)?),
                };
                let document = context.read(text, size, options);
                if context.dictionary_size() > DICTIONARY_LIMIT {
                    *slot = None;
                }
                Ok(document)
            }
            // A parse started from inside another one on this thread (never expected).
            Err(_) => Ok(Context::new()
                .ok_or(Failure::NoContext)?
                .read(text, size, options)),
        })?
    } else {
        // libxml2 keeps `XML_PARSE_IGNORE_ENC` on a context once set, so a document read
        // in its declared encoding gets a context of its own.
        Context::new()
            .ok_or(Failure::NoContext)?
            .read(text, size, options)
    };
    let refused = ENTITY_REFUSED.with(Cell::take);
    let first_error = collector.take();
    let document = (!document.is_null()).then(|| Document::new_ptr(document));
    match (refused, document) {
        (Some((line, column)), _) => Err(Failure::Entity(line, column)),
        (None, Some(document)) => Ok(document),
        (None, None) => Err(Failure::Malformed(first_error)),
    }
}

/// A parser context whose SAX handler refuses entities; freed on drop.
struct Context(xmlParserCtxtPtr);

impl Context {
    fn new() -> Option<Context> {
        // SAFETY: xmlNewParserCtxt returns a new context with its own SAX handler (or null).
        let ctxt = unsafe { xmlNewParserCtxt() };
        if ctxt.is_null() {
            return None;
        }
        // SAFETY: `ctxt` is non-null and its `sax` field points to the handler it owns;
        // replacing two callbacks keeps every other SAX2 default.
        unsafe {
            let sax = (*ctxt).sax;
            if sax.is_null() {
                xmlFreeParserCtxt(ctxt);
                return None;
            }
            (*sax).entityDecl = Some(refuse_entity_declaration);
            (*sax).reference = Some(refuse_entity_reference);
        }
        Some(Context(ctxt))
    }

    /// Reads one document with this context; null when libxml2 returned none.
    fn read(&mut self, text: &[u8], size: c_int, options: xmlParserOption) -> xmlDocPtr {
        // SAFETY: `self.0` is a live parser context owned by `self` (libxml2 resets it at
        // the start of the read); `text` outlives the call and `size` is its length; the
        // URL and encoding are null (libxml2 defaults).
        unsafe {
            xmlCtxtReadMemory(
                self.0,
                text.as_ptr().cast::<c_char>(),
                size,
                std::ptr::null(),
                std::ptr::null(),
                options as c_int,
            )
        }
    }

    /// How many names the context's dictionary holds.
    fn dictionary_size(&self) -> usize {
        // SAFETY: `self.0` is live; its dictionary is null or owned (and referenced) by it.
        unsafe {
            let dict = (*self.0).dict;
            if dict.is_null() {
                0
            } else {
                usize::try_from(xmlDictSize(dict)).unwrap_or(0)
            }
        }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: the context was created by xmlNewParserCtxt and is freed once; the
        // documents it produced are owned separately by `Document` and hold their own
        // reference to its dictionary.
        unsafe { xmlFreeParserCtxt(self.0) }
    }
}

/// SAX `entityDecl`: records where and halts the parse.
unsafe extern "C" fn refuse_entity_declaration(
    ctx: *mut c_void,
    _name: *const xmlChar,
    _kind: c_int,
    _public_id: *const xmlChar,
    _system_id: *const xmlChar,
    _content: *mut xmlChar,
) {
    // SAFETY: libxml2 passes the parser context as user data to SAX2 callbacks.
    unsafe { halt(ctx) }
}

/// SAX `reference`: an entity reference other than the five predefined ones.
unsafe extern "C" fn refuse_entity_reference(ctx: *mut c_void, _name: *const xmlChar) {
    // SAFETY: as above.
    unsafe { halt(ctx) }
}

/// # Safety
/// `ctx` must be the parser context of the running parse.
unsafe fn halt(ctx: *mut c_void) {
    // SAFETY: the caller guarantees `ctx` is the live context; these calls only read its
    // input position and then stop it (xmlStopParser is meant to be called from handlers).
    unsafe {
        let line = xmlSAX2GetLineNumber(ctx).max(0) as usize;
        let column = xmlSAX2GetColumnNumber(ctx).max(0) as usize;
        ENTITY_REFUSED.with(|r| {
            if r.get().is_none() {
                r.set(Some((line, column)));
            }
        });
        let ctxt = ctx as xmlParserCtxtPtr;
        (*ctxt).wellFormed = 0;
        xmlStopParser(ctxt);
    }
}

/// Keeps the first error libxml2 reports on this thread while alive, restoring the
/// previous handler on drop.
struct Collector {
    saved_handler: xmlStructuredErrorFunc,
    saved_data: *mut c_void,
    first: Box<Option<StructuredError>>,
}

impl Collector {
    fn install() -> Collector {
        let mut first: Box<Option<StructuredError>> = Box::default();
        let data = &mut *first as *mut Option<StructuredError> as *mut c_void;
        // SAFETY: the thread's current handler is read and restored in `drop`; `data`
        // stays valid (boxed) until then.
        unsafe {
            let (saved_handler, saved_data) =
                (*__xmlStructuredError(), *__xmlStructuredErrorContext());
            xmlSetStructuredErrorFunc(data, Some(keep_first));
            Collector {
                saved_handler,
                saved_data,
                first,
            }
        }
    }

    fn take(&mut self) -> Option<StructuredError> {
        self.first.take()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        // SAFETY: restores exactly what `install` found.
        unsafe { xmlSetStructuredErrorFunc(self.saved_data, self.saved_handler) }
    }
}

unsafe extern "C" fn keep_first(data: *mut c_void, error: *mut xmlError) {
    if data.is_null() || error.is_null() {
        return;
    }
    // SAFETY: `data` is the boxed slot of the installed `Collector`; `error` is valid for
    // the duration of the call.
    unsafe {
        let slot = &mut *(data as *mut Option<StructuredError>);
        if slot.is_none() {
            *slot = Some(StructuredError::from_raw(error));
        }
    }
}

/// What the walk of a finished tree refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Character data (text, CDATA, comment, processing instruction or attribute value)
    /// longer than the limit: line, length in bytes.
    TextTooLong(usize, usize),
    /// An entity reference node left in the tree: line.
    EntityReference(usize),
}

/// The first thing in `document` the walk refuses: character data longer than `limit`
/// bytes, or an entity reference node (none can exist when the handlers above ran; the
/// walk makes sure of it for every document handed on).
pub fn inspect(document: &Document, limit: usize) -> Option<Refusal> {
    // SAFETY: the walk only reads the tree owned by `document`, which is borrowed for the
    // whole call; it follows child, sibling, parent and attribute links libxml2 keeps
    // consistent, and descends only into elements (never into entity or DTD nodes).
    unsafe {
        let root = document.doc_ptr();
        let mut node: xmlNodePtr = (*root).children;
        while !node.is_null() {
            if let Some(found) = over(node, limit) {
                return Some(found);
            }
            if (*node).type_ == xmlElementType_XML_ENTITY_REF_NODE {
                return Some(Refusal::EntityReference(line(node)));
            }
            if (*node).type_ == xmlElementType_XML_ELEMENT_NODE {
                let mut attr = (*node).properties;
                while !attr.is_null() {
                    let mut value = (*attr).children;
                    let mut length = 0;
                    while !value.is_null() {
                        if (*value).type_ == xmlElementType_XML_ENTITY_REF_NODE {
                            return Some(Refusal::EntityReference(line(node)));
                        }
                        length += content_length(value);
                        value = (*value).next;
                    }
                    if length > limit {
                        return Some(Refusal::TextTooLong(line(node), length));
                    }
                    attr = (*attr).next;
                }
                if !(*node).children.is_null() {
                    node = (*node).children;
                    continue;
                }
            }
            loop {
                if !(*node).next.is_null() {
                    node = (*node).next;
                    break;
                }
                node = (*node).parent;
                if node.is_null() || node == root as xmlNodePtr {
                    return None;
                }
            }
        }
        None
    }
}

/// # Safety
/// `node` must be a live node of a parsed document.
unsafe fn over(node: xmlNodePtr, limit: usize) -> Option<Refusal> {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let kind = (*node).type_;
        let text = kind == xmlElementType_XML_TEXT_NODE
            || kind == xmlElementType_XML_CDATA_SECTION_NODE
            || kind == xmlElementType_XML_COMMENT_NODE
            || kind == xmlElementType_XML_PI_NODE;
        let length = if text { content_length(node) } else { 0 };
        (length > limit).then(|| Refusal::TextTooLong(line(node), length))
    }
}

/// # Safety
/// `node` must be a live node.
unsafe fn content_length(node: xmlNodePtr) -> usize {
    // SAFETY: `content` is null or a NUL-terminated string owned by the node.
    unsafe {
        let content = (*node).content;
        if content.is_null() {
            0
        } else {
            CStr::from_ptr(content as *const c_char).to_bytes().len()
        }
    }
}

/// # Safety
/// `node` must be a live node.
unsafe fn line(node: xmlNodePtr) -> usize {
    // SAFETY: guaranteed by the caller; `line` and `parent` are plain fields. Text nodes
    // carry no line of their own: theirs is their element's.
    unsafe {
        let mut at = node;
        // The document node is an xmlDoc, which has no `line`: the walk stops below it.
        while !at.is_null() && (*at).type_ != xmlElementType_XML_DOCUMENT_NODE {
            if (*at).line != 0 {
                return usize::from((*at).line);
            }
            at = (*at).parent;
        }
        0
    }
}
