//! The workbook's one integration-test binary: a module per lesson, plus the foundation and
//! the book. Every test that touches data gets its own fresh database, dropped when it passes.

mod book;
mod foundation;
mod lesson_1;
