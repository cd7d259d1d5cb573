//! Full-text search over posts and people, on Tantivy. No SQL and no HTTP.
//!
//! * [`query`]: the search box's language, a parser that never fails.

pub mod query;
pub use query::{SearchQuery, parse};
