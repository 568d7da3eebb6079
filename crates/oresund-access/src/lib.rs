//! oresund-access
