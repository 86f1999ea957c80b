//! One fetch of a JWKS URL: conditional on the last `ETag`, bounded in time and size, with
//! what the answer says about caching.

use std::time::Duration;

use crate::error::StoreProblem;

/// What one request brought back.
pub(super) enum Answer {
    /// 200: a new document, its `ETag`, and how long it may be cached.
    Fresh {
        text: String,
        etag: Option<String>,
        max_age: Option<Duration>,
    },
    /// 304 to `If-None-Match`: the document held is still current.
    NotModified { max_age: Option<Duration> },
}

/// An agent that answers every status itself, follows no redirect, and gives up after
/// `timeout` for the whole request.
pub(super) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("tokenring/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// `GET url`, with `If-None-Match: etag` when one is held; at most `max_bytes` read.
pub(super) fn fetch(
    agent: &ureq::Agent,
    url: &str,
    etag: Option<&str>,
    max_bytes: usize,
    timeout: Duration,
) -> Result<Answer, StoreProblem> {
    let mut request = agent.get(url).header("Accept", "application/json");
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    let mut response = request.call().map_err(|error| problem(&error, timeout))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let max_age = header("cache-control").and_then(|value| max_age(&value));
    match response.status().as_u16() {
        200 => {
            let etag = header("etag");
            let text = response
                .body_mut()
                .with_config()
                .limit(max_bytes as u64)
                .read_to_string()
                .map_err(|error| match error {
                    ureq::Error::BodyExceedsLimit(_) => StoreProblem::TooLarge { max: max_bytes },
                    other => problem(&other, timeout),
                })?;
            Ok(Answer::Fresh {
                text,
                etag,
                max_age,
            })
        }
        304 if etag.is_some() => Ok(Answer::NotModified { max_age }),
        status => Err(StoreProblem::HttpStatus(status)),
    }
}

fn problem(error: &ureq::Error, timeout: Duration) -> StoreProblem {
    match error {
        ureq::Error::Timeout(_) => StoreProblem::NoAnswer { within: timeout },
        other => StoreProblem::Said(other.to_string()),
    }
}

/// `max-age` from a `Cache-Control` value; `no-store`/`no-cache` as zero.
pub(super) fn max_age(cache_control: &str) -> Option<Duration> {
    let mut found = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            found = seconds
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_is_read_as_servers_write_it() {
        for (value, age) in [
            ("public, max-age=3600", Some(3600)),
            ("max-age=\"60\", must-revalidate", Some(60)),
            ("MAX-AGE=5", Some(5)),
            ("no-store", Some(0)),
            ("public, max-age=60, no-cache", Some(0)),
            ("public", None),
            ("max-age=soon", None),
        ] {
            assert_eq!(max_age(value), age.map(Duration::from_secs), "{value}");
        }
    }
}
