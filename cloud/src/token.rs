//! [`TokenCache`]: the access token a client's calls share, until it is due for renewal —
//! one renewal at a time, however many calls find it stale at once — and forgotten when the
//! API refuses it. The providers' token sources (STACKIT's key flow, VPSie's client
//! credentials) say how a token is requested; this says when.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use crate::clock::Clock;
use crate::error::CloudError;
use crate::secret::Secret;

/// A token and when it stops being used.
#[derive(Debug)]
pub(crate) struct Cached {
    pub(crate) token: Secret,
    /// None: the expiry is unknown, the token serves one call only.
    pub(crate) refresh_at: Option<SystemTime>,
}

/// The cached token of one client; "now" from its clock.
#[derive(Debug)]
pub(crate) struct TokenCache {
    clock: Arc<dyn Clock>,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl TokenCache {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached token while it is fresh, else the one `fetch` gets as of now (the cache
    /// stays locked meanwhile, so concurrent callers share that one request).
    pub(crate) async fn token<F, Fut>(&self, fetch: F) -> Result<Secret, CloudError>
    where
        F: FnOnce(SystemTime) -> Fut,
        Fut: Future<Output = Result<Cached, CloudError>>,
    {
        let mut cache = self.cache.lock().await;
        let now = self.clock.now();
        if let Some(cached) = cache.as_ref()
            && cached.refresh_at.is_some_and(|at| now < at)
        {
            return Ok(cached.token.clone());
        }
        let fresh = fetch(now).await?;
        let token = fresh.token.clone();
        *cache = Some(fresh);
        Ok(token)
    }

    /// Forgets `refused` (the token a `401` answered) so the next [`TokenCache::token`]
    /// fetches a new one; a newer token another call already fetched is kept.
    pub(crate) async fn forget(&self, refused: &Secret) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &c.token == refused) {
            *cache = None;
        }
    }
}
