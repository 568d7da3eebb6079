//! oresund-c4gh
