//! Deterministic synthetic data for benchmarks (`weft bench seed`): accounts, a follow graph
//! (uniform or Zipf), posts with Zipf-distributed words, hashtags and mentions, reply threads,
//! reposts and skewed likes. Written through the store's own insert functions in large
//! transactions; counters are computed once at the end.

use std::collections::HashSet;
use std::time::Instant;

use super::Core;
use crate::domain::{AccountId, IdGen, PostId, ReplyPolicy, Role, Visibility, now_secs, text};
use crate::error::{AppError, AppResult};
use crate::store::models::AccountStatus;
use crate::store::{accounts, follows, posts};

pub const PASSWORD: &str = "weft-bench-password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Graph {
    Uniform,
    Zipf,
}

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub users: usize,
    pub posts: usize,
    /// Mean accounts each account follows.
    pub follows: usize,
    pub graph: Graph,
    pub seed: u64,
    /// The last `heavy_users` accounts each follow `heavy_follows` accounts picked at random
    /// (for the benchmark of a home feed over thousands of followed accounts).
    pub heavy_users: usize,
    pub heavy_follows: usize,
}

#[derive(Debug, Clone)]
pub struct SeedReport {
    pub users: usize,
    pub posts: usize,
    pub replies: usize,
    pub reposts: usize,
    pub follows: usize,
    pub likes: usize,
    pub sample_user: String,
    pub seconds: f64,
}

/// SplitMix64: tiny, fast and good enough for synthetic data; the same seed gives the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Samples ranks 0..n with probability proportional to 1/(rank+1)^s.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 0..n.max(1) {
            acc += 1.0 / ((k + 1) as f64).powf(s);
            cdf.push(acc);
        }
        for v in &mut cdf {
            *v /= acc;
        }
        Zipf { cdf }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

fn vocabulary(rng: &mut Rng, n: usize) -> Vec<String> {
    const SYL: [&str; 24] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "da", "fe", "go", "hu", "ji", "ke", "la",
        "mo", "nu", "pa", "qi", "re", "si", "tu", "we", "zo",
    ];
    let mut seen = HashSet::new();
    let mut words = Vec::with_capacity(n);
    while words.len() < n {
        let parts = 1 + rng.below(3);
        let w: String = (0..parts).map(|_| SYL[rng.below(SYL.len())]).collect();
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// Fills an empty database. Calls `progress(phase, done, total)` as it goes.
pub fn run(
    core: &Core,
    o: &SeedOptions,
    progress: &dyn Fn(&str, u64, u64),
) -> AppResult<SeedReport> {
    let started = Instant::now();
    if o.users < 2 {
        return Err(AppError::invalid("Seed at least 2 users."));
    }
    let existing = core.db.read_blocking(|c| Ok(accounts::count(c)?))?;
    if existing > 0 {
        return Err(AppError::invalid(
            "The data directory already has accounts; seed into an empty one.",
        ));
    }
    let mut rng = Rng(o.seed ^ 0x5EED);
    let hash = super::hash_password_now(PASSWORD)?;
    let now = now_secs();

    // Accounts.
    let user_ids: Vec<AccountId> = (0..o.users).map(|_| AccountId(core.next_id())).collect();
    for (chunk_no, chunk) in user_ids.chunks(10_000).enumerate() {
        let n_chunk = chunk.len();
        let chunk: Vec<AccountId> = chunk.to_vec();
        let hash = hash.clone();
        let base = chunk_no * 10_000;
        core.db.write_blocking(move |c| {
            for (i, id) in chunk.iter().enumerate() {
                let n = base + i;
                accounts::insert(
                    c,
                    &accounts::NewAccount {
                        id: *id,
                        username: &format!("user{n}"),
                        email: None,
                        password_hash: &hash,
                        role: if n == 0 { Role::Admin } else { Role::User },
                        status: AccountStatus::Active,
                        signup_reason: "",
                        created_at: now - 90 * 86_400,
                    },
                )?;
                if n % 7 == 0 {
                    c.execute(
                        "UPDATE accounts SET display_name = ?2, bio = ?3 WHERE id = ?1",
                        rusqlite::params![
                            id.0,
                            format!("User {n}"),
                            "Seeded account for benchmarks."
                        ],
                    )?;
                }
            }
            Ok(())
        })?;
        progress("accounts", (base + n_chunk) as u64, o.users as u64);
    }

    // Follow graph.
    let popularity = Zipf::new(o.users, 1.0);
    let out_degree = Zipf::new(o.users.min(5_000), 1.2);
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for u in 0..o.users {
        let heavy = u + o.heavy_users >= o.users;
        let want = match o.graph {
            _ if heavy => o.heavy_follows.min(o.users - 1),
            Graph::Uniform => o.follows.min(o.users - 1),
            // Heavy-tailed: most follow a few, some follow thousands; mean near `follows`.
            Graph::Zipf => {
                let rank = out_degree.sample(&mut rng);
                ((o.follows as f64
                    * 0.25
                    * (out_degree.cdf.len() as f64 / (rank + 1) as f64).sqrt())
                    as usize)
                    .clamp(1, o.users - 1)
            }
        };
        let mut chosen = HashSet::with_capacity(want);
        let mut tries = 0;
        while chosen.len() < want && tries < want * 20 {
            tries += 1;
            let t = match o.graph {
                _ if heavy => rng.below(o.users),
                Graph::Uniform => rng.below(o.users),
                Graph::Zipf => popularity.sample(&mut rng),
            };
            if t != u {
                chosen.insert(t as u32);
            }
        }
        let mut list: Vec<u32> = chosen.into_iter().collect();
        list.sort_unstable();
        edges.extend(list.into_iter().map(|t| (u as u32, t)));
    }
    let total_edges = edges.len();
    for (i, chunk) in edges.chunks(50_000).enumerate() {
        let rows: Vec<(AccountId, AccountId, i64)> = chunk
            .iter()
            .map(|(a, b)| (user_ids[*a as usize], user_ids[*b as usize], core.next_id()))
            .collect();
        core.db.write_blocking(move |c| {
            for (a, b, id) in rows {
                follows::insert_follow(c, id, a, b, now - 60 * 86_400)?;
            }
            Ok(())
        })?;
        progress(
            "follows",
            ((i + 1) * 50_000).min(total_edges) as u64,
            total_edges as u64,
        );
    }

    // Posts, spread over the last 30 days with ids that match their times.
    let words = vocabulary(&mut rng, 5_000);
    let word_dist = Zipf::new(words.len(), 1.07);
    let tags: Vec<String> = (0..300)
        .map(|i| format!("{}{i}", words[i % words.len()]))
        .collect();
    let tag_dist = Zipf::new(tags.len(), 1.1);
    let activity = Zipf::new(o.users, 0.8);
    let span = 30 * 86_400;
    let t0 = now - span;
    let id0 = IdGen::floor_for_secs(t0);
    let step = ((IdGen::floor_for_secs(now) - id0) / o.posts.max(1) as i64).max(1);
    let mut author_of: Vec<u32> = Vec::with_capacity(o.posts);
    let mut root_of: Vec<u32> = Vec::with_capacity(o.posts);
    let mut public: Vec<bool> = Vec::with_capacity(o.posts);
    let mut reposted: HashSet<(u32, u32)> = HashSet::new();
    let (mut replies, mut reposts) = (0usize, 0usize);
    let batch = 20_000;
    let mut i = 0;
    while i < o.posts {
        let end = (i + batch).min(o.posts);
        let mut rows = Vec::with_capacity(end - i);
        for n in i..end {
            let author = activity.sample(&mut rng) as u32;
            let id = PostId(id0 + n as i64 * step);
            let created = t0 + (n as i64 * span) / o.posts.max(1) as i64;
            let roll = rng.below(100);
            if n > 10 && roll < 5 {
                // A repost of a recent public post.
                let orig = n - 1 - rng.below(n.min(2_000));
                if public[orig] && reposted.insert((author, orig as u32)) {
                    author_of.push(author);
                    root_of.push(n as u32);
                    public.push(false);
                    rows.push(SeedPost::Repost {
                        id,
                        author,
                        orig: orig as u32,
                        created,
                    });
                    reposts += 1;
                    continue;
                }
            }
            let reply_to =
                (n > 10 && (5..25).contains(&roll)).then(|| n - 1 - rng.below(n.min(5_000)));
            let reply_to = reply_to.filter(|p| public[*p]);
            let len_target = 40 + rng.below(241);
            let mut body = String::with_capacity(len_target + 20);
            if let Some(p) = reply_to {
                body.push_str(&format!("@user{} ", author_of[p]));
            }
            while body.len() < len_target {
                body.push_str(&words[word_dist.sample(&mut rng)]);
                body.push(' ');
            }
            if rng.chance(0.15) {
                body.push_str(&format!("#{} ", tags[tag_dist.sample(&mut rng)]));
            }
            if rng.chance(0.05) {
                body.push_str(&format!("@user{}", activity.sample(&mut rng)));
            }
            let body: String = body.trim().chars().take(280).collect();
            let vis = match rng.below(100) {
                0..=89 => Visibility::Public,
                90..=97 => Visibility::Followers,
                _ => Visibility::Mentioned,
            };
            let vis = if reply_to.is_some() {
                Visibility::Public
            } else {
                vis
            };
            author_of.push(author);
            root_of.push(reply_to.map(|p| root_of[p]).unwrap_or(n as u32));
            public.push(vis == Visibility::Public);
            if reply_to.is_some() {
                replies += 1;
            }
            rows.push(SeedPost::Post {
                id,
                author,
                body,
                vis,
                reply_to: reply_to.map(|p| (p as u32, author_of[p])),
                root: *root_of.last().unwrap_or(&(n as u32)),
                created,
            });
        }
        let ids = user_ids.clone();
        core.db.write_blocking(move |c| {
            let pid = |k: u32| PostId(id0 + k as i64 * step);
            for r in rows {
                match r {
                    SeedPost::Repost {
                        id,
                        author,
                        orig,
                        created,
                    } => posts::insert(
                        c,
                        &posts::NewPost {
                            id,
                            author: ids[author as usize],
                            body: "",
                            content_warning: "",
                            visibility: Visibility::Public,
                            reply_policy: ReplyPolicy::Anyone,
                            in_reply_to: None,
                            root: id,
                            quote: None,
                            repost_of: Some(pid(orig)),
                            created_at: created,
                        },
                    )?,
                    SeedPost::Post {
                        id,
                        author,
                        body,
                        vis,
                        reply_to,
                        root,
                        created,
                    } => {
                        posts::insert(
                            c,
                            &posts::NewPost {
                                id,
                                author: ids[author as usize],
                                body: &body,
                                content_warning: "",
                                visibility: vis,
                                reply_policy: ReplyPolicy::Anyone,
                                in_reply_to: reply_to.map(|(p, a)| (pid(p), ids[a as usize])),
                                root: pid(root),
                                quote: None,
                                repost_of: None,
                                created_at: created,
                            },
                        )?;
                        if let Some((_, a)) = reply_to {
                            posts::insert_mention(c, id, ids[a as usize])?;
                        }
                        for name in text::local_mentions(&body) {
                            if let Some(k) = name
                                .strip_prefix("user")
                                .and_then(|k| k.parse::<usize>().ok())
                                && let Some(a) = ids.get(k)
                            {
                                posts::insert_mention(c, id, *a)?;
                            }
                        }
                        let tags = text::hashtags(&body);
                        if !tags.is_empty() {
                            posts::replace_tags(c, id, &tags)?;
                            if vis == Visibility::Public {
                                crate::store::search::adjust_tag_stats(c, &tags, 1, created)?;
                            }
                        }
                    }
                }
            }
            Ok(())
        })?;
        i = end;
        progress("posts", i as u64, o.posts as u64);
    }

    // Likes: popular posts collect most of them (Zipf over recency-shuffled posts).
    let like_total = o.posts * 2;
    let post_pop = Zipf::new(o.posts.max(1), 0.9);
    let mut likes = 0usize;
    let mut done = 0usize;
    while done < like_total {
        let end = (done + 50_000).min(like_total);
        let mut rows = Vec::with_capacity(end - done);
        for _ in done..end {
            // Rank 0 is the newest post: recent posts are the popular ones.
            let k = o.posts - 1 - post_pop.sample(&mut rng);
            if !public[k] || root_of[k] as usize != k && rng.chance(0.5) {
                continue;
            }
            let liker = rng.below(o.users);
            rows.push((user_ids[liker], PostId(id0 + k as i64 * step)));
        }
        likes += core.db.write_blocking(move |c| {
            let mut n = 0;
            for (a, p) in rows {
                if posts::insert_like(c, a, p, now)? {
                    n += 1;
                }
            }
            Ok(n)
        })?;
        done = end;
        progress("likes", done as u64, like_total as u64);
    }

    progress("counters", 0, 1);
    core.db.write_blocking(|c| {
        c.execute_batch(
            "UPDATE accounts SET
                posts_count = (SELECT count(*) FROM posts p WHERE p.author_id = accounts.id AND p.repost_of_id IS NULL),
                followers_count = (SELECT count(*) FROM follows f WHERE f.followee_id = accounts.id),
                following_count = (SELECT count(*) FROM follows f WHERE f.follower_id = accounts.id);
             UPDATE posts SET
                reply_count = (SELECT count(*) FROM posts r WHERE r.in_reply_to_id = posts.id),
                repost_count = (SELECT count(*) FROM posts r WHERE r.repost_of_id = posts.id),
                like_count = (SELECT count(*) FROM likes l WHERE l.post_id = posts.id)
             WHERE repost_of_id IS NULL;
             ANALYZE;",
        )?;
        Ok(())
    })?;
    progress("counters", 1, 1);
    Ok(SeedReport {
        users: o.users,
        posts: o.posts,
        replies,
        reposts,
        follows: total_edges,
        likes,
        sample_user: "user1".into(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

enum SeedPost {
    Repost {
        id: PostId,
        author: u32,
        orig: u32,
        created: i64,
    },
    Post {
        id: PostId,
        author: u32,
        body: String,
        vis: Visibility,
        reply_to: Option<(u32, u32)>,
        root: u32,
        created: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_favours_low_ranks() {
        let z = Zipf::new(1000, 1.0);
        let mut rng = Rng(1);
        let low = (0..10_000).filter(|_| z.sample(&mut rng) < 10).count();
        assert!(low > 3_000, "{low}");
    }

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        assert!((0..100).all(|_| a.next() == b.next()));
    }
}
