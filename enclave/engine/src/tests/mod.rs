//! Tests of the engine rules, its properties, restarts and reorgs.

mod digest;
mod harness;
mod private;
mod properties;
mod restart;
mod rules;
mod sealed;
mod signing;
