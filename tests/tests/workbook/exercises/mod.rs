//! The exercises at the end of each chapter. They fail until solved, so they run only
//! with the `exercises` feature: `just exercise N`. CI runs them with `solutions`, which
//! solves them.

mod lesson_1;
mod lesson_2;
mod lesson_3;
mod lesson_4;
mod lesson_5;
mod lesson_6;
mod lesson_7;
mod lesson_8;
mod lesson_9;
