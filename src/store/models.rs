//! Read models returned by the store: what pages and the API show.

use crate::domain::{AccountId, PostId, ReplyPolicy, Role, Visibility};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active = 0,
    Pending = 1,
    Suspended = 2,
    /// Deleted by its owner (or gone from its server); the name stays taken.
    Deleted = 3,
}

impl AccountStatus {
    pub fn from_i64(v: i64) -> AccountStatus {
        match v {
            1 => AccountStatus::Pending,
            2 => AccountStatus::Suspended,
            3 => AccountStatus::Deleted,
            _ => AccountStatus::Active,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub bio: String,
    pub fields: Vec<(String, String)>,
    pub role: Role,
    pub verified: bool,
    pub locked: bool,
    pub status: AccountStatus,
    pub signup_reason: String,
    pub created_at: i64,
    pub posts_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    pub notifications_seen_id: i64,
    /// Stored file names (see `media`) of the square avatar and the header image.
    pub avatar: Option<String>,
    pub header: Option<String>,
    /// Run by software (shown as a bot; an ActivityPub Service).
    pub bot: bool,
}

impl Account {
    pub fn brief(&self) -> AccountBrief {
        AccountBrief {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            verified: self.verified,
            avatar: self.avatar.clone(),
        }
    }
}

/// What a post card needs to show its author.
#[derive(Debug, Clone)]
pub struct AccountBrief {
    pub id: AccountId,
    pub username: String,
    pub display_name: String,
    pub verified: bool,
    pub avatar: Option<String>,
}

impl AccountBrief {
    /// The display name, or the username when none is set.
    pub fn name(&self) -> &str {
        if self.display_name.trim().is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }
}

/// A post as a given viewer sees it (the `liked`/`reposted`/`bookmarked` flags are theirs).
#[derive(Debug, Clone)]
pub struct PostView {
    pub id: PostId,
    pub author: AccountBrief,
    pub body: String,
    pub content_warning: String,
    pub visibility: Visibility,
    pub reply_policy: ReplyPolicy,
    pub in_reply_to: Option<PostId>,
    pub in_reply_to_author: Option<String>,
    pub root_id: PostId,
    pub quote_id: Option<PostId>,
    /// Filled by the service when the quoted post is visible to the viewer.
    pub quote: Option<Box<PostView>>,
    pub repost_of: Option<PostId>,
    pub hidden: bool,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    pub reply_count: i64,
    pub repost_count: i64,
    pub like_count: i64,
    pub quote_count: i64,
    pub liked: bool,
    pub reposted: bool,
    pub bookmarked: bool,
    pub media_count: i64,
    /// Filled by the service for posts with `media_count > 0`.
    pub media: Vec<MediaView>,
    /// For a post from another server: its page there, and its HTML as sanitised on arrival
    /// (shown instead of `body`, which holds its plain text).
    pub remote_url: Option<String>,
    pub content_html: Option<String>,
}

/// One attachment, as shown.
#[derive(Debug, Clone)]
pub struct MediaView {
    pub id: i64,
    pub post: Option<PostId>,
    pub kind: super::media::MediaKind,
    /// Stored file name of the full-size file (served at /media/<file>).
    pub file: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// (file, width, height) of the small (400 px) and large (1280 px) thumbnails.
    pub small: Option<(String, u32, u32)>,
    pub large: Option<(String, u32, u32)>,
    pub blurhash: String,
    pub placeholder: String,
    pub alt: String,
    pub sensitive: bool,
}

/// One entry of a feed: a post, possibly shown because someone reposted it.
#[derive(Debug, Clone)]
pub struct FeedItem {
    /// The id the feed is ordered by (the repost's own id for reposts).
    pub cursor: i64,
    pub post: PostView,
    pub reposted_by: Option<AccountBrief>,
}

#[derive(Debug, Clone)]
pub struct PostEdit {
    pub body: String,
    pub content_warning: String,
    pub written_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    Reply = 0,
    Mention = 1,
    Quote = 2,
    Repost = 3,
    Like = 4,
    Follow = 5,
    FollowRequest = 6,
}

impl NotificationKind {
    pub fn from_i64(v: i64) -> Option<NotificationKind> {
        Some(match v {
            0 => NotificationKind::Reply,
            1 => NotificationKind::Mention,
            2 => NotificationKind::Quote,
            3 => NotificationKind::Repost,
            4 => NotificationKind::Like,
            5 => NotificationKind::Follow,
            6 => NotificationKind::FollowRequest,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub id: i64,
    pub kind: NotificationKind,
    pub actor: AccountBrief,
    pub post: Option<PostView>,
    pub created_at: i64,
    pub unread: bool,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: Vec<u8>,
    pub account_id: AccountId,
    pub csrf: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: String,
    pub ip: String,
}

/// How the viewer relates to another account.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relationship {
    pub following: bool,
    pub requested: bool,
    pub followed_by: bool,
    /// The viewer blocks the other account.
    pub blocking: bool,
}

/// An entry in a followers/following/requests list, with its keyset cursor.
#[derive(Debug, Clone)]
pub struct AccountListItem {
    pub cursor: i64,
    pub account: Account,
}
