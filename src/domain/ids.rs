//! Time-sortable 64-bit identifiers (Snowflake-style): milliseconds since 2025-01-01 in the
//! high bits and a sequence in the low 22, so ids sort by creation time and pages are keyset.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};

const EPOCH_MS: i64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z
const SEQ_BITS: u32 = 22;

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<i64>().map($name)
            }
        }
    };
}

id_type!(AccountId);
id_type!(PostId);

/// Hands out strictly increasing ids. One per process; seeded from the newest id in the
/// database at start, so a clock that steps back never produces a duplicate.
#[derive(Debug, Default)]
pub struct IdGen {
    last: AtomicI64,
}

impl IdGen {
    pub fn new(floor: i64) -> Self {
        IdGen {
            last: AtomicI64::new(floor),
        }
    }

    pub fn next(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(EPOCH_MS);
        let candidate = (now - EPOCH_MS).max(0) << SEQ_BITS;
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let next = candidate.max(prev + 1);
            match self
                .last
                .compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(p) => prev = p,
            }
        }
    }

    /// The smallest id that could have been made at `secs` (for time-bounded keyset queries).
    pub fn floor_for_secs(secs: i64) -> i64 {
        ((secs * 1000 - EPOCH_MS).max(0)) << SEQ_BITS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_strictly_increase_even_within_one_millisecond() {
        let g = IdGen::new(0);
        let mut last = 0;
        for _ in 0..10_000 {
            let id = g.next();
            assert!(id > last);
            last = id;
        }
    }

    #[test]
    fn a_floor_above_the_clock_is_respected() {
        let g = IdGen::new(i64::MAX / 2);
        assert_eq!(g.next(), i64::MAX / 2 + 1);
    }
}
