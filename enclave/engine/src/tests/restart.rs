//! Restart and reorg tests.
