//! The test binary's constructor: `#[sqlx::test]` reads `DATABASE_URL` when a test runs,
//! and `cargo test` with none set must still work.
//!
//! Before `main` (and so before the test harness starts a thread), this checks
//! `DATABASE_URL`. When it is unset, the helper crate gets a server (Docker or a local
//! binary), makes a database for the run, runs this same test binary again with the same
//! arguments and `DATABASE_URL` set through `Command::env`, waits for it, drops the
//! database and exits with the child's code. The child finds `DATABASE_URL` set and runs
//! the tests. Nothing calls `std::env::set_var`, which is unsound once threads run.

// SAFETY: the constructor runs before `main`, on the only thread there is. It uses only
// what works before `main` on the platforms the workbook supports (environment, files,
// threads, a Tokio runtime, child processes), never panics (it prints one line and exits
// with 2 instead, since a panic here would abort), and ends the process itself when it
// ran the tests in a child.
#[allow(unsafe_code)]
#[ctor::ctor(unsafe)]
fn run_the_tests_against_a_server_of_their_own() {
    if let Some(code) = workbook::rerun_with_a_database("lesson_7_tests") {
        std::process::exit(code);
    }
}
