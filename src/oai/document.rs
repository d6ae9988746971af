//! A response document as a sequence of chunks: the XML vitrine writes around the records
//! and each record's metadata as it came from the store, moved rather than copied, so a
//! page of large records is never assembled into one buffer. The HTTP layer sends the
//! chunks one after the other.

use quick_xml::Writer;

/// A document being written: markup goes through [`Chunks::writer`], large stored
/// metadata through [`Chunks::push`].
pub struct Chunks {
    done: Vec<Vec<u8>>,
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
        self.done.push(bytes);
    }

    /// Notes that the document carries a resumption token for the next page.
    pub fn mark_token_issued(&mut self) {
        self.issued_token = true;
    }

    /// Appends every chunk of `other`.
    pub fn append(&mut self, other: Chunks) {
        self.issued_token |= other.issued_token;
        for chunk in other.finish().chunks {
            self.push(chunk);
        }
    }

    fn flush(&mut self) {
        if !self.w.get_ref().is_empty() {
            let markup = std::mem::take(self.w.get_mut());
            self.len += markup.len();
            self.done.push(markup);
        }
    }

    /// The finished document.
    pub fn finish(mut self) -> Document {
        self.flush();
        Document {
            chunks: self.done,
            len: self.len,
            issued_token: self.issued_token,
        }
    }
}

/// A finished response document.
#[derive(Debug, Default)]
pub struct Document {
    chunks: Vec<Vec<u8>>,
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

    /// Its chunks, in order.
    pub fn into_chunks(self) -> Vec<Vec<u8>> {
        self.chunks
    }

    /// The whole document in one buffer (for callers that need it whole).
    pub fn into_bytes(self) -> Vec<u8> {
        self.chunks.concat()
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
        let chunks = doc.into_chunks();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks.concat(), b"<a><big/></a>");
    }
}
