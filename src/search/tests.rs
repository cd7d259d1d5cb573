use std::path::Path;
use std::time::Duration;

use super::*;

fn opts() -> IndexerOptions {
    IndexerOptions {
        commit_interval: Duration::from_millis(20),
        ..IndexerOptions::default()
    }
}

struct Fx {
    dir: tempfile::TempDir,
    index: SearchIndex,
    indexer: Indexer,
}

impl Fx {
    fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(&dir.path().join("search")).unwrap();
        let indexer = Indexer::start(&index, opts()).unwrap();
        Fx {
            dir,
            index,
            indexer,
        }
    }

    fn with(posts: &[PostDoc]) -> Fx {
        let fx = Fx::new();
        fx.add(posts);
        fx
    }

    fn add(&self, posts: &[PostDoc]) {
        for p in posts {
            self.indexer.upsert_post(p.clone()).unwrap();
        }
        self.indexer.flush().wait_blocking().unwrap();
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("search")
    }

    /// Ids found for `q` by an anonymous viewer, newest first.
    fn ids(&self, q: &str) -> Vec<i64> {
        self.ids_as(q, &ViewerFilter::anonymous())
    }

    fn ids_as(&self, q: &str, viewer: &ViewerFilter) -> Vec<i64> {
        let page = self
            .index
            .search_posts(&parse(q, 1000), viewer, Order::Newest, None, 100)
            .unwrap();
        page.hits.into_iter().map(|h| h.id).collect()
    }
}

fn post(id: i64, author: &str, text: &str) -> PostDoc {
    PostDoc {
        id,
        author_id: author_id(author),
        author: author.to_string(),
        text: text.to_string(),
        created_at: 1_700_000_000 + id * 60,
        ..PostDoc::default()
    }
}

fn author_id(name: &str) -> i64 {
    match name {
        "alice" => 1,
        "bob" => 2,
        "carol" => 3,
        _ => 99,
    }
}

#[test]
fn words_are_anded_and_phrases_keep_their_order() {
    let fx = Fx::with(&[
        post(1, "alice", "The quick brown fox jumps"),
        post(2, "alice", "brown and quick, but no fox"),
        post(3, "alice", "quick thinking"),
    ]);
    assert_eq!(fx.ids("quick brown"), [2, 1]);
    assert_eq!(fx.ids("Quick BROWN fox"), [2, 1]);
    assert_eq!(fx.ids("\"quick brown\""), [1]);
    assert_eq!(fx.ids("\"brown quick\""), Vec::<i64>::new());
    assert_eq!(fx.ids("quick"), [3, 2, 1]);
    assert!(fx.ids("elephant").is_empty());
}

#[test]
fn excluded_words_and_phrases() {
    let fx = Fx::with(&[
        post(1, "alice", "brown fox, lazy dog"),
        post(2, "alice", "brown fox, busy dog"),
        post(3, "alice", "fox brown"),
    ]);
    assert_eq!(fx.ids("fox -lazy"), [3, 2]);
    assert_eq!(fx.ids("fox -\"brown fox\""), [3]);
    // Exclusions alone list everything else.
    assert_eq!(fx.ids("-dog"), [3]);
}

#[test]
fn from_matches_the_author_alone_or_with_words() {
    let mut remote = post(4, "x", "hello from afar");
    remote.author = "Dan@Social.Example".into();
    let fx = Fx::with(&[
        post(1, "alice", "hello world"),
        post(2, "bob", "hello there"),
        post(3, "alice", "goodbye"),
        remote,
    ]);
    assert_eq!(fx.ids("from:alice"), [3, 1]);
    assert_eq!(fx.ids("from:@Alice hello"), [1]);
    assert_eq!(fx.ids("hello from:bob"), [2]);
    assert_eq!(fx.ids("from:dan@social.example"), [4]);
    assert!(fx.ids("from:nobody").is_empty());
}

#[test]
fn tags_from_text_and_from_the_doc_and_mentions() {
    let mut given = post(3, "alice", "no tag in the text");
    given.tags = vec!["#Rust".into()];
    let fx = Fx::with(&[
        post(1, "alice", "Learning #Rust today, cc @Bob"),
        post(2, "alice", "rust on my bike"),
        given,
        post(4, "alice", "#rustacean"),
    ]);
    assert_eq!(fx.ids("#rust"), [3, 1]);
    assert_eq!(fx.ids("#RUST"), [3, 1]);
    // The tag's word is also a word.
    assert_eq!(fx.ids("rust"), [2, 1]);
    assert_eq!(fx.ids("#rust learning"), [1]);
    assert_eq!(fx.ids("@bob"), [1]);
    assert_eq!(fx.ids("bob"), [1]);
}

#[test]
fn before_and_after_are_utc_days() {
    let day = |d: &str| parse(&format!("after:{d}"), 100).after.unwrap();
    let mut a = post(1, "alice", "news");
    a.created_at = day("2024-01-01") + 3600;
    let mut b = post(2, "alice", "news");
    b.created_at = day("2024-02-01");
    let mut c = post(3, "alice", "news");
    c.created_at = day("2024-03-01") - 1;
    let fx = Fx::with(&[a, b, c]);
    assert_eq!(fx.ids("news after:2024-02-01"), [3, 2]);
    assert_eq!(fx.ids("news before:2024-02-01"), [1]);
    assert_eq!(fx.ids("after:2024-01-02 before:2024-03-01"), [3, 2]);
    assert!(fx.ids("news after:2024-03-01").is_empty());
    // An impossible date is dropped, not an error.
    assert_eq!(fx.ids("news before:2024-02-31"), [3, 2, 1]);
}

#[test]
fn has_media_and_is_reply() {
    let mut media = post(1, "alice", "look at this");
    media.has_media = true;
    let mut reply = post(2, "alice", "look, a reply");
    reply.is_reply = true;
    let fx = Fx::with(&[media, reply, post(3, "alice", "look plain")]);
    assert_eq!(fx.ids("look has:media"), [1]);
    assert_eq!(fx.ids("has:media"), [1]);
    assert_eq!(fx.ids("look is:reply"), [2]);
    assert_eq!(fx.ids("look -is:reply"), [3, 1]);
}

#[test]
fn accents_and_case_do_not_matter_either_way() {
    let fx = Fx::with(&[
        post(1, "alice", "Un café au lait"),
        post(2, "alice", "the cafe is closed"),
        post(3, "alice", "Straße"),
        post(4, "alice", "CAFE\u{301} DECOMPOSED"),
    ]);
    assert_eq!(fx.ids("cafe"), [4, 2, 1]);
    assert_eq!(fx.ids("café"), [4, 2, 1]);
    assert_eq!(fx.ids("CAFÉ"), [4, 2, 1]);
    assert_eq!(fx.ids("strasse"), [3]);
    assert_eq!(fx.ids("\"cafe au lait\""), [1]);
}

#[test]
fn scripts_without_spaces_match_inside_words() {
    let fx = Fx::with(&[
        post(1, "alice", "東京タワーに行きました"),
        post(2, "alice", "京都"),
        post(3, "alice", "Привет, мир"),
    ]);
    assert_eq!(fx.ids("東京"), [1]);
    assert_eq!(fx.ids("京"), [2, 1]);
    assert_eq!(fx.ids("мир"), [3]);
    let pieces = super::matched_pieces(&parse("東京", 100), "東京タワーに行きました");
    assert_eq!(pieces, ["東", "京"]);
}

#[test]
fn the_content_warning_is_searchable() {
    let mut p = post(1, "alice", "the body");
    p.content_warning = "spoilers ahead".into();
    let fx = Fx::with(&[p]);
    assert_eq!(fx.ids("spoilers"), [1]);
    assert_eq!(fx.ids("body"), [1]);
    // Body and warning are separate values: no phrase across them.
    assert!(fx.ids("\"body spoilers\"").is_empty());
}

#[test]
fn visibility_filter() {
    let mut followers = post(2, "alice", "secret plans");
    followers.visibility = VISIBILITY_FOLLOWERS;
    let mut mentioned = post(3, "alice", "secret note to @carol");
    mentioned.visibility = VISIBILITY_MENTIONED;
    mentioned.addressed = vec![3];
    let mut to_dan = post(4, "alice", "secret for dan, followers only");
    to_dan.visibility = VISIBILITY_FOLLOWERS;
    to_dan.addressed = vec![4];
    let fx = Fx::with(&[
        post(1, "alice", "secret public"),
        followers,
        mentioned,
        to_dan,
    ]);

    let alice = ViewerFilter {
        viewer: Some(1),
        followed_authors: vec![],
    };
    let bob_follows_alice = ViewerFilter {
        viewer: Some(2),
        followed_authors: vec![3, 1],
    };
    let carol_does_not = ViewerFilter {
        viewer: Some(3),
        followed_authors: vec![2],
    };
    let dan = ViewerFilter {
        viewer: Some(4),
        followed_authors: vec![],
    };
    assert_eq!(fx.ids("secret"), [1]);
    assert_eq!(fx.ids_as("secret", &alice), [4, 3, 2, 1]);
    assert_eq!(fx.ids_as("secret", &bob_follows_alice), [4, 2, 1]);
    // Those a post addresses find it whatever its visibility; nobody else does.
    assert_eq!(fx.ids_as("secret", &carol_does_not), [3, 1]);
    assert_eq!(fx.ids_as("secret", &dan), [4, 1]);
    assert_eq!(fx.ids_as("from:alice", &bob_follows_alice), [4, 2, 1]);
    assert_eq!(fx.ids_as("-public", &alice), [4, 3, 2]);
    assert!(fx.ids("-public").is_empty());
}

#[test]
fn edits_and_deletes_show_after_flush() {
    let fx = Fx::with(&[
        post(1, "alice", "first draft"),
        post(2, "alice", "other draft"),
    ]);
    assert_eq!(fx.ids("draft"), [2, 1]);
    fx.indexer
        .upsert_post(post(1, "alice", "final text"))
        .unwrap();
    fx.indexer.delete_post(2).unwrap();
    fx.indexer.flush().wait_blocking().unwrap();
    assert!(fx.ids("draft").is_empty());
    assert_eq!(fx.ids("final"), [1]);
    assert_eq!(fx.index.doc_count(), 1);
    // Deleting what is not there, and invalid ids, are harmless.
    fx.indexer.delete_post(12345).unwrap();
    fx.indexer
        .upsert_post(post(-1, "alice", "negative"))
        .unwrap();
    fx.indexer.flush().wait_blocking().unwrap();
    assert_eq!(fx.index.doc_count(), 1);
}

#[test]
fn ops_become_searchable_on_the_timer_without_a_flush() {
    let fx = Fx::new();
    fx.indexer.upsert_post(post(1, "alice", "soon")).unwrap();
    let started = std::time::Instant::now();
    while fx.ids("soon").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never became searchable"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // A flush with nothing pending answers at once.
    fx.indexer.flush().wait_blocking().unwrap();
}

#[test]
fn many_ops_commit_in_batches_not_per_document() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let indexer = Indexer::start(
        &index,
        IndexerOptions {
            commit_interval: Duration::from_secs(60),
            max_pending: 100,
            ..IndexerOptions::default()
        },
    )
    .unwrap();
    for i in 1..=250 {
        indexer.upsert_post(post(i, "alice", "bulk")).unwrap();
    }
    // Two batches of 100 committed by count, 50 still waiting for the (long) timer.
    let started = std::time::Instant::now();
    while index.doc_count() < 200 {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(index.doc_count(), 200);
    // Stopping commits the rest.
    indexer.stop().unwrap();
    assert_eq!(index.doc_count(), 250);
}

#[test]
fn newest_first_pages_are_stable_without_duplicates() {
    let posts: Vec<PostDoc> = (1..=57).map(|i| post(i * 10, "alice", "page me")).collect();
    let fx = Fx::with(&posts);
    let q = parse("page", 100);
    let viewer = ViewerFilter::anonymous();
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = fx
            .index
            .search_posts(&q, &viewer, Order::Newest, cursor, 10)
            .unwrap();
        seen.extend(page.hits.iter().map(|h| h.id));
        pages += 1;
        if pages == 2 {
            // New posts arriving between pages do not shift later pages.
            fx.add(&[post(10_000, "alice", "page me late")]);
        }
        match page.next {
            Some(c) => {
                assert_eq!(Cursor::from_param(&c.to_param()), Some(c));
                cursor = Some(c);
            }
            None => break,
        }
    }
    let expected: Vec<i64> = (1..=57).rev().map(|i| i * 10).collect();
    assert_eq!(seen, expected);
    assert_eq!(pages, 6);
}

#[test]
fn relevance_ranks_and_pages_by_offset() {
    let fx = Fx::with(&[
        post(1, "alice", "rust rust rust"),
        post(
            2,
            "alice",
            "rust once in a much longer sentence about other things entirely",
        ),
        post(3, "alice", "nothing here"),
    ]);
    let q = parse("rust", 100);
    let viewer = ViewerFilter::anonymous();
    let page = fx
        .index
        .search_posts(&q, &viewer, Order::Relevant, None, 1)
        .unwrap();
    assert_eq!(page.hits[0].id, 1);
    assert_eq!(page.next, Some(Cursor::Offset(1)));
    let page = fx
        .index
        .search_posts(&q, &viewer, Order::Relevant, page.next, 1)
        .unwrap();
    assert_eq!(page.hits[0].id, 2);
    let page = fx
        .index
        .search_posts(&q, &viewer, Order::Relevant, page.next, 1)
        .unwrap();
    assert!(page.hits.is_empty());
    assert_eq!(page.next, None);
    let deep = fx
        .index
        .search_posts(
            &q,
            &viewer,
            Order::Relevant,
            Some(Cursor::Offset(MAX_RELEVANT_RESULTS)),
            10,
        )
        .unwrap();
    assert!(deep.hits.is_empty());
}

#[test]
fn empty_and_malformed_queries_are_answered() {
    let fx = Fx::with(&[post(1, "alice", "hello \"world\" again")]);
    assert!(fx.ids("").is_empty());
    assert!(fx.ids("   ").is_empty());
    assert_eq!(fx.ids("\"hello world"), [1]);
    assert_eq!(fx.ids("hello\u{0}"), [1]);
    assert_eq!(fx.ids("\u{1b}hello\u{7}\u{202e}"), [1]);
    // 20,000 characters, cut to 10,000 (between two words).
    let huge = "hello     ".repeat(2_000);
    let q = parse(&huge, 10_000);
    let viewer = ViewerFilter::anonymous();
    for order in [Order::Newest, Order::Relevant] {
        assert_eq!(
            fx.index
                .search_posts(&q, &viewer, order, None, 10)
                .unwrap()
                .hits
                .len(),
            1
        );
    }
    let garbage: String = (0..10_000u32)
        .map(|i| char::from_u32((i * 7919) % 0x2FFFF).unwrap_or('x'))
        .collect();
    let q = parse(&garbage, 10_000);
    fx.index
        .search_posts(&q, &viewer, Order::Relevant, None, 10)
        .unwrap();
    for s in [
        "\"",
        "-",
        "-\"",
        "from:",
        "#",
        "@",
        "🦀🦀",
        "before:9999-99-99",
        "after:0000-01-01",
        "before:0000-01-01",
        &"x".repeat(300),
        &"東".repeat(5_000),
        "is:reply -is:reply has:media",
    ] {
        fx.index
            .search_posts(&parse(s, 10_000), &viewer, Order::Newest, None, 10)
            .unwrap();
    }
    // A word too long to be indexed matches nothing (rather than everything).
    assert!(fx.ids(&"hello".repeat(20)).is_empty());
}

#[test]
fn people_by_username_prefix_display_name_and_bio() {
    let fx = Fx::new();
    let people = [
        (1, "alice", "Alice Liddell", "down the rabbit hole"),
        (2, "alicia", "Alicia", "photographer"),
        (3, "ali_the_great", "Ali", "boxing fan"),
        (4, "zed", "Alison Wonder", "likes tea"),
        (5, "bob", "Bob", "friend of alice"),
        (6, "carol@remote.example", "Carol", "far away"),
    ];
    for (id, u, d, b) in people {
        fx.indexer
            .upsert_person(PersonDoc {
                id,
                username: u.into(),
                display_name: d.into(),
                bio: b.into(),
            })
            .unwrap();
    }
    fx.indexer.flush().wait_blocking().unwrap();
    // Username prefixes and display-name prefixes; bios only by whole words.
    let mut found = fx.index.search_people("ali", 10).unwrap();
    found.sort();
    assert_eq!(found, [1, 2, 3, 4]);
    // The exact username first, then a bio that names it.
    assert_eq!(fx.index.search_people("alice", 10).unwrap(), [1, 5]);
    // An exact username comes first.
    assert_eq!(fx.index.search_people("@Alice", 10).unwrap()[0], 1);
    assert_eq!(fx.index.search_people("alicia", 10).unwrap()[0], 2);
    assert_eq!(fx.index.search_people("Wonder", 10).unwrap(), [4]);
    assert_eq!(fx.index.search_people("photographer", 10).unwrap(), [2]);
    assert_eq!(fx.index.search_people("alison wond", 10).unwrap(), [4]);
    assert_eq!(fx.index.search_people("carol@remote", 10).unwrap(), [6]);
    assert!(fx.index.search_people("", 10).unwrap().is_empty());
    assert!(fx.index.search_people("  @ ", 10).unwrap().is_empty());
    assert!(fx.index.search_people("nobody", 10).unwrap().is_empty());
    fx.index.search_people(&"\"-".repeat(5_000), 10).unwrap();

    fx.indexer.delete_person(1).unwrap();
    fx.indexer
        .upsert_person(PersonDoc {
            id: 2,
            username: "alicia".into(),
            display_name: "Renamed".into(),
            bio: String::new(),
        })
        .unwrap();
    fx.indexer.flush().wait_blocking().unwrap();
    assert!(!fx.index.search_people("ali", 10).unwrap().contains(&1));
    assert_eq!(fx.index.search_people("renamed", 10).unwrap(), [2]);
}

#[test]
fn an_index_survives_a_restart() {
    let fx = Fx::with(&[post(1, "alice", "persistent")]);
    let path = fx.path();
    let Fx {
        dir,
        index,
        indexer,
    } = fx;
    indexer.stop().unwrap();
    drop(index);
    let index = SearchIndex::open(&path).unwrap();
    assert_eq!(index.doc_count(), 1);
    let stats = index.stats();
    assert_eq!(stats.posts, 1);
    assert_eq!(stats.schema_version, SCHEMA_VERSION);
    assert!(stats.bytes_on_disk > 0);
    drop(dir);
}

fn corrupt_and_expect_rebuild(damage: impl Fn(&Path)) {
    let fx = Fx::with(&[post(1, "alice", "precious")]);
    let path = fx.path();
    let generation = fx.index.stats().generation;
    let Fx {
        dir,
        index,
        indexer,
    } = fx;
    indexer.stop().unwrap();
    drop(index);
    damage(&path.join(&generation));
    match SearchIndex::open(&path) {
        Err(SearchError::NeedsRebuild(_)) => {}
        Err(e) => panic!("expected NeedsRebuild, got {e}"),
        Ok(_) => panic!("expected NeedsRebuild, got an index"),
    }
    // The way out: a fresh index, then a rebuild.
    let fresh = SearchIndex::create_fresh(&path).unwrap();
    assert_eq!(fresh.doc_count(), 0);
    drop(fresh);
    let rebuilt = rebuild(
        &path,
        vec![post(1, "alice", "precious")].into_iter(),
        std::iter::empty(),
        &|_| {},
    )
    .unwrap();
    assert_eq!(rebuilt.doc_count(), 1);
    assert_eq!(SearchIndex::open(&path).unwrap().doc_count(), 1);
    drop(dir);
}

#[test]
fn needs_rebuild_when_meta_is_garbage() {
    corrupt_and_expect_rebuild(|g| {
        std::fs::write(g.join("posts").join("meta.json"), b"\x00garbage{").unwrap();
    });
}

#[test]
fn needs_rebuild_when_segment_files_are_missing() {
    corrupt_and_expect_rebuild(|g| {
        for entry in std::fs::read_dir(g.join("posts")).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "idx" || e == "fast") {
                std::fs::remove_file(p).unwrap();
            }
        }
    });
}

#[test]
fn needs_rebuild_when_the_generation_is_gone() {
    corrupt_and_expect_rebuild(|g| std::fs::remove_dir_all(g).unwrap());
}

#[test]
fn needs_rebuild_for_another_schema_version_or_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    SearchIndex::open(&path).unwrap();
    let manifest = std::fs::read_to_string(path.join("MANIFEST")).unwrap();
    std::fs::write(
        path.join("MANIFEST"),
        manifest.replace(&format!("schema {SCHEMA_VERSION}"), "schema 999"),
    )
    .unwrap();
    assert!(matches!(
        SearchIndex::open(&path),
        Err(SearchError::NeedsRebuild(_))
    ));
    std::fs::write(path.join("MANIFEST"), b"\xff\xfe not text").unwrap();
    assert!(matches!(
        SearchIndex::open(&path),
        Err(SearchError::NeedsRebuild(_))
    ));

    // Files that are not ours, and no manifest: refuse, and never delete them.
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("meta.json"), b"{}").unwrap();
    assert!(matches!(
        SearchIndex::open(&foreign),
        Err(SearchError::NeedsRebuild(_))
    ));
    SearchIndex::create_fresh(&foreign).unwrap();
    assert!(foreign.join("meta.json").exists());
    SearchIndex::open(&foreign).unwrap();
}

fn sample_posts() -> Vec<PostDoc> {
    let texts = [
        "Morning coffee and #rust code",
        "café culture in Paris",
        "the quick brown fox",
        "@bob have you seen the fox?",
        "rust belt road trip",
        "learning Rust the hard way #rust",
        "quick question about coffee",
        "東京で会いましょう",
    ];
    (1..=40)
        .map(|i| {
            let mut p = post(
                i,
                ["alice", "bob", "carol"][(i % 3) as usize],
                texts[(i % 8) as usize],
            );
            p.has_media = i % 5 == 0;
            p.is_reply = i % 4 == 0;
            p.visibility = [0, 0, 0, 1, 2][(i % 5) as usize];
            p
        })
        .collect()
}

fn answers(index: &SearchIndex) -> Vec<(String, Vec<i64>)> {
    let viewer = ViewerFilter {
        viewer: Some(1),
        followed_authors: vec![2],
    };
    [
        "rust",
        "#rust",
        "cafe",
        "\"quick brown\"",
        "fox -brown",
        "from:bob",
        "has:media coffee",
        "is:reply",
        "東京",
        "@bob",
    ]
    .iter()
    .map(|q| {
        let ids = index
            .search_posts(&parse(q, 100), &viewer, Order::Newest, None, 100)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.id)
            .collect();
        (q.to_string(), ids)
    })
    .collect()
}

#[test]
fn rebuilding_from_scratch_gives_what_incremental_indexing_gave() {
    let posts = sample_posts();
    let fx = Fx::new();
    // Incrementally, with an edit and a delete on the way.
    fx.add(&posts[..20]);
    fx.indexer
        .upsert_post(post(3, "alice", "temporary"))
        .unwrap();
    fx.indexer
        .upsert_post(post(99, "alice", "deleted later rust"))
        .unwrap();
    fx.add(&posts[20..]);
    fx.indexer.upsert_post(posts[2].clone()).unwrap();
    fx.indexer.delete_post(99).unwrap();
    fx.indexer.flush().wait_blocking().unwrap();
    let incremental = answers(&fx.index);
    assert!(
        incremental.iter().all(|(_, ids)| !ids.is_empty()),
        "{incremental:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let opts = RebuildOptions {
        memory_budget: 40_000_000,
        threads: 2,
    };
    let seen = std::cell::Cell::new(0);
    let rebuilt = rebuild_with(
        &dir.path().join("search"),
        posts.clone().into_iter(),
        std::iter::empty(),
        &|n| seen.set(n),
        &opts,
    )
    .unwrap();
    assert_eq!(seen.get(), 40);
    assert_eq!(answers(&rebuilt), incremental);
    assert_eq!(rebuilt.doc_count(), fx.index.doc_count());
}

#[test]
fn a_live_rebuild_keeps_ops_that_arrive_during_it() {
    let fx = Fx::with(&[post(1, "alice", "stale version")]);
    let before = fx.index.stats().generation;
    let posts = sample_posts();
    let indexer = &fx.indexer;
    let during = posts.clone().into_iter().enumerate().map(move |(i, p)| {
        if i == 10 {
            // A new post and an edit arrive while the rebuild reads the database.
            indexer
                .upsert_post(post(1000, "alice", "arrived during rebuild"))
                .unwrap();
            indexer
                .upsert_post(post(5, "alice", "edited during rebuild"))
                .unwrap();
        }
        p
    });
    let progress = std::cell::Cell::new(0);
    indexer
        .rebuild(
            during,
            std::iter::empty(),
            &|n| progress.set(n),
            &RebuildOptions::default(),
        )
        .unwrap();
    assert_eq!(progress.get(), 40);
    let after = fx.index.stats();
    assert_ne!(after.generation, before);
    assert!(!fx.path().join(&before).exists());
    assert_eq!(fx.ids("arrived"), [1000]);
    assert_eq!(fx.ids("edited"), [5]);
    assert!(fx.ids("stale").is_empty());
    assert_eq!(after.posts, 41);
    // The indexer goes on writing into the new generation, and it is what opens next time.
    fx.add(&[post(2000, "alice", "after the swap")]);
    assert_eq!(fx.ids("swap"), [2000]);
    let reopened = SearchIndex::open(&fx.path()).unwrap();
    assert_eq!(reopened.stats().generation, after.generation);
}

#[test]
fn the_indexer_reports_stopped_after_stop() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let indexer = Indexer::start(&index, opts()).unwrap();
    // One indexer per index is `service::search::lock_dir`'s job; the writers open lazily.
    indexer.upsert_post(post(2, "alice", "y")).unwrap();
    indexer.flush().wait_blocking().unwrap();
    indexer.stop().unwrap();
    let again = Indexer::start(&index, opts()).unwrap();
    again.upsert_post(post(1, "alice", "x")).unwrap();
    drop(again);
    assert_eq!(index.doc_count(), 2);
}

/// What the index should answer, computed the slow way: every post, every word, the
/// visibility rule, newest first.
fn brute_force(posts: &[PostDoc], q: &SearchQuery, viewer: &ViewerFilter) -> Vec<i64> {
    let mut analyzer = analysis::text_analyzer();
    let mut out: Vec<i64> = posts
        .iter()
        .filter(|p| {
            let tokens = analysis::tokens(&mut analyzer, &p.text);
            q.words.iter().all(|w| tokens.contains(w))
        })
        .filter(|p| {
            p.visibility == 0
                || viewer.viewer == Some(p.author_id)
                || (p.visibility == 1 && viewer.followed_authors.contains(&p.author_id))
        })
        .map(|p| p.id)
        .collect();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

#[test]
fn newest_first_matches_a_brute_force_scan_across_segments_edits_and_deletes() {
    let mut g = bench::Generator::new(11);
    let mut posts: Vec<PostDoc> = (0..3_000).map(|i| g.post(i)).collect();
    let fx = Fx::new();
    // Many small commits (many segments, merged in the background as they pile up), edits
    // that re-add old ids into new segments, and deletes.
    for chunk in posts.chunks(250) {
        fx.add(chunk);
    }
    for i in (0..posts.len()).step_by(7) {
        let edited = g.post(i as u64 + 10_000);
        posts[i].text = edited.text;
        posts[i].visibility = edited.visibility;
        fx.indexer.upsert_post(posts[i].clone()).unwrap();
    }
    let mut deleted = Vec::new();
    for i in (0..posts.len()).step_by(11) {
        fx.indexer.delete_post(posts[i].id).unwrap();
        deleted.push(posts[i].id);
    }
    fx.indexer.flush().wait_blocking().unwrap();
    posts.retain(|p| !deleted.contains(&p.id));
    assert_eq!(fx.index.doc_count(), posts.len() as u64);

    let viewers = [
        ViewerFilter::anonymous(),
        ViewerFilter {
            viewer: Some(5),
            followed_authors: (1..2_000).collect(),
        },
    ];
    for n in 0..150 {
        let q = g.query();
        let viewer = &viewers[n % 2];
        let expected = brute_force(&posts, &q, viewer);
        // Three pages of 7 through the keyset cursor.
        let mut got = Vec::new();
        let mut cursor = None;
        for _ in 0..3 {
            let page = fx
                .index
                .search_posts(&q, viewer, Order::Newest, cursor, 7)
                .unwrap();
            got.extend(page.hits.iter().map(|h| h.id));
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        let want: Vec<i64> = expected.iter().copied().take(21).collect();
        assert_eq!(got, want, "query {q}");
        // Relevance finds the same set (up to its cap).
        let relevant = fx
            .index
            .search_posts(&q, viewer, Order::Relevant, None, 100)
            .unwrap();
        let mut rel: Vec<i64> = relevant.hits.iter().map(|h| h.id).collect();
        rel.sort_unstable_by(|a, b| b.cmp(a));
        if expected.len() <= 100 {
            assert_eq!(rel, expected, "query {q}");
        } else {
            assert_eq!(rel.len(), 100);
        }
    }
}

#[test]
fn handles_are_shareable_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<SearchIndex>();
    shareable::<Indexer>();
    fn sendable<T: Send>() {}
    sendable::<Flush>();
}

#[test]
fn a_flush_is_awaited_and_the_indexer_dropped_inside_the_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fx = Fx::new();
        fx.indexer.upsert_post(post(1, "alice", "async")).unwrap();
        fx.indexer.flush().wait().await.unwrap();
        assert_eq!(fx.ids("async"), [1]);
        fx.indexer.upsert_post(post(2, "alice", "async")).unwrap();
        // Dropping commits what is pending, without Tokio's blocking-in-async panic.
        let Fx {
            dir,
            index,
            indexer,
        } = fx;
        drop(indexer);
        assert_eq!(index.doc_count(), 2);
        drop(dir);
    });
}

#[test]
fn matched_pieces_fold_case_and_accents_and_skip_exclusions() {
    let q = parse("cafe \"green tea\" -milk", 100);
    let got = super::matched_pieces(&q, "Café, GREEN tea and milk; more café");
    assert_eq!(got, ["Café", "GREEN", "café", "tea"]);
    assert!(super::matched_pieces(&parse("from:bob", 100), "bob was here").is_empty());
}

/// Whether another writer could be opened on the live posts index now (tantivy allows one).
fn posts_writer_free(index: &SearchIndex) -> bool {
    let g = index.current();
    let w: Result<tantivy::IndexWriter<tantivy::TantivyDocument>, _> = g.posts.writer(15_000_000);
    w.is_ok()
}

#[test]
fn writers_open_at_the_first_op_close_when_idle_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let indexer = Indexer::start(
        &index,
        IndexerOptions {
            commit_interval: Duration::from_millis(20),
            writer_idle: Duration::from_millis(150),
            ..IndexerOptions::default()
        },
    )
    .unwrap();
    assert!(
        posts_writer_free(&index),
        "a writer was opened before any op"
    );
    indexer.upsert_post(post(1, "alice", "zebra one")).unwrap();
    indexer.flush().wait_blocking().unwrap();
    assert!(!posts_writer_free(&index), "no writer while ops come in");
    let closed = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        posts_writer_free(&index)
    });
    assert!(closed, "the writers stayed open while idle");
    // The next op reopens them, and what was written before is still there.
    indexer.upsert_post(post(2, "alice", "zebra two")).unwrap();
    indexer.flush().wait_blocking().unwrap();
    let page = index
        .search_posts(
            &parse("zebra", 1000),
            &ViewerFilter::anonymous(),
            Order::Newest,
            None,
            10,
        )
        .unwrap();
    let ids: Vec<i64> = page.hits.into_iter().map(|h| h.id).collect();
    assert_eq!(ids, vec![2, 1]);
    indexer.stop().unwrap();
}
