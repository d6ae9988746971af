//! Payload compression: every stored body is a zstd frame with its size recorded, made
//! and read with one reusable (de)compressor per thread.

use super::error::StoreError;

/// zstd-compresses a payload for storage, with one reusable compressor per thread.
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(3).ok();
        }
        match slot.as_mut().map(|c| c.compress(bytes)) {
            Some(Ok(out)) => out,
            // Level 0 frames always decode; this only happens if zstd cannot allocate.
            _ => zstd::bulk::compress(bytes, 0).unwrap_or_default(),
        }
    })
}

/// The uncompressed size of a stored payload, from its frame header (without
/// decompressing); the stored size for a frame that does not record it.
pub fn decompressed_size(bytes: &[u8]) -> u64 {
    match zstd::zstd_safe::get_frame_content_size(bytes) {
        Ok(Some(size)) => size,
        _ => bytes.len() as u64,
    }
}

/// Decompresses a stored payload, with one reusable decompressor per thread.
pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let damaged = |e: &dyn std::fmt::Display| {
        StoreError::Other(anyhow::anyhow!("stored payload is damaged: {e}"))
    };
    let size = match zstd::zstd_safe::get_frame_content_size(bytes) {
        Ok(Some(size)) => usize::try_from(size).map_err(|e| damaged(&e))?,
        // Frames without a recorded size (never written by vitrine) take the slow path.
        _ => return zstd::stream::decode_all(bytes).map_err(|e| damaged(&e)),
    };
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new().map_err(|e| damaged(&e))?);
        }
        let decompressor = slot.as_mut().expect("set above");
        decompressor
            .decompress(bytes, size)
            .map_err(|e| damaged(&e))
    })
}

/// A stored payload on its way into a response, still compressed: a page in flight
/// holds compressed bytes, and each body is decompressed when the response reaches it.
#[derive(Debug, Clone)]
pub struct StoredBody {
    /// The zstd frame as stored.
    pub frame: Vec<u8>,
    /// Whether the body is sent as stored: it was checked, when written, to hold no
    /// character illegal in XML 1.0.
    pub clean: bool,
}

impl StoredBody {
    /// The uncompressed size, when the frame records it (every frame vitrine writes).
    pub fn size(&self) -> Option<u64> {
        match zstd::zstd_safe::get_frame_content_size(&self.frame) {
            Ok(Some(size)) => Some(size),
            _ => None,
        }
    }

    /// The uncompressed body.
    pub fn decompress(&self) -> Result<Vec<u8>, StoreError> {
        decompress(&self.frame)
    }
}
