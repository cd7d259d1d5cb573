//! Fixed-window rate limits kept in memory, keyed by a string such as "login-ip:1.2.3.4".
//! A restart forgets them, which is acceptable for abuse limits on one process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{AppError, AppResult};

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (u32, Instant)>>,
}

const MAX_KEYS: usize = 100_000;

impl RateLimiter {
    /// Fails with `RateLimited` when `key` already has `max` hits in its current window.
    pub fn check(&self, key: &str, max: u32, window: Duration) -> AppResult<()> {
        let Ok(map) = self.windows.lock() else {
            return Ok(());
        };
        if let Some((count, start)) = map.get(key) {
            let elapsed = start.elapsed();
            if elapsed < window && *count >= max {
                return Err(AppError::RateLimited {
                    retry_after_secs: (window - elapsed).as_secs().max(1),
                });
            }
        }
        Ok(())
    }

    /// Counts one hit against `key`.
    pub fn hit(&self, key: &str, window: Duration) {
        let Ok(mut map) = self.windows.lock() else {
            return;
        };
        if map.len() >= MAX_KEYS {
            map.retain(|_, (_, start)| start.elapsed() < window);
            if map.len() >= MAX_KEYS {
                // Under a flood of distinct keys, forget rather than grow without bound.
                map.clear();
            }
        }
        let now = Instant::now();
        let entry = map.entry(key.to_string()).or_insert((0, now));
        if entry.1.elapsed() >= window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    /// Checks, then counts: for actions limited on every attempt (sign-ups, posts).
    pub fn take(&self, key: &str, max: u32, window: Duration) -> AppResult<()> {
        self.check(key, max, window)?;
        self.hit(key, window);
        Ok(())
    }

    /// Takes back one hit (an attempt that turned out fine).
    pub fn refund(&self, key: &str) {
        if let Ok(mut map) = self.windows.lock()
            && let Some(entry) = map.get_mut(key)
        {
            entry.0 = entry.0.saturating_sub(1);
        }
    }

    pub fn reset(&self, key: &str) {
        if let Ok(mut map) = self.windows.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_applies_within_the_window_and_resets_after_it() {
        let l = RateLimiter::default();
        let w = Duration::from_millis(50);
        l.take("k", 2, w).unwrap();
        l.take("k", 2, w).unwrap();
        assert!(matches!(
            l.take("k", 2, w),
            Err(AppError::RateLimited { .. })
        ));
        l.take("other", 2, w).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        l.take("k", 2, w).unwrap();
    }
}
