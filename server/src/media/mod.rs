//! Uploaded media: stored by content under the data directory, recognised by their bytes.

pub mod sniff;
pub mod store;
