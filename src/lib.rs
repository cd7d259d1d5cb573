//! weft: a self-hosted social network in one binary. See ARCHITECTURE.md for the module map;
//! dependencies run one way: app → {web} → service → store → domain.

pub mod app;
pub mod assets;
pub mod config;
pub mod domain;
pub mod error;
pub mod fedbench;
pub mod federation;
pub mod jobs;
pub mod media;
pub mod search;
pub mod service;
pub mod store;
pub mod urls;
pub mod web;
