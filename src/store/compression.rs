//! Payload compression. Every body vitrine stores is a *deflate piece*: a short header
//! (magic, uncompressed size, CRC-32) and raw deflate data that refers to nothing before
//! it and ends byte-aligned on a sync flush, without a final block. Such pieces can be
//! copied as they are into a gzip stream, so a harvester asking for gzip gets the stored
//! bytes instead of a page compressed again for every request (see `web::gzip`). Bodies
//! written by earlier versions are zstd frames; they are still read.
//!
//! One reusable (de)compressor per thread.

use super::error::StoreError;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::cell::RefCell;

/// The first bytes of a deflate piece (a zstd frame starts with `28 B5 2F FD`).
const MAGIC: [u8; 4] = *b"VDF\x01";
/// Magic, uncompressed size (u64 LE) and CRC-32 of the uncompressed bytes (u32 LE).
const HEADER: usize = 4 + 8 + 4;
/// zlib's fastest level, the one gzip responses were compressed at before bodies were
/// stored as pieces: an import spends on it what it spent on zstd (level 6 would cost a
/// quarter more import CPU for a quarter fewer bytes).
const LEVEL: u32 = 1;

thread_local! {
    static COMPRESSOR: RefCell<Compress> = RefCell::new(Compress::new(Compression::new(LEVEL), false));
}

/// Compresses a payload for storage into a deflate piece.
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + bytes.len() / 4 + 64);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    deflate_segment(bytes, &mut out);
    out
}

/// Appends `bytes` to `out` as raw deflate data that refers to nothing before it and ends
/// with a sync flush: byte-aligned and not final, so that it can stand anywhere in a
/// deflate stream.
pub fn deflate_segment(bytes: &[u8], out: &mut Vec<u8>) {
    COMPRESSOR.with(|cell| {
        let mut c = cell.borrow_mut();
        // A fresh state: no back-reference into what comes before this segment.
        c.reset();
        let start = c.total_in();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.len().max(bytes.len() / 4).max(1024));
            }
            let read = (c.total_in() - start) as usize;
            let status = c.compress_vec(&bytes[read..], out, FlushCompress::Sync);
            let done = (c.total_in() - start) as usize == bytes.len();
            // zlib's flush is complete once it returns with output space left.
            if matches!(status, Err(_) | Ok(Status::StreamEnd))
                || (done && out.len() < out.capacity())
            {
                break;
            }
        }
    })
}

/// Appends `bytes` to `out` as deflate *stored* blocks: not compressed, at no cost, and like
/// [`deflate_segment`] standing alone and byte-aligned (for the short markup between
/// records, where resetting a compressor costs more than the bytes it would save).
pub fn stored_segment(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 5 * (bytes.len() / 65_535 + 1));
    for block in bytes.chunks(65_535) {
        let len = block.len() as u16;
        // Not final, type "stored", padded to the byte boundary; then LEN and its complement.
        out.push(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
}

/// A stored deflate piece, as found in a payload.
#[derive(Debug, Clone, Copy)]
pub struct Deflated<'a> {
    /// The raw deflate data (ending on a sync flush).
    pub data: &'a [u8],
    /// The uncompressed size.
    pub size: u64,
    /// CRC-32 of the uncompressed bytes.
    pub crc: u32,
}

/// The deflate piece a payload holds, if it is one.
pub fn deflated(bytes: &[u8]) -> Option<Deflated<'_>> {
    if bytes.len() < HEADER || bytes[..4] != MAGIC {
        return None;
    }
    let size = u64::from_le_bytes(bytes[4..12].try_into().ok()?);
    let crc = u32::from_le_bytes(bytes[12..16].try_into().ok()?);
    Some(Deflated {
        data: &bytes[HEADER..],
        size,
        crc,
    })
}

/// The uncompressed size a payload records (every payload vitrine writes records it).
fn recorded_size(bytes: &[u8]) -> Option<u64> {
    match deflated(bytes) {
        Some(piece) => Some(piece.size),
        None => match zstd::zstd_safe::get_frame_content_size(bytes) {
            Ok(Some(size)) => Some(size),
            _ => None,
        },
    }
}

/// The uncompressed size of a stored payload, from its header (without decompressing);
/// the stored size for a payload that does not record it.
pub fn decompressed_size(bytes: &[u8]) -> u64 {
    recorded_size(bytes).unwrap_or(bytes.len() as u64)
}

fn damaged(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored payload is damaged: {e}"))
}

/// Decompresses a stored payload (a deflate piece, or a zstd frame of earlier versions).
pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    match deflated(bytes) {
        Some(piece) => inflate(piece),
        None => unzstd(bytes),
    }
}

fn inflate(piece: Deflated<'_>) -> Result<Vec<u8>, StoreError> {
    thread_local! {
        static DECOMPRESSOR: RefCell<Decompress> = RefCell::new(Decompress::new(false));
    }
    let size = usize::try_from(piece.size).map_err(|e| damaged(&e))?;
    // One byte more than recorded: a piece that decodes to more is caught, not cut.
    let mut out = Vec::with_capacity(size + 1);
    DECOMPRESSOR.with(|cell| {
        let mut d = cell.borrow_mut();
        d.reset(false);
        d.decompress_vec(piece.data, &mut out, FlushDecompress::Sync)
            .map_err(|e| damaged(&e))?;
        if d.total_in() != piece.data.len() as u64 || out.len() != size {
            return Err(damaged(&format_args!(
                "{} of {} compressed bytes give {} bytes where {size} are recorded",
                d.total_in(),
                piece.data.len(),
                out.len()
            )));
        }
        if crc32fast::hash(&out) != piece.crc {
            return Err(damaged(&"its CRC-32 does not match"));
        }
        Ok(out)
    })
}

fn unzstd(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    thread_local! {
        static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { RefCell::new(None) };
    }
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
    /// The payload as stored (a deflate piece, or a zstd frame).
    pub frame: Vec<u8>,
    /// Whether the body is sent as stored: it was checked, when written, to hold no
    /// character illegal in XML 1.0.
    pub clean: bool,
}

impl StoredBody {
    /// The uncompressed size, when the payload records it (every payload vitrine writes).
    pub fn size(&self) -> Option<u64> {
        recorded_size(&self.frame)
    }

    /// The uncompressed body.
    pub fn decompress(&self) -> Result<Vec<u8>, StoreError> {
        decompress(&self.frame)
    }

    /// The deflate piece, when the body is stored as one.
    pub fn deflated(&self) -> Option<Deflated<'_>> {
        deflated(&self.frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn samples() -> Vec<Vec<u8>> {
        let mut noise = Vec::new();
        let mut x: u32 = 7;
        for _ in 0..70_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            noise.push((x >> 16) as u8);
        }
        vec![
            Vec::new(),
            b"<dc/>".to_vec(),
            b"<mets:mets>pages</mets:mets>".repeat(5_000),
            noise,
        ]
    }

    #[test]
    fn a_piece_round_trips_and_records_its_size_and_crc() {
        for text in samples() {
            let stored = compress(&text);
            assert_eq!(&stored[..4], b"VDF\x01");
            assert_eq!(decompressed_size(&stored), text.len() as u64);
            let piece = deflated(&stored).expect("a deflate piece");
            assert_eq!(piece.crc, crc32fast::hash(&text));
            assert_eq!(decompress(&stored).unwrap(), text);
        }
        assert!(compress(&b"abc".repeat(10_000)).len() < 1_000);
    }

    #[test]
    fn pieces_joined_between_a_gzip_header_and_trailer_are_one_gzip_stream() {
        // What a gzip response is made of: pieces side by side, then the final block.
        let texts = samples();
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        let mut crc = crc32fast::Hasher::new();
        let mut whole = Vec::new();
        for text in &texts {
            let stored = compress(text);
            let piece = deflated(&stored).unwrap();
            gz.extend_from_slice(piece.data);
            crc.combine(&crc32fast::Hasher::new_with_initial_len(
                piece.crc, piece.size,
            ));
            whole.extend_from_slice(text);
            deflate_segment(b"<between/>", &mut gz);
            crc.update(b"<between/>");
            whole.extend_from_slice(b"<between/>");
            stored_segment(b"<stored/>", &mut gz);
            crc.update(b"<stored/>");
            whole.extend_from_slice(b"<stored/>");
        }
        let long: Vec<u8> = (0..140_000u32).map(|i| (i % 251) as u8).collect();
        stored_segment(&long, &mut gz);
        crc.update(&long);
        whole.extend_from_slice(&long);
        gz.extend_from_slice(&[0x03, 0x00]);
        gz.extend_from_slice(&crc.finalize().to_le_bytes());
        gz.extend_from_slice(&(whole.len() as u32).to_le_bytes());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, whole);
    }

    #[test]
    fn zstd_frames_of_earlier_versions_are_still_read() {
        let text = b"<mets:mets>old</mets:mets>".repeat(300);
        let frame = zstd::bulk::compress(&text, 3).unwrap();
        assert!(deflated(&frame).is_none());
        assert_eq!(decompressed_size(&frame), text.len() as u64);
        assert_eq!(decompress(&frame).unwrap(), text);
        let body = StoredBody { frame, clean: true };
        assert_eq!(body.size(), Some(text.len() as u64));
        assert!(body.deflated().is_none());
    }

    #[test]
    fn a_damaged_piece_is_an_error_not_other_bytes() {
        let text = b"<mets:mets>pages</mets:mets>".repeat(500);
        let stored = compress(&text);
        let mut cut = stored.clone();
        cut.truncate(stored.len() - 8);
        let mut longer = stored.clone();
        longer[4] = longer[4].wrapping_sub(1);
        let mut wrong_crc = stored.clone();
        wrong_crc[12] ^= 0xff;
        let mut trailing = stored.clone();
        trailing.extend_from_slice(b"junk");
        for bad in [cut, longer, wrong_crc, trailing] {
            let e = decompress(&bad).unwrap_err().to_string();
            assert!(e.contains("stored payload is damaged"), "{e}");
        }
    }
}
