//! The pipeline pieces of motionrender, with no actix in them.
