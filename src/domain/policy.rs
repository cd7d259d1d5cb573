//! Who may see a post, who may reply to it, what an account may do, and who may sign up.

use super::Invalid;

/// Who can see a post. Mentioned people can always see a post that mentions them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public = 0,
    Followers = 1,
    Mentioned = 2,
}

impl Visibility {
    pub fn from_i64(v: i64) -> Visibility {
        match v {
            0 => Visibility::Public,
            1 => Visibility::Followers,
            _ => Visibility::Mentioned,
        }
    }
    pub fn parse(s: &str) -> Result<Visibility, Invalid> {
        match s {
            "" | "public" => Ok(Visibility::Public),
            "followers" => Ok(Visibility::Followers),
            "mentioned" => Ok(Visibility::Mentioned),
            _ => Err(Invalid::new("Pick who can see the post.")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Followers => "followers",
            Visibility::Mentioned => "mentioned",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Visibility::Public => "Public",
            Visibility::Followers => "Followers only",
            Visibility::Mentioned => "Mentioned people only",
        }
    }
}

/// Who can reply to a post. Held for the whole conversation: a reply must satisfy the policy
/// of the post it answers and that of the conversation's first post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyPolicy {
    Anyone = 0,
    Following = 1,
    Mentioned = 2,
}

impl ReplyPolicy {
    pub fn from_i64(v: i64) -> ReplyPolicy {
        match v {
            0 => ReplyPolicy::Anyone,
            1 => ReplyPolicy::Following,
            _ => ReplyPolicy::Mentioned,
        }
    }
    pub fn parse(s: &str) -> Result<ReplyPolicy, Invalid> {
        match s {
            "" | "anyone" => Ok(ReplyPolicy::Anyone),
            "following" => Ok(ReplyPolicy::Following),
            "mentioned" => Ok(ReplyPolicy::Mentioned),
            _ => Err(Invalid::new("Pick who can reply.")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyPolicy::Anyone => "anyone",
            ReplyPolicy::Following => "following",
            ReplyPolicy::Mentioned => "mentioned",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ReplyPolicy::Anyone => "Anyone can reply",
            ReplyPolicy::Following => "People the author follows can reply",
            ReplyPolicy::Mentioned => "Only mentioned people can reply",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    User = 0,
    Moderator = 1,
    Admin = 2,
}

impl Role {
    pub fn from_i64(v: i64) -> Role {
        match v {
            2 => Role::Admin,
            1 => Role::Moderator,
            _ => Role::User,
        }
    }
    pub fn parse(s: &str) -> Result<Role, Invalid> {
        match s {
            "admin" => Ok(Role::Admin),
            "moderator" => Ok(Role::Moderator),
            "user" => Ok(Role::User),
            _ => Err(Invalid::new("A role is admin, moderator or user.")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::User => "user",
        }
    }
    pub fn is_staff(self) -> bool {
        self >= Role::Moderator
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationMode {
    Open,
    Approval,
    Closed,
}

impl RegistrationMode {
    pub fn parse(s: &str) -> Result<RegistrationMode, Invalid> {
        match s {
            "open" => Ok(RegistrationMode::Open),
            "approval" => Ok(RegistrationMode::Approval),
            "closed" => Ok(RegistrationMode::Closed),
            _ => Err(Invalid::new("Registration is open, approval or closed.")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationMode::Open => "open",
            RegistrationMode::Approval => "approval",
            RegistrationMode::Closed => "closed",
        }
    }
}
