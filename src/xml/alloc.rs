//! libxml2's and libxslt's memory through mimalloc, the allocator the binary uses for
//! everything else: parsing a record allocates a node, a name and a text per element,
//! and freeing the tree returns them all, which the C library's allocator serves at
//! about a fifth of an import's time.

use std::ffi::{c_char, c_void, CStr};

unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    // SAFETY: mimalloc's malloc has the C signature and contract.
    unsafe { libmimalloc_sys::mi_malloc(size) }
}

unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `p` came from `malloc`/`realloc` above (libxml2 hands back only its own
    // blocks), as mimalloc's realloc requires.
    unsafe { libmimalloc_sys::mi_realloc(p, size) }
}

unsafe extern "C" fn free(p: *mut c_void) {
    // SAFETY: as for `realloc`; NULL is allowed.
    unsafe { libmimalloc_sys::mi_free(p) }
}

unsafe extern "C" fn strdup(s: *const c_char) -> *mut c_char {
    if s.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: libxml2 passes a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(s) }.to_bytes_with_nul();
    // SAFETY: a fresh block of the string's length, filled before it is returned.
    unsafe {
        let copy = libmimalloc_sys::mi_malloc(bytes.len()) as *mut u8;
        if !copy.is_null() {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), copy, bytes.len());
        }
        copy as *mut c_char
    }
}

/// Makes libxml2 (and libxslt, which allocates through it) use mimalloc. Call it first
/// thing in `main`, before anything parses XML: a block allocated by the C library
/// before the switch must not be freed by mimalloc after it.
pub fn use_mimalloc() {
    // SAFETY: called once at start, before libxml2 allocated anything (caller's contract);
    // the four functions have libxml2's signatures and live for the whole program.
    unsafe {
        // It refuses only missing functions, and none is missing.
        libxml::bindings::xmlMemSetup(Some(free), Some(malloc), Some(realloc), Some(strdup));
    }
}
