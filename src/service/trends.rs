//! Trends: hashtags and posts that many different people took up in the last hours.
//!
//! A hashtag's score adds one term per distinct person who used it publicly in the window,
//! halved for every `trends_half_life_hours` since their latest use; a post's score is the
//! number of distinct people (other than its author) who liked, reposted, replied to or quoted
//! it, halved the same way by the post's age. One account posting a tag a thousand times
//! therefore counts as one person, and nothing trends with fewer than `trends_min_people`.
//! Scores are computed at most every `trends_cache_secs` and shared by every viewer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::accounts::Viewer;
use super::{ANONYMOUS, Core};
use crate::domain::{IdGen, PostId, now_secs};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::models::FeedItem;

/// Posts whose exact number of people is counted, among those with most interactions.
const POST_CANDIDATES: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct TrendingTag {
    pub tag: String,
    pub people: usize,
    pub posts: i64,
    pub score: f64,
}

#[derive(Debug, Clone)]
pub struct TrendingPostScore {
    pub post: PostId,
    pub people: i64,
    pub score: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Computed {
    pub tags: Vec<TrendingTag>,
    pub posts: Vec<TrendingPostScore>,
}

/// The last computed trends, shared by every clone of `Core`.
#[derive(Clone, Default)]
pub struct Cache {
    last: Arc<Mutex<Option<Stamped>>>,
    /// Held while trends are computed, so only one computation runs.
    computing: Arc<tokio::sync::Mutex<()>>,
    /// Bumped by `clear`: a computation that started before it must not store its result.
    epoch: Arc<std::sync::atomic::AtomicU64>,
}

type Stamped = (Instant, Arc<Computed>);

impl Cache {
    fn get(&self) -> Option<(Arc<Computed>, Duration)> {
        let guard = self.last.lock().ok()?;
        guard.as_ref().map(|(at, c)| (c.clone(), at.elapsed()))
    }
    fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::Acquire)
    }
    fn put(&self, c: Arc<Computed>, epoch: u64) {
        if let Ok(mut g) = self.last.lock()
            && self.epoch() == epoch
        {
            *g = Some((Instant::now(), c));
        }
    }
    /// Forgets the cached trends (after a moderator hides something), so the next view
    /// computes them afresh.
    pub fn clear(&self) {
        if let Ok(mut g) = self.last.lock() {
            self.epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            *g = None;
        }
    }
}

fn decay(age_secs: i64, half_life_secs: f64) -> f64 {
    0.5f64.powf(age_secs.max(0) as f64 / half_life_secs)
}

/// Scores hashtag use: one decayed term per distinct person.
pub fn score_tags(
    uses: &[store::search::TagUse],
    now: i64,
    half_life_secs: f64,
    min_people: usize,
) -> Vec<TrendingTag> {
    let mut by_tag: HashMap<&str, TrendingTag> = HashMap::new();
    for u in uses {
        let t = by_tag.entry(&u.tag).or_insert_with(|| TrendingTag {
            tag: u.tag.clone(),
            people: 0,
            posts: 0,
            score: 0.0,
        });
        t.people += 1;
        t.posts += u.posts;
        t.score += decay(now - u.last_at, half_life_secs);
    }
    let mut out: Vec<TrendingTag> = by_tag
        .into_values()
        .filter(|t| t.people >= min_people.max(1))
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.people.cmp(&a.people))
            .then(a.tag.cmp(&b.tag))
    });
    out
}

fn compute(core: &Core) -> AppResult<Computed> {
    let cfg = &core.config.search;
    let now = now_secs();
    let since = IdGen::floor_for_secs(now - (cfg.trends_window_hours as i64) * 3600);
    let half_life = (cfg.trends_half_life_hours.max(1) * 3600) as f64;
    let (min_people, shown) = (cfg.trends_min_people, cfg.trends_shown);
    core.db.read_blocking(|c| {
        let mut tags = score_tags(
            &store::search::tag_uses_since(c, since)?,
            now,
            half_life,
            min_people,
        );
        tags.truncate(shown);

        let mut engaged = store::search::engaged_posts_since(c, since)?;
        engaged.sort_by(|a, b| {
            let sa = a.interactions as f64 * decay(now - a.created_at, half_life);
            let sb = b.interactions as f64 * decay(now - b.created_at, half_life);
            sb.total_cmp(&sa).then(b.id.cmp(&a.id))
        });
        engaged.truncate(POST_CANDIDATES);
        let mut posts = Vec::new();
        for e in engaged {
            let people = store::search::engaged_people(c, e.id, e.author)?;
            if people >= min_people.max(1) as i64 {
                posts.push(TrendingPostScore {
                    post: e.id,
                    people,
                    score: people as f64 * decay(now - e.created_at, half_life),
                });
            }
        }
        posts.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.post.cmp(&a.post)));
        posts.truncate(shown);
        Ok(Computed { tags, posts })
    })
}

async fn current(core: &Core) -> AppResult<Arc<Computed>> {
    let max_age = Duration::from_secs(core.config.search.trends_cache_secs);
    match core.trends.get() {
        Some((c, age)) if age < max_age => return Ok(c),
        Some((stale, _)) => {
            // Serve the last trends and refresh them in the background, once: nobody waits
            // for the computation after the first.
            if let Ok(guard) = core.trends.computing.clone().try_lock_owned() {
                let core = core.clone();
                tokio::spawn(async move {
                    let _computing = guard;
                    if let Err(e) = refresh(&core).await {
                        tracing::warn!("computing trends: {e}");
                    }
                });
            }
            return Ok(stale);
        }
        None => {}
    }
    let _computing = core.trends.computing.lock().await;
    if let Some((c, age)) = core.trends.get()
        && age < max_age
    {
        return Ok(c);
    }
    refresh(core).await
}

/// Computes the trends off the executor and keeps them (unless something they count was
/// hidden meanwhile: `put` compares the epoch). The caller holds `computing`.
async fn refresh(core: &Core) -> AppResult<Arc<Computed>> {
    let epoch = core.trends.epoch();
    let c2 = core.clone();
    let computed = tokio::task::spawn_blocking(move || compute(&c2))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    let computed = Arc::new(computed);
    core.trends.put(computed.clone(), epoch);
    Ok(computed)
}

pub struct TrendingPost {
    pub item: FeedItem,
    pub people: i64,
}

pub struct Explore {
    pub tags: Vec<TrendingTag>,
    pub posts: Vec<TrendingPost>,
    pub window_hours: u64,
}

/// What the explore page shows the viewer (trending posts as the viewer sees them).
pub async fn explore(core: &Core, viewer: Option<&Viewer>) -> AppResult<Explore> {
    let computed = current(core).await?;
    let me = viewer.map(|v| v.id()).unwrap_or(ANONYMOUS);
    let scores = computed.posts.clone();
    let posts = core
        .db
        .read(move |c| {
            let ids: Vec<PostId> = scores.iter().map(|s| s.post).collect();
            let items = super::timeline::visible_items(c, me, &ids)?;
            Ok(items
                .into_iter()
                .filter_map(|item| {
                    let people = scores.iter().find(|s| s.post == item.post.id)?.people;
                    Some(TrendingPost { item, people })
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Explore {
        tags: computed.tags.clone(),
        posts,
        window_hours: core.config.search.trends_window_hours,
    })
}

fn require_staff(viewer: &Viewer) -> AppResult<()> {
    if viewer.role().is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only moderators and admins can change trends.",
        ))
    }
}

/// Takes a hashtag out of trends (or lets it back in). Moderators and admins only.
pub async fn set_tag_hidden(
    core: &Core,
    viewer: &Viewer,
    tag: &str,
    hidden: bool,
) -> AppResult<()> {
    require_staff(viewer)?;
    let tag = super::search::normalize_tag(tag);
    if tag.is_empty() {
        return Err(AppError::invalid("That is not a hashtag."));
    }
    let me = viewer.id();
    core.db
        .write(move |c| {
            if hidden {
                store::search::hide_tag_from_trends(c, &tag, me, now_secs())?;
            } else {
                store::search::unhide_tag_from_trends(c, &tag)?;
            }
            Ok(())
        })
        .await?;
    core.trends.clear();
    Ok(())
}

/// Takes a post out of trends (or lets it back in). Moderators and admins only.
pub async fn set_post_hidden(
    core: &Core,
    viewer: &Viewer,
    post: PostId,
    hidden: bool,
) -> AppResult<()> {
    require_staff(viewer)?;
    let me = viewer.id();
    core.db
        .write(move |c| {
            if store::posts::find_facts(c, post)?.is_none() {
                return Err(AppError::NotFound);
            }
            if hidden {
                store::search::hide_post_from_trends(c, post, me, now_secs())?;
            } else {
                store::search::unhide_post_from_trends(c, post)?;
            }
            Ok(())
        })
        .await?;
    core.trends.clear();
    Ok(())
}

/// What moderators took out of trends, for the admin page.
pub async fn hidden(core: &Core, viewer: &Viewer) -> AppResult<(Vec<String>, Vec<PostId>)> {
    require_staff(viewer)?;
    core.db
        .read(|c| Ok(store::search::list_hidden_from_trends(c, 100)?))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::search::TagUse;

    fn uses(tag: &str, author: i64, posts: i64, last_at: i64) -> TagUse {
        TagUse {
            tag: tag.into(),
            author,
            posts,
            last_at,
        }
    }

    #[test]
    fn one_spammer_counts_as_one_person_and_does_not_trend() {
        let now = 1_000_000;
        let rows = vec![
            uses("spam", 1, 500, now),
            uses("real", 2, 1, now - 3600),
            uses("real", 3, 1, now - 7200),
            uses("real", 4, 2, now - 60),
        ];
        let t = score_tags(&rows, now, 6.0 * 3600.0, 2);
        assert_eq!(t.len(), 1, "{t:?}");
        assert_eq!(t[0].tag, "real");
        assert_eq!((t[0].people, t[0].posts), (3, 4));
    }

    #[test]
    fn recent_use_outranks_old_use_by_as_many_people() {
        let now = 1_000_000;
        let rows = vec![
            uses("old", 1, 1, now - 20 * 3600),
            uses("old", 2, 1, now - 20 * 3600),
            uses("new", 3, 1, now - 600),
            uses("new", 4, 1, now - 600),
        ];
        let t = score_tags(&rows, now, 6.0 * 3600.0, 2);
        assert_eq!(t[0].tag, "new");
        assert_eq!(t[1].tag, "old");
    }
}
