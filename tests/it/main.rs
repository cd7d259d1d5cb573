//! One integration test binary (one link step): every module starts the real app.
// A failed expectation in a test harness should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod admin;
mod blocks;
mod browser;
mod common;
mod durability;
mod federation;
mod fedify_peer;
mod feeds;
mod follows;
mod home_feed;
mod media;
mod notifications;
mod page_cache;
mod plans;
mod posts;
mod reports;
mod search;
mod security;
mod seed;
