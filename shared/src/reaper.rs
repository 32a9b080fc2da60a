//! Cleanup that happens however the program ends.
//!
//! A server the workbook starts must be stopped, and its files removed, when the program
//! ends: normally, on an error, on a panic, on Ctrl-C, even on `kill -9`. Destructors
//! cover only the first three, and a server kept in a `static` (as the tests share one)
//! is never dropped at all.
//!
//! So each started server gets a small watchdog: a `sh` in its own process group, whose
//! standard input is a pipe from this process. The shell blocks reading it; the pipe
//! closes when this process ends, however it ends, or when the [`Reaper`] is dropped, and
//! then the shell runs the cleanup script.

use std::io;
use std::process::{Child, ChildStdin, Command, Stdio};

/// A watchdog shell that runs `script` once this process closes its end of the pipe.
pub(crate) struct Reaper {
    child: Child,
    pipe: Option<ChildStdin>,
}

impl Reaper {
    /// Starts the watchdog. `args` are available to the script as `$1`, `$2`, ...
    pub(crate) fn spawn(script: &str, args: &[&str]) -> io::Result<Reaper> {
        use std::os::unix::process::CommandExt;
        let full = format!("read -r _ignored; {script}");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(full)
            .arg("workbook-reaper")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: Ctrl-C in the terminal must not kill the watchdog
            // itself.
            .process_group(0)
            .spawn()?;
        let pipe = child.stdin.take();
        Ok(Reaper { child, pipe })
    }

    /// Runs the cleanup now and waits for it to finish.
    pub(crate) fn run_now(&mut self) {
        self.pipe.take();
        let _ = self.child.wait();
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.run_now();
    }
}
