//! Integration tests (pending).
