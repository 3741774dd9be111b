//! `plinth apply`, the parts that do not talk to a cluster: the reconcile order of the rendered
//! objects ([`order`]), the per-object anti-thrashing gate kept in an annotation ([`gate`]),
//! what a run will do with each object before it writes ([`plan`]), the disruption gate
//! that holds node reboots and the like outside maintenance windows ([`disruption`],
//! [`window`]), the fields someone else added that an apply removes ([`removal`]), the
//! Events plinth emits ([`events`]), the per-object outcomes of a run ([`outcome`]) and
//! their reports ([`report`]), and the least-privilege RBAC that `apply` and `drift` need on
//! the rendered kinds ([`rbac`]). DESIGN §7.

pub mod disruption;
pub mod events;
pub mod gate;
pub mod order;
pub mod outcome;
pub mod plan;
pub mod rbac;
pub mod removal;
pub mod report;
pub mod run;
pub mod window;
