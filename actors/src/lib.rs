//! Actix actors of motionrender.

pub mod callbacks;
