//! HTTP routes of motionrender.
