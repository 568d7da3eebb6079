//! oresund-server
