//! A response document as a sequence of pieces: the XML vitrine writes around the records
//! and each record's metadata as it came from the store, moved rather than copied, so a
//! page of large records is never assembled into one buffer. Metadata known to be sent
//! as stored stays compressed until the HTTP layer reaches it, so a page in flight holds
//! compressed bytes. The HTTP layer sends the pieces one after the other.

use crate::store::{StoreError, StoredBody};
use quick_xml::Writer;

/// One piece of a response document.
#[derive(Debug)]
pub enum Piece {
    /// Bytes sent as they are.
    Bytes(Vec<u8>),
    /// A stored body sent decompressed; its uncompressed size is the second field.
    Stored(StoredBody, usize),
}

impl Piece {
    /// The bytes this piece sends (decompressing a stored body).
    pub fn into_bytes(self) -> Result<Vec<u8>, StoreError> {
        match self {
            Piece::Bytes(bytes) => Ok(bytes),
            Piece::Stored(body, size) => {
                let bytes = body.decompress()?;
                if bytes.len() != size {
                    return Err(StoreError::Other(anyhow::anyhow!(
                        "stored payload is damaged: {} bytes where its frame records {size}",
                        bytes.len()
                    )));
                }
                Ok(bytes)
            }
        }
    }
}

/// A document being written: markup goes through [`Chunks::writer`], large stored
/// metadata through [`Chunks::push`] or [`Chunks::push_stored`].
pub struct Chunks {
    done: Vec<Piece>,
    len: usize,
    w: Writer<Vec<u8>>,
    issued_token: bool,
}

impl Default for Chunks {
    fn default() -> Self {
        Chunks {
            done: Vec::new(),
            len: 0,
            w: Writer::new(Vec::new()),
            issued_token: false,
        }
    }
}

impl From<Vec<u8>> for Chunks {
    fn from(bytes: Vec<u8>) -> Self {
        let mut chunks = Chunks::default();
        chunks.push(bytes);
        chunks
    }
}

impl Chunks {
    /// The writer for markup (appends to the current chunk).
    pub fn writer(&mut self) -> &mut Writer<Vec<u8>> {
        &mut self.w
    }

    /// Appends bytes as a chunk of their own, without copying them.
    pub fn push(&mut self, bytes: Vec<u8>) {
        self.flush();
        self.len += bytes.len();
        self.done.push(Piece::Bytes(bytes));
    }

    /// Appends a stored body, to be decompressed when it is sent; `size` is its
    /// uncompressed size.
    pub fn push_stored(&mut self, body: StoredBody, size: usize) {
        self.flush();
        self.len += size;
        self.done.push(Piece::Stored(body, size));
    }

    /// Notes that the document carries a resumption token for the next page.
    pub fn mark_token_issued(&mut self) {
        self.issued_token = true;
    }

    /// Appends every piece of `other`.
    pub fn append(&mut self, other: Chunks) {
        let other = other.finish();
        self.flush();
        self.issued_token |= other.issued_token;
        self.len += other.len;
        self.done.extend(other.pieces);
    }

    fn flush(&mut self) {
        if !self.w.get_ref().is_empty() {
            let markup = std::mem::take(self.w.get_mut());
            self.len += markup.len();
            self.done.push(Piece::Bytes(markup));
        }
    }

    /// The finished document.
    pub fn finish(mut self) -> Document {
        self.flush();
        Document {
            pieces: self.done,
            len: self.len,
            issued_token: self.issued_token,
        }
    }
}

/// A finished response document.
#[derive(Debug, Default)]
pub struct Document {
    pieces: Vec<Piece>,
    len: usize,
    issued_token: bool,
}

impl Document {
    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it carries a resumption token issued for the next page.
    pub fn issued_token(&self) -> bool {
        self.issued_token
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its pieces, in order.
    pub fn into_pieces(self) -> Vec<Piece> {
        self.pieces
    }

    /// The whole document in one buffer (for callers that need it whole).
    pub fn into_bytes(self) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::with_capacity(self.len);
        for piece in self.pieces {
            out.extend_from_slice(&piece.into_bytes()?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::{BytesEnd, BytesStart, Event};

    #[test]
    fn markup_and_pushed_bytes_keep_their_order() {
        let mut c = Chunks::default();
        c.writer()
            .write_event(Event::Start(BytesStart::new("a")))
            .unwrap();
        c.push(b"<big/>".to_vec());
        c.writer()
            .write_event(Event::End(BytesEnd::new("a")))
            .unwrap();
        let doc = c.finish();
        assert_eq!(doc.len(), 13);
        assert_eq!(doc.into_bytes().unwrap(), b"<a><big/></a>");
    }

    #[test]
    fn a_stored_body_counts_with_its_uncompressed_size_and_is_sent_decompressed() {
        let text = b"<mets:mets>pages</mets:mets>".repeat(100);
        let body = StoredBody {
            frame: crate::store::compress(&text),
            clean: true,
        };
        assert!(body.frame.len() < text.len());
        let mut c = Chunks::default();
        c.writer()
            .write_event(Event::Start(BytesStart::new("metadata")))
            .unwrap();
        c.push_stored(body, text.len());
        c.writer()
            .write_event(Event::End(BytesEnd::new("metadata")))
            .unwrap();
        let doc = c.finish();
        assert_eq!(doc.len(), text.len() + 21);
        let bytes = doc.into_bytes().unwrap();
        assert_eq!(&bytes[10..bytes.len() - 11], &text[..]);
    }

    #[test]
    fn a_stored_body_shorter_than_its_recorded_size_is_an_error_not_a_short_response() {
        let body = StoredBody {
            frame: crate::store::compress(b"<dc/>"),
            clean: true,
        };
        assert!(Piece::Stored(body, 6).into_bytes().is_err());
    }
}
