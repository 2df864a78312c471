//! Dev NSM.
