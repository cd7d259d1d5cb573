//! A synthetic benchmark for `weft bench search`: generates posts (Zipf-distributed words from
//! a 5,000-word vocabulary, 40–280 characters, some hashtags and mentions, a mix of
//! visibilities), rebuilds an index from them, then times queries of one to three words as a
//! logged-in viewer who follows 200 accounts, newest first, 20 per page.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::{
    Order, PersonDoc, PostDoc, RebuildOptions, SearchError, SearchIndex, SearchQuery, ViewerFilter,
    rebuild_with,
};

const VOCABULARY: usize = 5_000;
const AUTHORS: u64 = 10_000;
const FOLLOWED: usize = 200;
const WARMUP: usize = 200;

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub posts: usize,
    pub generate_secs: f64,
    pub rebuild_secs: f64,
    pub bytes_on_disk: u64,
    pub segments: usize,
    pub queries: usize,
    /// Newest first, ids only.
    pub newest: Latency,
    /// By relevance, ids only.
    pub relevant: Latency,
    /// Newest first, ids only: `#tag`, `from:user`, `word has:media`, `"two words"`, in turn.
    pub filters: Latency,
    /// Average hits per newest-first page (20 at most).
    pub mean_hits: f64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort();
        let at = |q: f64| {
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[i.min(samples.len() - 1)].as_secs_f64() * 1000.0
        };
        Latency {
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        )
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "posts: {} (generated in {:.1} s)",
            self.posts, self.generate_secs
        )?;
        writeln!(
            f,
            "rebuild: {:.1} s ({:.0} posts/s), {:.1} MB on disk, {} segments",
            self.rebuild_secs,
            self.posts as f64 / self.rebuild_secs.max(1e-9),
            self.bytes_on_disk as f64 / 1e6,
            self.segments
        )?;
        writeln!(
            f,
            "{} queries of 1-3 words, limit 20, mean {:.1} hits:",
            self.queries, self.mean_hits
        )?;
        writeln!(f, "  newest first:               {}", self.newest)?;
        writeln!(f, "  by relevance:               {}", self.relevant)?;
        write!(f, "  filters and phrases:        {}", self.filters)
    }
}

/// SplitMix64: small, fast, deterministic.
pub(super) struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Word ranks drawn from a Zipf distribution (s = 1).
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for r in 1..=n {
            sum += 1.0 / r as f64;
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// A distinct pronounceable word for each rank: two syllables encode the rank, a third varies.
fn word(rank: usize) -> String {
    const C: &[u8] = b"bcdfghjklmnprstvz";
    const V: &[u8] = b"aeiou";
    let syllable = |i: usize| [C[(i / V.len()) % C.len()], V[i % V.len()]];
    let n = C.len() * V.len();
    let mut out = Vec::with_capacity(6);
    out.extend_from_slice(&syllable(rank % n));
    out.extend_from_slice(&syllable(rank / n));
    if !rank.is_multiple_of(3) {
        out.extend_from_slice(&syllable(rank * 7 % n));
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) struct Generator {
    pub(super) rng: Rng,
    zipf: Zipf,
    words: Vec<String>,
}

impl Generator {
    pub(super) fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng(seed),
            zipf: Zipf::new(VOCABULARY),
            words: (0..VOCABULARY).map(word).collect(),
        }
    }

    fn word(&mut self) -> &str {
        let r = self.zipf.sample(&mut self.rng);
        &self.words[r]
    }

    pub(super) fn post(&mut self, i: u64) -> PostDoc {
        let target = 40 + self.rng.below(241) as usize;
        let mut text = String::with_capacity(target + 16);
        let mut tags = Vec::new();
        while text.len() < target {
            if !text.is_empty() {
                text.push(' ');
            }
            let roll = self.rng.below(100);
            if roll < 4 {
                // Tags come from the 300 most common words.
                let r = self.zipf.sample(&mut self.rng) % 300;
                text.push('#');
                text.push_str(&self.words[r]);
                tags.push(self.words[r].clone());
            } else if roll < 6 {
                let u = self.rng.below(AUTHORS) + 1;
                text.push_str(&format!("@user{u}"));
            } else {
                let w = self.zipf.sample(&mut self.rng);
                text.push_str(&self.words[w]);
            }
        }
        let author = self.rng.below(AUTHORS) + 1;
        let vis_roll = self.rng.below(100);
        let created_at = 1_700_000_000 + i as i64 * 3;
        PostDoc {
            id: 1_000_000_000 + i as i64,
            author_id: author as i64,
            author: format!("user{author}"),
            text,
            content_warning: String::new(),
            tags,
            mentions: Vec::new(),
            addressed: Vec::new(),
            created_at,
            visibility: if vis_roll < 88 {
                0
            } else if vis_roll < 98 {
                1
            } else {
                2
            },
            has_media: self.rng.below(100) < 15,
            is_reply: self.rng.below(100) < 30,
        }
    }

    /// `#tag`, `from:user`, `word has:media` or a two-word phrase, by turns.
    fn filter_query(&mut self, n: usize) -> SearchQuery {
        let mut q = SearchQuery::default();
        match n % 4 {
            0 => {
                let r = self.zipf.sample(&mut self.rng) % 300;
                q.tags.push(self.words[r].clone());
            }
            1 => q.from = Some(format!("user{}", self.rng.below(AUTHORS) + 1)),
            2 => {
                q.words.push(self.word().to_string());
                q.has_media = true;
            }
            _ => q
                .phrases
                .push(vec![self.word().to_string(), self.word().to_string()]),
        }
        q
    }

    pub(super) fn query(&mut self) -> SearchQuery {
        let n = 1 + self.rng.below(3) as usize;
        let words = (0..n).map(|_| self.word().to_string()).collect();
        SearchQuery {
            words,
            ..SearchQuery::default()
        }
    }
}

fn people() -> impl Iterator<Item = PersonDoc> {
    (1..=AUTHORS as i64).map(|u| PersonDoc {
        id: u,
        username: format!("user{u}"),
        display_name: format!("User {u}"),
        bio: String::new(),
    })
}

/// Builds an index of `posts` synthetic posts in `dir` (which should be empty or missing) and
/// times `queries` searches. Release builds only give meaningful figures.
pub fn run(posts: usize, queries: usize, dir: &Path) -> Result<BenchReport, SearchError> {
    run_with(posts, queries, dir, &RebuildOptions::default())
}

/// [`run`] with explicit rebuild settings.
pub fn run_with(
    posts: usize,
    queries: usize,
    dir: &Path,
    opts: &RebuildOptions,
) -> Result<BenchReport, SearchError> {
    let mut g = Generator::new(42);
    let started = Instant::now();
    let docs: Vec<PostDoc> = (0..posts as u64).map(|i| g.post(i)).collect();
    let generate_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let index = rebuild_with(dir, docs.into_iter(), people(), &|_| {}, opts)?;
    let rebuild_secs = started.elapsed().as_secs_f64();
    let stats = index.stats();

    let viewer = ViewerFilter {
        viewer: Some(1),
        followed_authors: (0..FOLLOWED)
            .map(|_| g.rng.below(AUTHORS) as i64 + 1)
            .collect(),
    };
    let qs: Vec<SearchQuery> = (0..queries).map(|_| g.query()).collect();
    for q in qs.iter().take(WARMUP) {
        index.search_posts(q, &viewer, Order::Newest, None, 20)?;
    }
    let (newest, hits) = time_queries(&index, &qs, &viewer, Order::Newest)?;
    let (relevant, _) = time_queries(&index, &qs, &viewer, Order::Relevant)?;
    let fqs: Vec<SearchQuery> = (0..queries).map(|n| g.filter_query(n)).collect();
    let (filters, _) = time_queries(&index, &fqs, &viewer, Order::Newest)?;
    Ok(BenchReport {
        posts,
        generate_secs,
        rebuild_secs,
        bytes_on_disk: stats.bytes_on_disk,
        segments: stats.post_segments,
        queries: qs.len(),
        newest,
        relevant,
        filters,
        mean_hits: hits as f64 / qs.len().max(1) as f64,
    })
}

fn time_queries(
    index: &SearchIndex,
    qs: &[SearchQuery],
    viewer: &ViewerFilter,
    order: Order,
) -> Result<(Latency, usize), SearchError> {
    let mut samples = Vec::with_capacity(qs.len());
    let mut hits = 0;
    for q in qs {
        let started = Instant::now();
        let page = index.search_posts(q, viewer, order, None, 20)?;
        samples.push(started.elapsed());
        hits += page.hits.len();
    }
    Ok((Latency::of(samples), hits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_and_the_generator_is_deterministic() {
        let words: std::collections::HashSet<String> = (0..VOCABULARY).map(word).collect();
        assert_eq!(words.len(), VOCABULARY);
        let a = Generator::new(7).post(3);
        let b = Generator::new(7).post(3);
        assert_eq!(a, b);
        assert!((40..=300).contains(&a.text.len()), "{}", a.text.len());
    }

    #[test]
    fn a_small_run_finds_things() {
        let dir = tempfile::tempdir().unwrap();
        let report = run(3_000, 300, &dir.path().join("bench")).unwrap();
        assert_eq!(report.posts, 3_000);
        assert!(report.mean_hits > 1.0, "{report}");
    }

    /// `WEFT_BENCH_POSTS=1000000 cargo test --release --lib search::bench::tests::full -- --ignored --nocapture`
    /// (`WEFT_BENCH_BUDGET_MB` sets the rebuild's writer memory).
    #[test]
    #[ignore]
    fn full() {
        let n = std::env::var("WEFT_BENCH_POSTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let mut opts = RebuildOptions::default();
        if let Some(mb) = std::env::var("WEFT_BENCH_BUDGET_MB")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
        {
            opts.memory_budget = mb * 1_000_000;
        }
        let dir = tempfile::tempdir().unwrap();
        let report = run_with(n, 3_000, &dir.path().join("bench"), &opts).unwrap();
        println!("{report}");
    }
}
