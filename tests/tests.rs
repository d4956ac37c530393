//! The end-to-end test binary.
