//! The bounded frame queue between rasterizers and the compositor, and its drop policies.
