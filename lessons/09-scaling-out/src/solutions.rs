//! The worked answers to lesson 9's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};

// ANCHOR: exercise_1
/// A MariaDB GTID position as sequence numbers by domain.
fn by_domain(position: &str) -> Result<BTreeMap<u32, u64>> {
    let mut domains = BTreeMap::new();
    for gtid in position.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let parts: Vec<&str> = gtid.split('-').collect();
        let [domain, _server, seq] = parts[..] else {
            anyhow::bail!("{gtid:?} is not domain-server-sequence");
        };
        let domain = domain
            .parse()
            .with_context(|| format!("bad domain in {gtid:?}"))?;
        let seq = seq
            .parse()
            .with_context(|| format!("bad sequence in {gtid:?}"))?;
        domains.insert(domain, seq);
    }
    Ok(domains)
}

/// Exercise 9.1: whether a MariaDB replica at GTID position `have` has applied
/// everything in `want`.
pub fn reached(have: &str, want: &str) -> Result<bool> {
    let have = by_domain(have)?;
    Ok(by_domain(want)?
        .iter()
        .all(|(domain, seq)| have.get(domain).is_some_and(|h| h >= seq)))
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 9.2: the replica with the smallest known lag within `limit`, if any.
pub fn pick_reader(lags: &[Option<Duration>], limit: Duration) -> Option<usize> {
    lags.iter()
        .enumerate()
        .filter_map(|(i, lag)| lag.filter(|l| *l <= limit).map(|l| (l, i)))
        .min()
        .map(|(_, i)| i)
}
// ANCHOR_END: exercise_2
