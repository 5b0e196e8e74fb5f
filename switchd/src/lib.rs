//! switchd library (being built).
