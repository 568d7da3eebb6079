//! oresund-store
