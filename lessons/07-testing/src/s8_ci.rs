//! Step 8: in CI. The server comes from the environment: `DATABASE_URL` when the job
//! provides one, else a container when Docker answers, else a local binary.

use anyhow::Result;

use crate::Ctx;

// ANCHOR: which_server
/// Where a test run's server comes from, in the order CI (and a laptop) should try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFrom {
    /// The job's own service (`services:` in GitHub Actions, a sidecar, a shared host).
    DatabaseUrl,
    /// A container the tests start, when a Docker daemon answers.
    Docker,
    /// A `mariadbd` or `mysqld` on `PATH`, started in a temporary directory.
    LocalBinary,
}

/// Decides from the environment, as the tests' setup does before any test runs.
/// `TEST_SERVER=docker` or `=local` forces a way, so CI can test both.
pub fn server_from(env: impl Fn(&str) -> Option<String>, docker: bool) -> ServerFrom {
    if env("DATABASE_URL").is_some_and(|url| !url.is_empty()) {
        return ServerFrom::DatabaseUrl;
    }
    match env("TEST_SERVER").as_deref() {
        Some("docker") => ServerFrom::Docker,
        Some("local") => ServerFrom::LocalBinary,
        _ if docker => ServerFrom::Docker,
        _ => ServerFrom::LocalBinary,
    }
}
// ANCHOR_END: which_server

/// Says where this run's server came from, and what the run added up to.
pub async fn run(ctx: &Ctx) -> Result<String> {
    let from = server_from(|key| std::env::var(key).ok(), ctx.docker);
    let (made, dropped) = ctx.databases();
    Ok(format!(
        "where this run's server would come from: {from:?}\n\
         databases made: {made}, dropped: {dropped}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: tests
    #[test]
    fn the_environment_decides_where_the_server_comes_from() {
        let env = |pairs: &'static [(&str, &str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            }
        };
        let url = env(&[("DATABASE_URL", "mysql://ci@db/app")]);
        assert_eq!(server_from(url, true), ServerFrom::DatabaseUrl);
        assert_eq!(server_from(env(&[]), true), ServerFrom::Docker);
        assert_eq!(server_from(env(&[]), false), ServerFrom::LocalBinary);
        let forced = env(&[("TEST_SERVER", "local")]);
        assert_eq!(server_from(forced, true), ServerFrom::LocalBinary);
    }
    // ANCHOR_END: tests
}
