//! The workbook's one integration-test binary: a module per lesson, plus the foundation
//! and the book. Every test that touches data gets its own fresh database, dropped when
//! it passes.

mod book;
#[cfg(feature = "exercises")]
mod exercises;
mod foundation;
mod lesson_1;
mod lesson_2;
mod lesson_3;
mod lesson_4;
mod lesson_5;
mod lesson_6;
mod lesson_7;
mod lesson_8;
mod lesson_9;
mod python;
mod troubleshooting;
