//! gzip responses from stored deflate pieces. A stored body is a deflate piece (see
//! `store::compression`): raw deflate data that stands alone and ends byte-aligned. A
//! gzip response is therefore the gzip header, each piece of the document in turn (the
//! markup vitrine writes around the records deflated as it is reached, each stored body
//! copied as stored), the final empty block, and the trailer, whose CRC-32 is combined
//! from the pieces' own. A page of a thousand records costs a few copies instead of
//! compressing megabytes for every harvester.

use crate::oai::document::{Document, Piece};
use crate::store::{deflate_segment, stored_segment, StoreError};
use actix_web::http::header::{AcceptEncoding, Encoding, Header};
use actix_web::web::Bytes;
use actix_web::HttpRequest;

/// The gzip member header: deflate, no flags, no time, unknown operating system.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// Markup shorter than this (a record's header, the envelope) is sent in stored blocks:
/// deflating it would cost a compressor reset for a hundred bytes saved.
const DEFLATE_FROM: usize = 4096;
/// A final, empty block with fixed codes: ends the deflate stream.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// The encoding the compression middleware would choose for `req` among those the server
/// offers (identity, gzip, deflate); `None` when the client accepts none of them.
pub fn negotiated(req: &HttpRequest) -> Option<Encoding> {
    const OFFERED: [Encoding; 3] = [Encoding::identity(), Encoding::gzip(), Encoding::deflate()];
    AcceptEncoding::parse(req)
        .ok()
        .and_then(|accept| accept.negotiate(OFFERED.iter()))
}

/// The gzip encoding of `document`, as chunks made when the connection reaches them.
pub fn encode(document: Document) -> impl Iterator<Item = Result<Bytes, StoreError>> {
    Gzip {
        pieces: document.into_pieces().into_iter(),
        crc: crc32fast::Hasher::new(),
        len: 0,
        state: State::Header,
    }
}

enum State {
    Header,
    Body,
    Done,
}

struct Gzip {
    pieces: std::vec::IntoIter<Piece>,
    crc: crc32fast::Hasher,
    len: u64,
    state: State,
}

impl Gzip {
    /// A piece of the document as deflate data.
    fn deflate(&mut self, piece: Piece) -> Result<Bytes, StoreError> {
        let bytes = match piece {
            Piece::Stored(body, size) => match body.deflated() {
                Some(stored) if stored.size == size as u64 => {
                    let (crc, at) = (stored.crc, body.frame.len() - stored.data.len());
                    self.crc
                        .combine(&crc32fast::Hasher::new_with_initial_len(crc, stored.size));
                    self.len += stored.size;
                    return Ok(Bytes::from(body.frame).slice(at..));
                }
                // A body stored by an earlier version (zstd), or one whose size does not
                // match the document's: sent as its bytes, which are checked.
                _ => Piece::Stored(body, size).into_bytes()?,
            },
            Piece::Bytes(bytes) => bytes,
        };
        self.crc.update(&bytes);
        self.len += bytes.len() as u64;
        let mut out = Vec::with_capacity(bytes.len() / 3 + 64);
        if bytes.len() < DEFLATE_FROM {
            stored_segment(&bytes, &mut out);
        } else {
            deflate_segment(&bytes, &mut out);
        }
        Ok(Bytes::from(out))
    }
}

impl Iterator for Gzip {
    type Item = Result<Bytes, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.state {
            State::Header => {
                self.state = State::Body;
                Some(Ok(Bytes::from_static(&HEADER)))
            }
            State::Body => match self.pieces.next() {
                Some(piece) => {
                    let chunk = self.deflate(piece);
                    if chunk.is_err() {
                        self.state = State::Done;
                    }
                    Some(chunk)
                }
                None => {
                    self.state = State::Done;
                    let mut trailer = FINAL_BLOCK.to_vec();
                    trailer.extend_from_slice(&self.crc.clone().finalize().to_le_bytes());
                    // ISIZE: the length modulo 2^32.
                    trailer.extend_from_slice(&(self.len as u32).to_le_bytes());
                    Some(Ok(Bytes::from(trailer)))
                }
            },
            State::Done => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oai::document::Chunks;
    use crate::store::StoredBody;
    use quick_xml::events::{BytesEnd, BytesStart, Event};
    use std::io::Read;

    fn document(bodies: Vec<StoredBody>) -> (Document, Document) {
        let build = |bodies: Vec<StoredBody>| {
            let mut c = Chunks::default();
            for body in bodies {
                let w = c.writer();
                w.write_event(Event::Start(BytesStart::new("record")))
                    .unwrap();
                let size = body.size().unwrap() as usize;
                c.push_stored(body, size);
                c.writer()
                    .write_event(Event::End(BytesEnd::new("record")))
                    .unwrap();
            }
            // Long markup is deflated, short markup goes in stored blocks.
            c.push(b"<long>markup</long>".repeat(1_000));
            c.push(b"<end>\xc3\xa4</end>".to_vec());
            c.finish()
        };
        (build(bodies.clone()), build(bodies))
    }

    fn gunzip(document: Document) -> Vec<u8> {
        let gz: Vec<u8> = encode(document)
            .map(|chunk| chunk.unwrap())
            .flat_map(|chunk| chunk.to_vec())
            .collect();
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        let mut out = Vec::new();
        // One member, checked against its CRC-32 and length by the decoder.
        let mut decoder = flate2::read::GzDecoder::new(&gz[..]);
        decoder.read_to_end(&mut out).unwrap();
        assert!(
            decoder.into_inner().is_empty(),
            "bytes after the gzip member"
        );
        out
    }

    #[test]
    fn a_gzip_response_decodes_to_the_identity_response() {
        let piece = |text: &[u8]| StoredBody {
            frame: crate::store::compress(text),
            clean: true,
        };
        let old = StoredBody {
            frame: zstd::bulk::compress(&b"<old/>".repeat(100), 3).unwrap(),
            clean: true,
        };
        let bodies = vec![
            piece(&b"<mets:mets>pages</mets:mets>".repeat(2_000)),
            old,
            piece(b""),
            piece("<dc>ä</dc>".as_bytes()),
        ];
        let (gz, identity) = document(bodies);
        assert_eq!(gunzip(gz), identity.into_bytes().unwrap());
    }

    #[test]
    fn an_empty_document_is_a_valid_gzip_stream() {
        assert_eq!(gunzip(Document::default()), b"");
    }

    #[test]
    fn a_damaged_old_body_ends_the_stream_with_an_error() {
        let body = StoredBody {
            frame: b"\x28\xb5\x2f\xfd garbage".to_vec(),
            clean: true,
        };
        let mut c = Chunks::default();
        c.push_stored(body, 5);
        let chunks: Vec<_> = encode(c.finish()).collect();
        assert!(chunks.last().unwrap().is_err());
        assert_eq!(chunks.len(), 2, "nothing follows the error");
    }

    fn chosen(req: &HttpRequest) -> bool {
        negotiated(req) == Some(Encoding::gzip())
    }

    #[test]
    fn gzip_is_chosen_exactly_when_the_middleware_would_choose_it() {
        let cases = [
            ("gzip", true),
            ("gzip, deflate", true),
            ("br;q=1.0, gzip;q=0.8, *;q=0.1", true),
            ("deflate", false),
            ("deflate, gzip;q=0.5", false),
            ("identity", false),
            ("gzip;q=0", false),
            ("", false),
        ];
        for (accept, gzip) in cases {
            let mut req = actix_web::test::TestRequest::default();
            if !accept.is_empty() {
                req = req.insert_header(("accept-encoding", accept));
            }
            assert_eq!(chosen(&req.to_http_request()), gzip, "{accept:?}");
        }
    }
}
