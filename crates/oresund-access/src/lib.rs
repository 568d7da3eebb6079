//! Access control for a node: who the caller is ([`authenticator`]), what they may see of each
//! dataset ([`tier`]), and how much an aggregate may disclose ([`privacy`]).

pub mod authenticator;
pub mod caller;
pub mod privacy;
pub mod tier;

pub use authenticator::{AuthError, Authenticator, TokenAuthenticator, TokenGrant};
pub use caller::Caller;
pub use privacy::{CountThreshold, Disclosed, Precision};
pub use tier::{DatasetPolicy, Granularity, Tier};
