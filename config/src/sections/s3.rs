//! `[s3]`: storing results in S3 or an S3-compatible server.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;
use crate::unset::non_empty;

/// S3 bucket, endpoint, credentials and upload settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Bucket results are uploaded to; empty means results stay in local
    /// storage (`paths.output_dir`). Default: `""`.
    pub bucket: String,
    /// Region of the bucket. Default: `"us-east-1"`.
    pub region: String,
    /// Endpoint URL (`http://` or `https://`) of an S3-compatible server;
    /// empty means the AWS endpoint of the region. Default: `""`.
    pub endpoint: String,
    /// Access key id; empty means unset. Set together with
    /// `s3.secret_access_key`. Secret: masked when shown. Default: `""`.
    pub access_key_id: Secret,
    /// Secret access key; empty means unset. Set together with
    /// `s3.access_key_id`. Secret: masked when shown. Default: `""`.
    pub secret_access_key: Secret,
    /// Address the bucket as `endpoint/bucket` instead of `bucket.endpoint`
    /// (needed by most self-hosted S3 servers). Default: `false`.
    pub force_path_style: bool,
    /// Lifetime of presigned download URLs, in seconds (1 to 604800, the
    /// SigV4 limit of 7 days). Default: `86400`.
    pub presign_expiry_secs: u64,
    /// Size of one multipart-upload part, in bytes (5242880 to 5368709120,
    /// S3's limits). Default: `8388608` (8 MiB).
    pub part_size_bytes: u64,
}

impl S3Config {
    /// The bucket, or `None` when results are stored locally.
    pub fn bucket(&self) -> Option<&str> {
        non_empty(&self.bucket)
    }

    /// The custom endpoint URL, or `None` for the AWS default.
    pub fn endpoint(&self) -> Option<&str> {
        non_empty(&self.endpoint)
    }

    /// The access key id, or `None` when unset.
    pub fn access_key_id(&self) -> Option<&str> {
        self.access_key_id.get()
    }

    /// The secret access key, or `None` when unset.
    pub fn secret_access_key(&self) -> Option<&str> {
        self.secret_access_key.get()
    }
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            region: "us-east-1".to_owned(),
            endpoint: String::new(),
            access_key_id: Secret::default(),
            secret_access_key: Secret::default(),
            force_path_style: false,
            presign_expiry_secs: 86_400,
            part_size_bytes: 8 * 1024 * 1024,
        }
    }
}
