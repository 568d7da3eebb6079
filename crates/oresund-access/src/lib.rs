//! Access control for a node: who the caller is ([`authenticator`], [`passport`]), what they may
//! see of each dataset ([`tier`]), how much an aggregate may disclose ([`privacy`], [`budget`]),
//! whether a research purpose fits a consent ([`duo_match`]), and the tamper-evident record of it
//! all ([`audit`]).

pub mod authenticator;
/// The audit chain lives in `oresund-core`, so the store can append to it in its transactions.
pub use oresund_core::audit;
pub mod budget;
pub mod caller;
pub mod conditions;
pub mod duo_match;
pub mod jwk;
pub mod jwt;
pub mod passport;
pub mod privacy;
pub mod signing;
pub mod tier;
pub mod visa;

pub use authenticator::{AuthError, Authenticator, TokenAuthenticator, TokenGrant};
pub use caller::{Caller, IgnoredGrant, Reach};
pub use privacy::{CountThreshold, Disclosed, Precision};
pub use tier::{DatasetPolicy, Granularity, Tier};
