//! Skilltrack content as files.
//!
//! [`lab`]: a lab in steps, written in the layout of a Killercoda scenario (`index.json` naming
//! markdown pages and shell scripts), so that scenarios written for Killercoda run here as
//! they are, and authors keep a lab in version control beside its course.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod lab;
