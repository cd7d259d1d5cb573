//! The one outbound HTTP client of federation: every fetch and delivery goes through here.
//! It refuses loopback, private, link-local and other internal addresses (checked on the
//! addresses a name resolves to, on every redirect too, so a peer cannot point us at the
//! machines behind us), caps sizes, redirects and time, and names the instance in its
//! User-Agent. `allow_private_addresses` lifts the address check for tests and development.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not an address we fetch: {0}")]
    Refused(String),
    #[error("the peer answered {0}")]
    Status(u16),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("could not reach the peer: {0}")]
    Network(String),
    #[error("the answer is not the JSON expected: {0}")]
    Malformed(String),
}

impl FetchError {
    /// Whether trying again later may help (network trouble, 5xx, 429).
    pub fn retryable(&self) -> bool {
        match self {
            FetchError::Network(_) => true,
            FetchError::Status(s) => *s >= 500 || *s == 429 || *s == 408,
            _ => false,
        }
    }
}

/// What a signature covers, handed to the signer for each request.
pub struct ToSign {
    pub method: &'static str,
    pub url: Url,
    pub body: Option<Vec<u8>>,
}

/// Signs a request: answers the headers to add (Host, Date, Digest, Signature…). Runs on
/// the blocking pool (an RSA signature takes about a millisecond).
pub type Signer = Arc<dyn Fn(&ToSign) -> Result<Vec<(String, String)>, String> + Send + Sync>;

async fn signed(sign: &Signer, t: ToSign) -> Result<Vec<(String, String)>, FetchError> {
    let sign = sign.clone();
    tokio::task::spawn_blocking(move || sign(&t))
        .await
        .map_err(|e| FetchError::Refused(format!("signing: {e}")))?
        .map_err(FetchError::Refused)
}

/// Whether an address may be contacted when internal ones are not allowed.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                // 100.64.0.0/10, carrier-grade NAT
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                // 192.0.0.0/24 protocol assignments, 198.18.0.0/15 benchmarking
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                // 192.88.99.0/24, the old 6to4 relay anycast
                || (o[0] == 192 && o[1] == 88 && o[2] == 99)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // ::a.b.c.d (IPv4-compatible, deprecated) and 2002:AABB:CCDD::/48 (6to4) carry
            // an IPv4 address that must pass the same rule.
            if s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1) {
                let v4 = std::net::Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                );
                return is_public(IpAddr::V4(v4));
            }
            if s[0] == 0x2002 {
                let v4 = std::net::Ipv4Addr::new(
                    (s[1] >> 8) as u8,
                    s[1] as u8,
                    (s[2] >> 8) as u8,
                    s[2] as u8,
                );
                return is_public(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                // fec0::/10, the old site-local range
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // 64:ff9b::/96 NAT64 can reach internal IPv4 space
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

/// Resolves names and drops every address the guard refuses: the connection can only go
/// to what is left, so a name that resolves to 127.0.0.1 fails instead of being fetched.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address we may contact").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Makes ring rustls's process-wide crypto provider (reqwest is built without one, so that
/// aws-lc is never compiled). Idempotent.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    allow_private: bool,
    fetch_bytes: usize,
    max_redirects: usize,
}

impl Client {
    pub fn new(cfg: &config::Federation, public_url: &str) -> anyhow::Result<Client> {
        install_crypto();
        let allow_private = cfg.allow_private_addresses;
        let timeout = Duration::from_secs(cfg.request_timeout_secs);
        let http = reqwest::Client::builder()
            .user_agent(format!(
                "weft/{} (+{public_url})",
                env!("CARGO_PKG_VERSION")
            ))
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            // Redirects are followed by hand: each hop is checked and signed afresh (a
            // signature names its host and path), and a proxy would resolve names itself.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(4)
            .build()?;
        Ok(Client {
            http,
            allow_private,
            fetch_bytes: cfg.fetch_bytes,
            max_redirects: cfg.max_redirects,
        })
    }

    /// Parses and checks an address before any connection.
    pub fn url(&self, raw: &str) -> Result<Url, FetchError> {
        let url = Url::parse(raw).map_err(|_| FetchError::Refused(raw.to_string()))?;
        check_url(&url, self.allow_private).map_err(FetchError::Refused)?;
        Ok(url)
    }

    /// GETs a URL, following up to `max_redirects` redirects by hand: every hop is checked
    /// like the first and signed afresh when `sign` is given.
    async fn get(
        &self,
        raw: &str,
        accept: &str,
        sign: Option<&Signer>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut url = self.url(raw)?;
        for _ in 0..=self.max_redirects {
            let mut req = self.http.get(url.clone()).header("Accept", accept);
            if let Some(sign) = sign {
                let t = ToSign {
                    method: "GET",
                    url: url.clone(),
                    body: None,
                };
                for (k, v) in signed(sign, t).await? {
                    req = req.header(k, v);
                }
            }
            let resp = req.send().await.map_err(network)?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or(FetchError::Status(status.as_u16()))?;
                check_url(&next, self.allow_private).map_err(FetchError::Refused)?;
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            return Ok(resp);
        }
        Err(FetchError::Refused("too many redirects".into()))
    }

    /// GETs a JSON document (ActivityStreams, WebFinger), signed when `sign` is given;
    /// answers the address it finally came from.
    pub async fn get_json(
        &self,
        raw: &str,
        accept: &str,
        sign: Option<&Signer>,
    ) -> Result<(Url, serde_json::Value), FetchError> {
        let resp = self.get(raw, accept, sign).await?;
        let final_url = resp.url().clone();
        let json_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        if !json_type {
            return Err(FetchError::Malformed("not a JSON document".into()));
        }
        let body = read_capped(resp, self.fetch_bytes).await?;
        let json =
            serde_json::from_slice(&body).map_err(|e| FetchError::Malformed(e.to_string()))?;
        Ok((final_url, json))
    }

    /// GETs a file (a remote post's photo or video), at most `cap` bytes.
    pub async fn get_bytes(&self, raw: &str, cap: usize) -> Result<Vec<u8>, FetchError> {
        let resp = self.get(raw, "*/*", None).await?;
        read_capped(resp, cap).await
    }

    /// POSTs a signed activity to an inbox.
    pub async fn post_activity(
        &self,
        inbox: &str,
        body: Vec<u8>,
        sign: &Signer,
    ) -> Result<(), FetchError> {
        let url = self.url(inbox)?;
        let mut req = self
            .http
            .post(url.clone())
            .header("Content-Type", "application/activity+json")
            .header("Accept", "application/activity+json");
        let t = ToSign {
            method: "POST",
            url: url.clone(),
            body: Some(body.clone()),
        };
        for (k, v) in signed(sign, t).await? {
            req = req.header(k, v);
        }
        let resp = req.body(body).send().await.map_err(network)?;
        let status = resp.status();
        // The answer is not needed; reading a little lets the connection be reused.
        let _ = read_capped(resp, 64 * 1024).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(FetchError::Status(status.as_u16()))
        }
    }
}

fn network(e: reqwest::Error) -> FetchError {
    // Without the URL: it may carry what a peer made up, and the log has it already.
    FetchError::Network(e.without_url().to_string())
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, FetchError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(FetchError::TooLarge(cap));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(network)? {
        if out.len() + chunk.len() > cap {
            return Err(FetchError::TooLarge(cap));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The scheme and literal-address rules (names are checked when they resolve).
fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        s => return Err(format!("{s}: only https is fetched")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("addresses with credentials are not fetched".into());
    }
    match url.host() {
        None => Err("no host".into()),
        Some(url::Host::Ipv4(ip)) if !allow_private && !is_public(IpAddr::V4(ip)) => {
            Err(format!("{ip} is an internal address"))
        }
        Some(url::Host::Ipv6(ip)) if !allow_private && !is_public(IpAddr::V6(ip)) => {
            Err(format!("{ip} is an internal address"))
        }
        Some(url::Host::Domain(d))
            if !allow_private && (d == "localhost" || d.ends_with(".localhost")) =>
        {
            Err(format!("{d} is this machine"))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
            "64:ff9b::a00:1",
            "::10.0.0.1",
            "fec0::1",
            "2002:a00:1::1",
            "2002:7f00:1::1",
            "192.88.99.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "1.1.1.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip} must be allowed");
        }
    }

    #[test]
    fn urls_are_checked_before_any_connection() {
        let ok = |u: &str, p: bool| check_url(&Url::parse(u).unwrap(), p).is_ok();
        assert!(ok("https://social.example/users/a", false));
        assert!(!ok("http://social.example/users/a", false));
        assert!(!ok("https://127.0.0.1/x", false));
        assert!(!ok("https://[::1]/x", false));
        assert!(!ok("https://localhost:8080/x", false));
        assert!(!ok("https://u:p@social.example/x", false));
        assert!(!ok("file:///etc/passwd", true));
        assert!(ok("http://localhost:7001/users/a", true));
        assert!(ok("http://127.0.0.1:7001/users/a", true));
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        let cfg = config::Federation::default();
        let client = Client::new(&cfg, "https://here.example").unwrap();
        // "localhost." (with the root dot) is not caught by the name rule; the resolver
        // must drop its loopback addresses.
        let err = client
            .get_json("https://localhost./x", "application/json", None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::Network(_) | FetchError::Refused(_)),
            "{err:?}"
        );
    }
}
