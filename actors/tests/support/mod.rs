//! Helpers shared by the actors crate's integration tests.

pub mod receiver;
