//! The SQLAlchemy side: a Python virtual environment with the pinned requirements, made
//! from PyPI the first time it is needed, and the lessons' Python files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

/// The pinned requirements the virtual environment is made from.
const REQUIREMENTS: &str = include_str!("../python/requirements.txt");

/// The workspace's root: the folder above this crate.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set, else the workspace's `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("target"),
    }
}

/// Where the virtual environment lives: `python/` in cargo's target directory, so that it
/// is never committed and `cargo clean` removes it.
pub fn python_venv_dir() -> PathBuf {
    target_dir().join("python")
}

/// `shared/python`, which holds `twin.py`, the module every lesson's Python imports: run
/// a Python file with this folder as `PYTHONPATH`.
pub fn python_path() -> PathBuf {
    workspace_root().join("shared").join("python")
}

/// The virtual environment's interpreter, after making the environment if it is missing
/// or was made from other requirements.
///
/// Needs `python3` (3.11 or later) with its `venv` module, and PyPI on the network the
/// first time. Every failure is one line that says what to install.
pub fn python() -> Result<PathBuf> {
    let dir = python_venv_dir();
    let interpreter = dir.join("bin").join("python");
    let stamp = dir.join("requirements.txt");
    if interpreter.is_file()
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(REQUIREMENTS)
    {
        return Ok(interpreter);
    }
    // `asyncio.timeout` and `TaskGroup`, which lesson 4's Python uses, are 3.11's.
    let version = Command::new("python3")
        .args(["-c", "import sys; sys.exit(sys.version_info < (3, 11))"])
        .output();
    match version {
        Ok(out) if out.status.success() => {}
        _ => bail!(
            "the SQLAlchemy side needs Python 3.11 or later as `python3`: install it (on \
             Debian: apt-get install python3 python3-venv) and try again"
        ),
    }
    eprintln!(
        "workbook: making the Python environment in {} (once; from PyPI)",
        dir.display()
    );
    // Made beside its place and renamed into it, so that a run that stops half-way, or
    // another process making it at the same time, never leaves a broken environment.
    let parent = dir.parent().context("the target directory has no parent")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let building = parent.join(format!("python.{}.tmp", std::process::id()));
    let made = make_venv(&building);
    if let Err(e) = made {
        std::fs::remove_dir_all(&building).ok();
        return Err(e);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).ok();
    }
    if std::fs::rename(&building, &dir).is_err() {
        // Another process renamed its environment into place first: use that one.
        std::fs::remove_dir_all(&building).ok();
    }
    if !interpreter.is_file() {
        bail!("the Python environment in {} is incomplete", dir.display());
    }
    Ok(interpreter)
}

/// Makes a virtual environment in `dir` and installs the pinned requirements into it.
fn make_venv(dir: &Path) -> Result<()> {
    let venv = Command::new("python3")
        .args(["-m", "venv"])
        .arg(dir)
        .output()
        .context("cannot run python3 -m venv")?;
    if !venv.status.success() {
        bail!(
            "python3 cannot make a virtual environment (on Debian: apt-get install \
             python3-venv): {}",
            last_line(&venv)
        );
    }
    let requirements = dir.join("requirements.txt");
    std::fs::write(&requirements, REQUIREMENTS)
        .with_context(|| format!("cannot write {}", requirements.display()))?;
    let pip = Command::new(dir.join("bin").join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-input", "-r"])
        .arg(&requirements)
        .output()
        .context("cannot run pip")?;
    if !pip.status.success() {
        bail!(
            "pip cannot install the SQLAlchemy side's pinned requirements from PyPI: {}",
            last_line(&pip)
        );
    }
    Ok(())
}

/// The last non-empty line a command printed on stderr (or stdout), for a one-line error.
fn last_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned()
        + &String::from_utf8_lossy(&out.stdout);
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_owned()
}

/// Lesson `number`'s Python file, `lessons/NN-*/python/*.py`: its SQLAlchemy twin.
pub fn python_lesson(number: u32) -> Result<PathBuf> {
    let lessons = workspace_root().join("lessons");
    let prefix = format!("{number:02}-");
    let dir = std::fs::read_dir(&lessons)
        .with_context(|| format!("cannot list {}", lessons.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        });
    let Some(dir) = dir else {
        bail!("there is no lesson {number}");
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("python"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "py"))
                .filter(|p| !p.ends_with("bench.py") && !p.ends_with("app.py"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    match files.as_slice() {
        [file] => Ok(file.clone()),
        [] if dir.join("python").join("bench.py").is_file() => bail!(
            "lesson {number} runs its Python inside its measurements: cargo run --release \
             -p lesson-{number} -- --python"
        ),
        [] if dir.join("python").join("app.py").is_file() => bail!(
            "lesson {number}'s Python is a FastAPI service that its benchmark serves: cargo \
             run --release -p lesson-{number} -- --bench --python"
        ),
        [] => bail!("lesson {number} has no Python twin; lessons 1 to 4 have one"),
        _ => bail!(
            "lesson {number}'s python/ folder holds more than one .py file: {files:?}"
        ),
    }
}
