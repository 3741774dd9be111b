//! Live sources, the I/O edges of drift: a `kubectl get -o yaml` [`snapshot`] on disk and a
//! live cluster through [`kube`]; the servers of STACKIT ([`stackit`]) and the VMs and node
//! groups of VPSie ([`vpsie`]); the Nodes, VMs and node groups cloud drift reads from either
//! Kubernetes source ([`machines`]). Each yields a [`crate::LiveSet`] or its provider's
//! model; a new source (a cloud provider's API) goes here, over the shared
//! [`crate::transport`] layer.

pub mod kube;
pub mod machines;
pub mod snapshot;
pub mod stackit;
pub mod vpsie;
