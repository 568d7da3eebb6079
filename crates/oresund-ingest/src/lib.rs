//! oresund-ingest
