-- posts_root (root_id, id) was read by no query: 35 MB at 1M posts, and one more b-tree
-- insert for every post.
DROP INDEX IF EXISTS posts_root;

-- follows_follower (follower_id, id) only ordered the "Following" list by the time of the
-- follow. The unique (follower_id, followee_id) index finds the same rows and the list sorts
-- them (an account follows at most limits.following_max, 7,500 by default); everything else
-- that starts from the follower reads followee_id, which that index holds. 36 MB at 1M
-- follows.
DROP INDEX IF EXISTS follows_follower;
