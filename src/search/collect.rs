//! The two collectors behind post search. Both apply the viewer's visibility filter from fast
//! fields while collecting (a handful of lookups per visited document), instead of as query
//! clauses: that keeps queries plain, which lets Tantivy's block-max pruning work for relevance.
//!
//! * [`Newest`] relies on the post index being sorted by `id`, descending, inside every
//!   segment (an index setting kept through merges). Documents then arrive newest first, so a
//!   segment is done after `limit` visible hits, and a `before` cursor is a binary search for
//!   the first document to look at. A page costs about the same whether a word is in ten posts
//!   or in all of them.
//! * [`Relevant`] keeps the top `k` BM25 scores, raising the pruning threshold as it fills.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TERMINATED};

use super::ViewerFilter;
use super::schema::id_u64;

/// The visibility rule of [`ViewerFilter`], ready for per-document checks.
#[derive(Debug, Clone)]
pub(super) struct Visibility {
    viewer: Option<u64>,
    followed: HashSet<u64>,
}

impl Visibility {
    pub fn new(v: &ViewerFilter) -> Visibility {
        Visibility {
            viewer: v.viewer.and_then(id_u64),
            followed: v
                .followed_authors
                .iter()
                .filter_map(|&a| id_u64(a))
                .collect(),
        }
    }

    fn allows(&self, visibility: u64, author: u64) -> bool {
        visibility == 0
            || self.viewer == Some(author)
            || (visibility == 1 && self.followed.contains(&author))
    }
}

/// Fast-field columns of one segment.
struct Columns {
    id: Column<u64>,
    visibility: Column<u64>,
    author: Column<u64>,
    addressed: Column<u64>,
}

impl Columns {
    fn open(reader: &SegmentReader) -> tantivy::Result<Columns> {
        let f = reader.fast_fields();
        Ok(Columns {
            id: f.u64("id")?,
            visibility: f.u64("visibility")?,
            author: f.u64("author_id")?,
            addressed: f.u64("addressed")?,
        })
    }

    fn id(&self, doc: DocId) -> u64 {
        self.id.first(doc).unwrap_or(0)
    }

    fn visible(&self, filter: &Visibility, doc: DocId) -> bool {
        // A document without a visibility value is treated as the most restricted kind.
        let visibility = self.visibility.first(doc).unwrap_or(u64::MAX);
        let author = self.author.first(doc).unwrap_or(0);
        filter.allows(visibility, author)
            || filter
                .viewer
                .is_some_and(|v| self.addressed.values_for_doc(doc).any(|a| a == v))
    }
}

/// Newest first: the first `limit` visible hits below `before`, as (id, address).
pub(super) struct Newest {
    pub limit: usize,
    pub before: Option<u64>,
    pub filter: Arc<Visibility>,
}

pub(super) struct NewestSegment {
    ord: SegmentOrdinal,
    columns: Columns,
    limit: usize,
    before: Option<u64>,
    filter: Arc<Visibility>,
    alive: Option<tantivy::fastfield::AliveBitSet>,
    hits: Vec<(u64, DocAddress)>,
}

impl NewestSegment {
    fn offer(&mut self, doc: DocId) {
        if self.alive.as_ref().is_some_and(|a| a.is_deleted(doc)) {
            return;
        }
        let id = self.columns.id(doc);
        if self.before.is_some_and(|b| id >= b) || !self.columns.visible(&self.filter, doc) {
            return;
        }
        self.hits.push((id, DocAddress::new(self.ord, doc)));
    }

    /// The first document whose id is below `before` (ids descend with doc ids).
    fn first_doc_below(&self, before: u64, max_doc: DocId) -> DocId {
        let (mut lo, mut hi) = (0, max_doc);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.columns.id(mid) >= before {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

type Hits = Vec<(u64, DocAddress)>;

fn newest_first(hits: &mut Hits, limit: usize) {
    hits.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
    hits.truncate(limit);
}

impl SegmentCollector for NewestSegment {
    type Fruit = Hits;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.offer(doc);
    }

    fn harvest(mut self) -> Hits {
        newest_first(&mut self.hits, self.limit);
        self.hits
    }
}

impl Collector for Newest {
    type Fruit = Hits;
    type Child = NewestSegment;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<NewestSegment> {
        Ok(NewestSegment {
            ord,
            columns: Columns::open(reader)?,
            limit: self.limit,
            before: self.before,
            filter: self.filter.clone(),
            alive: reader.alive_bitset().cloned(),
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Hits>) -> tantivy::Result<Hits> {
        let mut hits: Hits = fruits.into_iter().flatten().collect();
        newest_first(&mut hits, self.limit);
        Ok(hits)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Hits> {
        let mut seg = self.for_segment(ord, reader)?;
        let start = match self.before {
            Some(b) => seg.first_doc_below(b, reader.max_doc()),
            None => 0,
        };
        if start >= reader.max_doc() {
            return Ok(Vec::new());
        }
        let mut scorer = weight.scorer(reader, 1.0)?;
        let mut doc = scorer.doc();
        if doc != TERMINATED && doc < start {
            doc = scorer.seek(start);
        }
        while doc != TERMINATED && seg.hits.len() < self.limit {
            seg.offer(doc);
            doc = scorer.advance();
        }
        Ok(seg.harvest())
    }
}

/// A hit with its score; ordered by score, then newer first.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scored {
    pub score: Score,
    pub id: u64,
    pub addr: DocAddress,
}

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.id.cmp(&other.id))
    }
}

/// The `k` best visible hits by score, best first.
pub(super) struct Relevant {
    pub k: usize,
    pub filter: Arc<Visibility>,
}

/// Keeps the `k` largest (a min-heap through `Reverse`).
struct TopK {
    k: usize,
    heap: BinaryHeap<std::cmp::Reverse<Scored>>,
}

impl TopK {
    fn push(&mut self, s: Scored) {
        if self.heap.len() < self.k {
            self.heap.push(std::cmp::Reverse(s));
        } else if let Some(min) = self.heap.peek()
            && s > min.0
        {
            self.heap.pop();
            self.heap.push(std::cmp::Reverse(s));
        }
    }

    /// Scores at or below this cannot enter any more.
    fn threshold(&self) -> Score {
        if self.heap.len() < self.k {
            Score::MIN
        } else {
            self.heap.peek().map_or(Score::MIN, |m| m.0.score)
        }
    }

    fn into_sorted(self) -> Vec<Scored> {
        let mut v: Vec<Scored> = self.heap.into_iter().map(|r| r.0).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v
    }
}

pub(super) struct RelevantSegment {
    ord: SegmentOrdinal,
    columns: Columns,
    filter: Arc<Visibility>,
    alive: Option<tantivy::fastfield::AliveBitSet>,
    top: TopK,
}

impl RelevantSegment {
    fn offer(&mut self, doc: DocId, score: Score) -> Score {
        let deleted = self.alive.as_ref().is_some_and(|a| a.is_deleted(doc));
        if !deleted && self.columns.visible(&self.filter, doc) {
            let id = self.columns.id(doc);
            let addr = DocAddress::new(self.ord, doc);
            self.top.push(Scored { score, id, addr });
        }
        self.top.threshold()
    }
}

impl SegmentCollector for RelevantSegment {
    type Fruit = Vec<Scored>;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.offer(doc, score);
    }

    fn harvest(self) -> Vec<Scored> {
        self.top.into_sorted()
    }
}

impl Collector for Relevant {
    type Fruit = Vec<Scored>;
    type Child = RelevantSegment;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<RelevantSegment> {
        Ok(RelevantSegment {
            ord,
            columns: Columns::open(reader)?,
            filter: self.filter.clone(),
            alive: reader.alive_bitset().cloned(),
            top: TopK {
                k: self.k,
                heap: BinaryHeap::with_capacity(self.k + 1),
            },
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Scored>>) -> tantivy::Result<Vec<Scored>> {
        let mut all: Vec<Scored> = fruits.into_iter().flatten().collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.truncate(self.k);
        Ok(all)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<Scored>> {
        let mut seg = self.for_segment(ord, reader)?;
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| seg.offer(doc, score))?;
        Ok(seg.harvest())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_the_best_and_reports_the_threshold() {
        let mut top = TopK {
            k: 2,
            heap: BinaryHeap::new(),
        };
        assert_eq!(top.threshold(), Score::MIN);
        for (score, id) in [(1.0, 1), (3.0, 2), (2.0, 3), (0.5, 4), (3.0, 5)] {
            let addr = DocAddress::new(0, 0);
            top.push(Scored { score, id, addr });
        }
        let ids: Vec<u64> = top.into_sorted().iter().map(|s| s.id).collect();
        assert_eq!(ids, [5, 2]);
    }

    #[test]
    fn the_visibility_rule() {
        let v = Visibility::new(&ViewerFilter {
            viewer: Some(7),
            followed_authors: vec![8],
        });
        assert!(v.allows(0, 1));
        assert!(v.allows(1, 8) && !v.allows(1, 9));
        assert!(v.allows(2, 7) && !v.allows(2, 8));
        assert!(v.allows(1, 7));
        let anon = Visibility::new(&ViewerFilter::anonymous());
        assert!(anon.allows(0, 1) && !anon.allows(1, 1) && !anon.allows(2, 0));
    }
}
