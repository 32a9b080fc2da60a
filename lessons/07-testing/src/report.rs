//! The closing summary `main` prints: which ways of testing ran, how long each took,
//! and how many databases were made and dropped.

use std::time::Duration;

/// One way of testing that ran.
#[derive(Debug, Clone)]
pub struct Way {
    /// What ran, such as `#[sqlx::test]-style database per test`.
    pub name: String,
    /// How many tests' worth.
    pub tests: u32,
    /// How long they took together.
    pub took: Duration,
}

/// The summary's lines: one a way, then the database count.
pub fn summary(server: &str, ways: &[Way], made: u32, dropped: u32) -> String {
    let mut out = format!("server: {server}\n");
    out.push_str(&format!(
        "{:<44} {:>5} {:>12} {:>12}\n",
        "way of testing", "tests", "took", "a test"
    ));
    for way in ways {
        let each = way.took / way.tests.max(1);
        out.push_str(&format!(
            "{:<44} {:>5} {:>12} {:>12}\n",
            way.name,
            way.tests,
            ms(way.took),
            ms(each)
        ));
    }
    out.push_str(&format!("databases made: {made}, dropped: {dropped}"));
    out
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
