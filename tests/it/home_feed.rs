//! The bounded home feed must return exactly what the pull query returns, page by page, on a
//! seeded community and after follows, unfollows, accepted requests, removed followers, new
//! posts of every visibility, replies, reposts and their undoing, and deletes.

use std::time::Duration;

use weft::domain::{PostId, ReplyPolicy, Visibility};
use weft::service::accounts::{self, Viewer};
use weft::service::{Core, follows, home, posts, search, seed};

use crate::common::{TestApp, test_config};

async fn viewer(core: &Core, name: &str) -> Viewer {
    Viewer {
        account: accounts::find_by_username(core, name).await.unwrap(),
        session_hash: Vec::new(),
        csrf: String::new(),
    }
}

/// Every page of a feed as (cursor, shown post, the post it quotes as shown, reposter's id and
/// name as the card shows them).
type Feed = Vec<(i64, i64, Option<i64>, Option<(i64, String)>)>;

async fn all_pages(core: &Core, v: &Viewer, fast: bool) -> Feed {
    let mut out = Vec::new();
    let mut before = None;
    for _ in 0..1000 {
        let page = if fast {
            home::page(core, v, before).await.unwrap()
        } else {
            home::page_by_pull(core, v.id(), before).await.unwrap()
        };
        out.extend(page.items.iter().map(|i| {
            (
                i.cursor,
                i.post.id.0,
                i.post.quote.as_ref().map(|q| q.id.0),
                i.reposted_by
                    .as_ref()
                    .map(|a| (a.id.0, a.name().to_string())),
            )
        }));
        match page.next {
            Some(n) => before = Some(n),
            None => return out,
        }
    }
    panic!("feed did not end");
}

async fn drain_jobs(core: &Core) {
    for _ in 0..500 {
        let queued = core
            .db
            .read(|c| {
                let now_ms = weft::domain::now_secs() * 1000 + 1000;
                Ok(weft::store::jobs::due_count(c, now_ms)?)
            })
            .await
            .unwrap();
        if queued == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the job queue did not drain");
}

async fn feed_stats(core: &Core) -> (i64, i64, i64) {
    core.db
        .read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM home_feeds),
                        (SELECT count(*) FROM home_feeds WHERE floor > 0),
                        (SELECT count(*) FROM home_entries)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .await
        .unwrap()
}

async fn assert_same(core: &Core, names: &[String], when: &str) {
    drain_jobs(core).await;
    for name in names {
        let v = viewer(core, name).await;
        let fast = all_pages(core, &v, true).await;
        let pull = all_pages(core, &v, false).await;
        assert_eq!(
            fast.len(),
            pull.len(),
            "{when}: {name}'s home feed has {} items, the pull query {}",
            fast.len(),
            pull.len()
        );
        assert_eq!(fast, pull, "{when}: {name}'s home feed differs");
    }
}

async fn say(core: &Core, who: &Viewer, body: &str, vis: Visibility, reply: Option<i64>) -> i64 {
    say_quoting(core, who, body, vis, reply, None).await
}

async fn say_quoting(
    core: &Core,
    who: &Viewer,
    body: &str,
    vis: Visibility,
    reply: Option<i64>,
    quote: Option<i64>,
) -> i64 {
    posts::create(
        core,
        who,
        posts::NewPost {
            body: body.into(),
            content_warning: String::new(),
            visibility: vis,
            reply_policy: ReplyPolicy::Anyone,
            in_reply_to: reply.map(PostId),
            quote_of: quote.map(PostId),
            media: Vec::new(),
        },
    )
    .await
    .unwrap()
    .id
    .0
}

#[actix_web::test]
async fn the_bounded_home_feed_returns_exactly_what_the_pull_query_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    // Small feeds and pages, so that trimming, floors and the fall-back below them all run.
    config.feeds.home_size = 40;
    config.limits.page_size = 7;
    {
        let core = Core::open_offline(config.clone()).unwrap();
        let opts = seed::SeedOptions {
            users: 40,
            posts: 1500,
            follows: 8,
            graph: seed::Graph::Zipf,
            seed: 11,
            heavy_users: 2,
            heavy_follows: 30,
        };
        tokio::task::spawn_blocking(move || {
            seed::run(&core, &opts, &|_, _, _| {}).unwrap();
            core.close();
        })
        .await
        .unwrap();
    }
    let app = TestApp::start(dir, config);
    let core = app.core.clone();
    let names: Vec<String> = core
        .db
        .read(|c| {
            let mut s = c.prepare("SELECT username FROM accounts ORDER BY id")?;
            let rows = s.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
        .unwrap();

    // Before any feed exists, both paths are the pull query; then build every feed.
    assert_eq!(feed_stats(&core).await.0, 0);
    for n in &names {
        let v = viewer(&core, n).await;
        assert!(home::build(&core, v.id()).await.unwrap(), "{n}");
    }
    let (feeds, trimmed, _) = feed_stats(&core).await;
    assert_eq!(feeds as usize, names.len());
    assert!(
        trimmed > 0,
        "no feed reached its bound; the test would miss the floor path"
    );
    assert_same(&core, &names, "after building").await;

    let (a, b, c, d) = (
        viewer(&core, &names[0]).await,
        viewer(&core, &names[1]).await,
        viewer(&core, &names[2]).await,
        viewer(&core, &names[3]).await,
    );

    // Follows (backfill) and unfollows, both ways.
    for n in &names[4..14] {
        let _ = follows::follow(&core, &a, n).await.unwrap();
        let _ = follows::unfollow(&core, &b, n).await;
    }
    follows::unfollow(&core, &c, &names[0]).await.unwrap();
    let _ = follows::follow(&core, &d, &names[0]).await.unwrap();
    assert_same(&core, &names, "after follows and unfollows").await;

    // Followed hashtags: their public top-level posts join the feed (backfilled on follow).
    let popular: Vec<String> = core
        .db
        .read(|c| {
            let mut s = c.prepare("SELECT tag FROM tag_stats ORDER BY posts DESC LIMIT 2")?;
            let rows = s.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .await
        .unwrap();
    assert_eq!(popular.len(), 2, "the seed uses hashtags");
    search::set_tag_follow(&core, &a, &popular[0], true)
        .await
        .unwrap();
    search::set_tag_follow(&core, &c, &popular[1], true)
        .await
        .unwrap();
    search::set_tag_follow(&core, &d, &popular[0], true)
        .await
        .unwrap();
    assert_same(&core, &names, "after hashtag follows").await;
    let stranger = viewer(&core, &names[36]).await;
    let tagged = say(
        &core,
        &stranger,
        &format!("news #{}", popular[0]),
        Visibility::Public,
        None,
    )
    .await;
    say(
        &core,
        &stranger,
        &format!("private #{}", popular[0]),
        Visibility::Followers,
        None,
    )
    .await;
    say(
        &core,
        &stranger,
        &format!("a reply #{}", popular[1]),
        Visibility::Public,
        Some(tagged),
    )
    .await;
    let later = say(
        &core,
        &stranger,
        "untagged at first",
        Visibility::Public,
        None,
    )
    .await;
    posts::edit(
        &core,
        &stranger,
        PostId(later),
        &format!("tagged by an edit #{}", popular[1]),
        "",
    )
    .await
    .unwrap();
    assert_same(&core, &names, "after tagged posts").await;
    // Unfollowing someone keeps their posts that come through a followed hashtag.
    let followed = viewer(&core, &names[5]).await;
    say(
        &core,
        &followed,
        &format!("both ways #{}", popular[0]),
        Visibility::Public,
        None,
    )
    .await;
    assert_same(
        &core,
        &names,
        "after a post by someone followed, with a followed tag",
    )
    .await;
    follows::unfollow(&core, &a, &names[5]).await.unwrap();
    assert_same(&core, &names, "after unfollowing its author").await;
    search::set_tag_follow(&core, &d, &popular[0], false)
        .await
        .unwrap();
    assert_same(&core, &names, "after a hashtag unfollow").await;

    // New posts of every visibility, replies to followed and unfollowed people, self-replies.
    let p1 = say(&core, &a, "public news #weft", Visibility::Public, None).await;
    let p2 = say(&core, &a, "for followers", Visibility::Followers, None).await;
    let _ = say(
        &core,
        &a,
        &format!("just @{}", names[5]),
        Visibility::Mentioned,
        None,
    )
    .await;
    let _ = say(&core, &a, "self reply", Visibility::Public, Some(p1)).await;
    let _ = say(&core, &b, "reply to a", Visibility::Public, Some(p1)).await;
    let _ = say(
        &core,
        &d,
        "reply in private",
        Visibility::Followers,
        Some(p2),
    )
    .await;
    let far = say(
        &core,
        &viewer(&core, &names[35]).await,
        "far away",
        Visibility::Public,
        None,
    )
    .await;
    let _ = say(
        &core,
        &c,
        "reply to a stranger",
        Visibility::Public,
        Some(far),
    )
    .await;
    assert_same(&core, &names, "after new posts").await;

    // Reposts (one of a post that quotes another), an undone repost, and deletes (of a post,
    // of a reposted original and of a quoted post).
    let quoting = say_quoting(&core, &b, "quoting", Visibility::Public, None, Some(far)).await;
    posts::set_repost(&core, &d, PostId(quoting), true)
        .await
        .unwrap();
    posts::set_repost(&core, &b, PostId(p1), true)
        .await
        .unwrap();
    posts::set_repost(&core, &c, PostId(p1), true)
        .await
        .unwrap();
    posts::set_repost(&core, &d, PostId(far), true)
        .await
        .unwrap();
    posts::set_repost(&core, &c, PostId(p1), false)
        .await
        .unwrap();
    assert_same(&core, &names, "after reposts").await;
    // Both paths hydrate alike, so also check the repost of the quoting post as it is shown: in
    // its reposter's own home feed, with the quoted post attached.
    let shown = all_pages(&core, &d, true).await;
    let expected = (
        PostId(quoting).0,
        Some(far),
        Some((d.id().0, d.account.brief().name().to_string())),
    );
    assert!(
        shown
            .iter()
            .any(|(_, post, quote, by)| (*post, *quote, by.clone()) == expected),
        "the repost of a quoting post, with its quote: {shown:?}"
    );
    posts::delete(&core, &a, PostId(p1)).await.unwrap();
    posts::delete(&core, &a, PostId(p2)).await.unwrap();
    assert_same(&core, &names, "after deletes").await;
    posts::delete(&core, &viewer(&core, &names[35]).await, PostId(far))
        .await
        .unwrap();
    assert_same(&core, &names, "after the quoted post's delete").await;

    // A locked account: a request, accepted; then a follower removed.
    accounts::update_profile(
        &core,
        &b,
        accounts::ProfileInput {
            display_name: String::new(),
            bio: String::new(),
            fields: Vec::new(),
            locked: true,
            bot: false,
        },
    )
    .await
    .unwrap();
    let _ = follows::unfollow(&core, &c, &names[1]).await;
    assert_eq!(
        follows::follow(&core, &c, &names[1]).await.unwrap(),
        follows::FollowOutcome::Requested
    );
    let b = viewer(&core, &names[1]).await;
    follows::accept(&core, &b, &names[2]).await.unwrap();
    let _ = follows::follow(&core, &d, &names[1]).await;
    follows::remove_follower(&core, &b, &names[3])
        .await
        .unwrap();
    assert_same(&core, &names, "after requests and removed followers").await;

    // Many posts from a popular account push feeds past their bound again.
    let star = viewer(&core, &names[0]).await;
    for i in 0..60 {
        say(
            &core,
            &star,
            &format!("burst {i}"),
            Visibility::Public,
            None,
        )
        .await;
    }
    assert_same(&core, &names, "after a burst").await;
    let (_, _, entries) = feed_stats(&core).await;
    assert!(
        (entries as usize) < names.len() * (40 + 40),
        "feeds stay bounded: {entries} entries for {} feeds",
        names.len()
    );

    // Through HTTP the page view builds a missing feed in the background.
    let aid = a.id();
    core.db
        .write(move |c| {
            weft::store::home::drop_feed(c, aid)?;
            Ok(())
        })
        .await
        .unwrap();
    let (u, _) = app.login(&names[0], seed::PASSWORD).await;
    u.get("/").await.assert_contains("burst 59");
    for _ in 0..200 {
        if core
            .db
            .read(move |c| Ok(weft::store::home::floor(c, aid)?))
            .await
            .unwrap()
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_same(&core, &names[..1], "after a rebuild on a page view").await;
    assert!(feed_stats(&core).await.0 as usize == names.len());
}
