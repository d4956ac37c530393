//! Actix actors of motionrender.

pub mod callbacks;
pub mod url_policy;
