//! Where the archive's objects live: a local directory, or an S3 bucket (any S3-compatible store:
//! AWS, Ceph RGW, MinIO, SeaweedFS), named in `[archive] location` or `oresund init --archive`:
//!
//! ```text
//! archive                                   a directory, relative to the node directory
//! /srv/oresund/archive                      an absolute directory
//! s3://BUCKET[/PREFIX][?endpoint=URL&region=NAME]
//! ```
//!
//! `endpoint` is the S3 service's base URL (path-style requests; `http://` is allowed for a
//! store on the same host or network); without it, AWS in `region` (default `us-east-1`). Keys
//! never appear in a location: they come from the environment (see `ArchiveConfig`).

use std::path::{Path, PathBuf};

/// A parsed archive location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveLocation {
    Local(PathBuf),
    S3(S3Location),
}

/// An S3 bucket and the prefix the node's objects go under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
}

const CREDENTIAL_PARAMETERS: &[&str] =
    &["access_key_id", "secret_access_key", "aws_access_key_id", "aws_secret_access_key", "session_token", "token"];

/// Why an archive location cannot be used; keys given in it are never repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("archive location {0:?}: only a directory or s3://BUCKET is supported")]
    Scheme(String),
    #[error(
        "archive location s3://…@…: keys do not belong in the location (they would stay in shell history \
         and the config file); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the variables named by \
         [archive] access_key_id_env / secret_access_key_env)"
    )]
    KeysInBucket,
    #[error("archive location s3://{0}: a bucket name is 3-63 lower-case letters, digits, '-' or '.'")]
    Bucket(String),
    #[error("archive location: endpoint {0:?} must be an http:// or https:// URL without user or keys")]
    Endpoint(String),
    #[error(
        "archive location: {0}= does not belong in the location (it would stay in shell history); \
         set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the variables named by [archive] \
         access_key_id_env / secret_access_key_env)"
    )]
    KeysInParameters(String),
    #[error("archive location: unknown parameter {0:?} (known: endpoint, region)")]
    UnknownParameter(String),
}

impl ArchiveLocation {
    /// Parses a location; relative directories are resolved against `node_dir`.
    pub fn parse(location: &str, node_dir: &Path) -> Result<Self, LocationError> {
        let Some(rest) = location.strip_prefix("s3://") else {
            if location.contains("://") {
                return Err(LocationError::Scheme(location.to_string()));
            }
            return Ok(ArchiveLocation::Local(node_dir.join(location)));
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.contains('@') {
            return Err(LocationError::KeysInBucket);
        }
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(LocationError::Bucket(bucket.to_string()));
        }
        let mut location = S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: None,
            region: "us-east-1".into(),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "endpoint" => {
                    if !(value.starts_with("http://") || value.starts_with("https://")) || value.contains('@') {
                        return Err(LocationError::Endpoint(value.to_string()));
                    }
                    location.endpoint = Some(value.trim_end_matches('/').to_string());
                }
                "region" if !value.is_empty() => location.region = value.to_string(),
                key if CREDENTIAL_PARAMETERS.contains(&key.to_ascii_lowercase().as_str()) => {
                    return Err(LocationError::KeysInParameters(key.to_string()));
                }
                other => {
                    return Err(LocationError::UnknownParameter(other.to_string()));
                }
            }
        }
        Ok(ArchiveLocation::S3(location))
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}", self.bucket)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        if let Some(endpoint) = &self.endpoint {
            write!(f, " at {endpoint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_buckets_and_refused_keys() {
        let node = Path::new("/n");
        assert_eq!(ArchiveLocation::parse("archive", node).unwrap(), ArchiveLocation::Local("/n/archive".into()));
        assert_eq!(ArchiveLocation::parse("/srv/a", node).unwrap(), ArchiveLocation::Local("/srv/a".into()));
        let s3 = ArchiveLocation::parse("s3://dk-archive/node1/?endpoint=http://127.0.0.1:8333/", node).unwrap();
        assert_eq!(
            s3,
            ArchiveLocation::S3(S3Location {
                bucket: "dk-archive".into(),
                prefix: "node1".into(),
                endpoint: Some("http://127.0.0.1:8333".into()),
                region: "us-east-1".into(),
            })
        );
        let aws = ArchiveLocation::parse("s3://dk-archive?region=eu-north-1", node).unwrap();
        assert!(
            matches!(aws, ArchiveLocation::S3(S3Location { ref region, endpoint: None, .. }) if region == "eu-north-1")
        );
        for bad in [
            "s3://AKIA:secret@bucket",
            "s3://bucket?secret_access_key=x",
            "s3://bucket?endpoint=http://k:s@host",
            "s3://B",
            "gs://bucket",
            "s3://bucket?colour=red",
        ] {
            let err = ArchiveLocation::parse(bad, node).unwrap_err().to_string();
            assert!(!err.contains("secret@") && !err.contains("=x\""), "{bad}: {err}");
        }
        let keys = ArchiveLocation::parse("s3://b1x:k@bucket", node).unwrap_err();
        assert!(keys.to_string().contains("AWS_SECRET_ACCESS_KEY"), "{keys}");
    }
}
