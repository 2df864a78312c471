//! Tests of the engine rules, its properties, restarts and reorgs.

mod harness;
mod properties;
mod restart;
mod rules;
mod sealed;
mod signing;
