//! Segment planning: the timeline split into segments cut in gaps between cues.
