//! The xAPI HTTP API.
