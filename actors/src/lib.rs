//! Actix actors of motionrender.
