//! The end-to-end test binary: every module of `suite/` is compiled into it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
