//! The pipeline pieces of motionrender, with no actix in them.
//!
//! So far: the MotionText scenario model (parse, migrate v1.3, resolve
//! `define`, validate, alive intervals).

pub mod scenario;

