//! Fast retries and a ready client builder, so that fault tests against the local Hub take
//! seconds, with one retry policy for every suite (feature `hub-client`).

use std::time::Duration;

use hub_client::{Endpoint, HubClient, HubClientBuilder, RetryPolicy, Token};

/// Quick retries: four of them, 20 ms growing to 100 ms, and a `Retry-After` of more than
/// 5 s fails at once. A burst of 2 failures is absorbed; a burst of 10 is not.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
    }
}

/// A client builder for the Hub at `url` (anonymous without `token`) with [`fast_retries`];
/// add timeouts as the test needs, then `build()`.
#[track_caller]
pub fn client_builder(url: &str, token: Option<&str>) -> HubClientBuilder {
    let endpoint =
        Endpoint::parse(url).unwrap_or_else(|e| panic!("{url} is not a Hub endpoint: {e}"));
    HubClient::builder()
        .endpoint(endpoint)
        .token(token.and_then(Token::new))
        .retry_policy(fast_retries())
}
