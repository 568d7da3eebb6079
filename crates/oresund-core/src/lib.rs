//! oresund-core
