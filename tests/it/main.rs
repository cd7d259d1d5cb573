//! One integration test binary (one link step): every module starts the real app.

mod accounts;
mod admin;
mod common;
mod durability;
mod feeds;
mod follows;
mod notifications;
mod posts;
mod security;
