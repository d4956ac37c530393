//! The NVENC encoder helper's frame handling, apart from the driver: what a
//! session is asked for (`params`), how a yuv420p frame is laid into an input
//! buffer at its pitch (`picture`), and the order of pictures and bitstreams
//! through a ring of buffers (`stream`). The driver side (`session`, feature
//! `nvenc`) implements [`stream::EncodeSession`].

pub mod annexb;
pub mod params;
pub mod picture;
pub mod stream;

#[cfg(test)]
mod stream_tests;
