//! The pure core of drift: what is desired, what overrides say, how objects are normalised and
//! compared, how each object is evaluated, which objects are in scope, and the report in every
//! format. Synchronous, and it imports no I/O module ([`crate::source`], [`crate::transport`]).

pub mod cloud;
pub mod compare;
pub mod desired;
pub mod discover;
#[cfg(test)]
mod generators;
pub mod kubevirt;
pub mod live;
pub mod normalize;
pub mod overrides;
pub mod ownership;
pub mod pipeline;
pub mod report;
pub mod scope;
pub mod vpsie;
