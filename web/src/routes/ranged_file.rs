//! A file answered in full or as one byte range (RFC 9110 `Range`,
//! `If-Range`), streamed from disk a chunk at a time: a download holds a
//! chunk in memory, never the file.

use std::path::Path;

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::HttpResponse;
use bytes::Bytes;
use motionrender_actors::ApiError;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::error_body;

/// Bytes read from disk per chunk sent.
const CHUNK_BYTES: usize = 64 * 1024;

/// The bytes `first..=last` of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    first: u64,
    last: u64,
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Whole,
    Part(ByteRange),
    /// No byte of the file is in the range (416).
    Unsatisfiable,
}

/// `path` as the answer to a request with `headers`: 200 with the whole
/// file, 206 with the range asked, or 416 when no byte of it is in range.
/// For a `HEAD` request (`head`) the same status and headers
/// (`Content-Length` included), and no byte of the file is read.
pub async fn ranged_file(headers: &HeaderMap, path: &Path, content_type: &str, head: bool) -> HttpResponse {
    let opened = async {
        let file = tokio::fs::File::open(path).await?;
        let metadata = file.metadata().await?;
        Ok::<_, std::io::Error>((file, metadata))
    };
    let (mut file, metadata) = match opened.await {
        Ok(opened) => opened,
        Err(error) => return error_body(&ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot read the stored file: {error}"))),
    };
    let size = metadata.len();
    let modified = metadata.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
    let etag = format!("\"{size:x}-{modified:x}\"");
    let range = headers.get(header::RANGE).and_then(|value| value.to_str().ok());
    let if_range = headers.get(header::IF_RANGE).and_then(|value| value.to_str().ok());
    let asked = match (range, if_range) {
        (Some(range), None) => parse_range(range, size),
        (Some(range), Some(validator)) if validator == etag => parse_range(range, size),
        _ => Asked::Whole,
    };
    let (mut response, range) = match asked {
        Asked::Unsatisfiable => {
            let mut error = ApiError::new(416, "RANGE_NOT_SATISFIABLE", format!("the range asked is outside the file's {size} bytes"));
            error.details = serde_json::json!({ "field": "Range", "size": size });
            let mut response = error_body(&error.suggest("ask for bytes=FIRST-LAST within the size"));
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
        Asked::Whole => (HttpResponse::Ok(), ByteRange { first: 0, last: size.saturating_sub(1) }),
        Asked::Part(range) => {
            let mut response = HttpResponse::PartialContent();
            response.insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{size}", range.first, range.last)));
            (response, range)
        }
    };
    let length = if size == 0 { 0 } else { range.last - range.first + 1 };
    let response = response.content_type(content_type).insert_header((header::ACCEPT_RANGES, "bytes")).insert_header((header::ETAG, etag)).take();
    if head {
        // The length is announced; the server sends no body to a HEAD request.
        return with_body(response, length, futures::stream::empty());
    }
    if range.first > 0 {
        if let Err(error) = file.seek(std::io::SeekFrom::Start(range.first)).await {
            return error_body(&ApiError::new(500, "STORAGE_ACCESS_ERROR", format!("cannot read the stored file: {error}")));
        }
    }
    let chunks = futures::stream::unfold((file.take(length), vec![0u8; CHUNK_BYTES]), |(mut file, mut buffer)| async move {
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => Some((Ok::<_, std::io::Error>(Bytes::copy_from_slice(&buffer[..n])), (file, buffer))),
            Err(error) => Some((Err(error), (file, buffer))),
        }
    });
    with_body(response, length, chunks)
}

/// The response with a body of `length` bytes from `chunks`.
fn with_body<S>(mut response: actix_web::HttpResponseBuilder, length: u64, chunks: S) -> HttpResponse
where
    S: futures::Stream<Item = Result<Bytes, std::io::Error>> + 'static,
{
    response.body(SizedStream::new(length, chunks))
}

/// Reads `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX` for a file of
/// `size` bytes. Anything else (several ranges, another unit, bad syntax)
/// is answered with the whole file, as RFC 9110 allows.
fn parse_range(header: &str, size: u64) -> Asked {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return Asked::Whole };
    if spec.contains(',') {
        return Asked::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Asked::Whole };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    let range = match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            Some(0) => return Asked::Unsatisfiable,
            Some(n) if size > 0 => ByteRange { first: size.saturating_sub(n), last: size - 1 },
            Some(_) => return Asked::Unsatisfiable,
            None => return Asked::Whole,
        },
        (first, "") => match number(first) {
            Some(first) => ByteRange { first, last: size.saturating_sub(1) },
            None => return Asked::Whole,
        },
        (first, last) => match (number(first), number(last)) {
            (Some(first), Some(last)) if first <= last => ByteRange { first, last: last.min(size.saturating_sub(1)) },
            _ => return Asked::Whole,
        },
    };
    if range.first >= size {
        Asked::Unsatisfiable
    } else {
        Asked::Part(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(first: u64, last: u64) -> Asked {
        Asked::Part(ByteRange { first, last })
    }

    #[test]
    fn single_ranges_are_read_in_each_form() {
        assert_eq!(parse_range("bytes=0-99", 1000), part(0, 99));
        assert_eq!(parse_range("bytes=900-", 1000), part(900, 999));
        assert_eq!(parse_range("bytes=-100", 1000), part(900, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), part(0, 999));
        assert_eq!(parse_range("bytes=990-5000", 1000), part(990, 999), "the end is cut to the file");
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable() {
        assert_eq!(parse_range("bytes=1000-", 1000), Asked::Unsatisfiable);
        assert_eq!(parse_range("bytes=1000-2000", 1000), Asked::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Asked::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Asked::Unsatisfiable);
    }

    #[test]
    fn what_cannot_be_read_as_one_range_is_the_whole_file() {
        for header in ["bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=", "0-99"] {
            assert_eq!(parse_range(header, 1000), Asked::Whole, "{header}");
        }
    }
}
