//! The archive on S3-compatible object storage (AWS S3, Ceph RGW, MinIO, SeaweedFS) through
//! `object_store`'s S3 client: path-style requests to a configured endpoint, keys from the
//! environment, uploads larger than one part as multipart uploads, reads as ranged GETs.
//!
//! A killed ingest can leave an *incomplete multipart upload*: parts stored, no object. S3 lists
//! no object for it (so nothing is visible), but the parts take space until aborted. `archive gc`
//! lists the bucket's incomplete uploads under the node's prefix (S3 `ListMultipartUploads`,
//! signed by the client's own SigV4 signer) and aborts them; a bucket lifecycle rule
//! (`AbortIncompleteMultipartUpload`) is a good second line.

use std::sync::Arc;
use std::time::Duration;

use object_store::ClientOptions;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::MultipartStore;
use object_store::path::Path as ObjectPath;
use object_store::signer::{SignedUrlOptions, Signer};

use crate::archive::error::ArchiveError;
use crate::archive::location::S3Location;

/// The keys of an S3 archive, read from the environment variables `[archive]` names.
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl S3Credentials {
    /// Reads the keys from `key_env` and `secret_env`; both must be set.
    pub fn from_env(key_env: &str, secret_env: &str) -> Result<Self, ArchiveError> {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (read(key_env), read(secret_env)) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(S3Credentials { access_key_id, secret_access_key }),
            _ => Err(ArchiveError::Invalid(format!(
                "the archive is on S3, but {key_env} and {secret_env} are not both set; set them to the \
                 bucket's access key id and secret access key (other names: [archive] access_key_id_env / \
                 secret_access_key_env in oresund.toml)"
            ))),
        }
    }
}

/// An S3 client for `location`, keeping at most `connections` idle connections.
pub fn client(
    location: &S3Location,
    credentials: &S3Credentials,
    connections: usize,
) -> Result<AmazonS3, ArchiveError> {
    let options = ClientOptions::new()
        .with_pool_max_idle_per_host(connections)
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(300));
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&location.bucket)
        .with_region(&location.region)
        .with_access_key_id(&credentials.access_key_id)
        .with_secret_access_key(&credentials.secret_access_key)
        .with_client_options(options);
    if let Some(endpoint) = &location.endpoint {
        builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
    }
    builder.build().map_err(|source| ArchiveError::ObjectStore { path: location.to_string(), source: Box::new(source) })
}

/// An incomplete multipart upload: the object key (bucket-relative) and the upload id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteUpload {
    pub key: String,
    pub upload_id: String,
}

/// Incomplete multipart uploads under `prefix` (S3 `ListMultipartUploads`, all pages).
pub async fn incomplete_uploads(s3: &AmazonS3, prefix: &str) -> Result<Vec<IncompleteUpload>, ArchiveError> {
    let failed = |what: String| ArchiveError::Invalid(format!("listing incomplete uploads: {what}"));
    let http = reqwest::Client::new();
    let mut found = Vec::new();
    let (mut key_marker, mut upload_marker) = (String::new(), String::new());
    loop {
        let mut query = vec![("uploads", String::new()), ("prefix", prefix.to_string())];
        if !key_marker.is_empty() {
            query.push(("key-marker", key_marker.clone()));
            query.push(("upload-id-marker", upload_marker.clone()));
        }
        let options = SignedUrlOptions::new().with_query(query);
        let url = s3
            .signed_url_opts(reqwest::Method::GET, &ObjectPath::default(), Duration::from_secs(300), &options)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let response = http.get(url).send().await.map_err(|e| failed(e.without_url().to_string()))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| failed(e.without_url().to_string()))?;
        if !status.is_success() {
            return Err(failed(format!("HTTP {status}: {}", xml_values(&body, "Message").join(" "))));
        }
        let keys = xml_values(&body, "Key");
        let ids = xml_values(&body, "UploadId");
        if keys.len() != ids.len() {
            return Err(failed("the listing does not pair keys with upload ids".into()));
        }
        found.extend(keys.into_iter().zip(ids).map(|(key, upload_id)| IncompleteUpload { key, upload_id }));
        let truncated = xml_values(&body, "IsTruncated").first().is_some_and(|v| v == "true");
        let next_key = xml_values(&body, "NextKeyMarker").into_iter().next().unwrap_or_default();
        if !truncated || next_key.is_empty() || next_key == key_marker {
            break;
        }
        key_marker = next_key;
        upload_marker = xml_values(&body, "NextUploadIdMarker").into_iter().next().unwrap_or_default();
    }
    Ok(found)
}

/// Aborts an incomplete upload (its parts are deleted).
pub async fn abort(s3: &AmazonS3, upload: &IncompleteUpload) -> Result<(), ArchiveError> {
    let path = ObjectPath::parse(&upload.key)
        .map_err(|e| ArchiveError::Invalid(format!("incomplete upload {:?}: {e}", upload.key)))?;
    s3.abort_multipart(&path, &upload.upload_id)
        .await
        .map_err(|source| ArchiveError::ObjectStore { path: upload.key.clone(), source: Box::new(source) })
}

/// The text of every `<tag>…</tag>` element, XML entities decoded (the listing is flat enough
/// that a full XML parser buys nothing).
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(
            after[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[end + close.len()..];
    }
    out
}

/// Shares one client between the archive's generic store and its S3-only operations.
pub type SharedS3 = Arc<AmazonS3>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_values_are_read_in_order() {
        let xml = "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>\
            <Upload><Key>n/ab/x&amp;y.body</Key><UploadId>1</UploadId></Upload>\
            <Upload><Key>n/cd/z.body</Key><UploadId>2</UploadId></Upload></ListMultipartUploadsResult>";
        assert_eq!(xml_values(xml, "Key"), ["n/ab/x&y.body", "n/cd/z.body"]);
        assert_eq!(xml_values(xml, "UploadId"), ["1", "2"]);
        assert_eq!(xml_values(xml, "IsTruncated"), ["false"]);
    }
}
