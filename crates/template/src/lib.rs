//! Streaming template mining (not yet implemented).
