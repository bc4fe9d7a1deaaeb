//! Helpers shared by the integration tests.
pub mod ws;
pub mod server;
