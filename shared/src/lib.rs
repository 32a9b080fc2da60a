//! The workbook's helper crate.
//!
//! Every lesson and every test gets its MySQL-compatible server, its connections, its
//! fresh databases and the shared schema from here, so that lessons never start servers
//! themselves.
//!
//! Where the server comes from, in this order:
//! 1. `DATABASE_URL`, if it is set;
//! 2. MySQL 8.4 in Docker, through testcontainers, if a Docker daemon answers within a
//!    second;
//! 3. a throwaway local `mariadbd` or `mysqld` in a temporary directory, on a free
//!    loopback port.
//!
//! The second way needs the default `docker` feature; without it (`--no-default-features`)
//! the crate builds without testcontainers.
//!
//! The book's chapter "Getting a server" explains each way and what it costs.

mod child;
mod cluster;
mod database;
#[cfg(feature = "docker")]
mod docker;
mod errors;
mod local;
mod python;
mod reaper;
mod redact;
mod server;
#[cfg(feature = "testing")]
mod testing;
mod topology;

#[cfg(feature = "testing")]
pub use child::rerun_with_a_database;
pub use child::{ChildExit, run_with_database_url};
pub use database::{
    Database, connect, create_database, lesson_database, migrate, server_version,
};
#[cfg(feature = "docker")]
pub use docker::{DEFAULT_IMAGE, DockerServer, ImageUnavailable, docker_available};
pub use errors::{NoServerError, explain_connect_error};
pub use local::{Flavor, LocalServer, find_server_binary};
pub use python::{python, python_lesson, python_path, python_venv_dir};
pub use redact::{redact, redact_text};
pub use server::{Server, Source, server};
#[cfg(feature = "testing")]
pub use testing::{
    FreshDatabase, TestDatabase, fresh_database, keep_databases_of_this_test,
    sweep_leftovers,
};
pub use topology::{Node, Shape, Topology};

/// The database a lesson uses when the URL names none, as in the article.
pub const DEFAULT_DATABASE: &str = "sales";

/// Prints a step's header on stdout, as `== Step N: title ==`.
///
/// The tests cut a lesson's captured output at these headers, and the book includes each
/// step's part of it under the anchor `step-N`.
pub fn step(number: &str, title: &str) {
    println!("\n== Step {number}: {title} ==");
}
