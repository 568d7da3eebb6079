//! Data URLs: `GET /ga4gh/data/{accession}?token=…` serves the bytes a signed token names
//! (`oresund_node::delivery::token`), streamed from the archive with bounded memory — a few
//! chunks in flight per download whatever the file's size. What was served, in bytes, goes to
//! the audit log when the download ends, finished or not.

use std::io::{self, Write};
use std::ops::Range;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oresund_c4gh::PublicKey;
use oresund_core::audit::{AuditAction, Decision};
use oresund_node::clock::unix_now;
use oresund_node::delivery::{
    ByteSink, Claims, DeliverableFile, Deliveries, DeliveryError, Form, Piece, Selection, pieces_len,
};
use tokio::sync::mpsc;

use crate::delivery_access::{Recorded, service};
use crate::delivery_error::DeliveryFailure;
use crate::state::AppState;

/// Bytes handed to the connection at a time.
const CHUNK: usize = 256 << 10;
/// Chunks buffered per download.
const IN_FLIGHT: usize = 2;

/// The URL serving `claims`, signed.
pub fn sign(app: &AppState, deliveries: &Deliveries, claims: &Claims) -> String {
    let base = app.beacon.base_url.trim_end_matches('/');
    format!("{base}/ga4gh/data/{}?token={}", claims.object, deliveries.signer().sign(claims))
}

/// Claims for `range` of `file` in `form`, for `user`, valid for `ttl_s` seconds.
pub fn claims(file: &DeliverableFile, form: Form, range: Range<u64>, user: &str, ttl_s: u64) -> Claims {
    Claims {
        object: file.object.accession.clone(),
        form,
        start: range.start,
        end: range.end,
        user: user.to_string(),
        dataset: file.dataset.clone(),
        expires: unix_now() + ttl_s as i64,
        recipient: None,
    }
}

/// The recipient key a token carries (base64 of its 32 bytes).
pub fn encode_key(key: &PublicKey) -> String {
    STANDARD.encode(key.as_bytes())
}

fn decode_key(text: &str) -> Option<PublicKey> {
    let bytes: [u8; 32] = STANDARD.decode(text).ok()?.try_into().ok()?;
    Some(PublicKey::from_bytes(bytes))
}

/// A `Write` that hands chunks to the response body; fails once the client has gone.
struct ChannelWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
    /// Bytes handed to the connection so far.
    written: u64,
}

impl ChannelWriter {
    /// Hands what is buffered to the connection.
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        self.hand_over(chunk)
    }

    fn hand_over(&mut self, chunk: Bytes) -> io::Result<()> {
        let len = chunk.len() as u64;
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        self.written += len;
        Ok(())
    }
}

impl ByteSink for ChannelWriter {
    /// A fetched chunk goes to the connection as it is (after what is buffered).
    fn write_chunk(&mut self, chunk: Bytes) -> io::Result<()> {
        self.send()?;
        self.hand_over(chunk)
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buffer.len();
        let n = bytes.len().min(room);
        self.buffer.extend_from_slice(&bytes[..n]);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// `GET /ga4gh/data/{accession}?token=…`.
pub async fn serve(State(app): State<AppState>, Path(accession): Path<String>, RawQuery(query): RawQuery) -> Response {
    let recorded = Recorded::new(AuditAction::DataServed, format!("/ga4gh/data/{accession}"));
    match start(&app, &accession, query.as_deref(), &recorded).await {
        Ok(response) => response,
        Err(failure) => failure.htsget(),
    }
}

async fn start(
    app: &AppState,
    accession: &str,
    query: Option<&str>,
    recorded: &Recorded,
) -> Result<Response, DeliveryFailure> {
    let (deliveries, _) = service(app)?;
    let token = query
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned()))
        .ok_or_else(|| DeliveryFailure::unauthenticated("a data URL needs its token (take the URL from a ticket)"))?;
    let claims = match deliveries.signer().verify(&token, accession, unix_now()) {
        Ok(claims) => claims,
        Err(e) => {
            let detail = format!("HTTP 401: {e}");
            recorded.note(app, "unauthenticated", None, Decision::Denied, detail).await;
            return Err(DeliveryFailure::unauthenticated(e.to_string()));
        }
    };
    let recipient = match claims.form {
        Form::WholeCrypt4gh => Some(
            claims
                .recipient
                .as_deref()
                .and_then(decode_key)
                .ok_or_else(|| DeliveryFailure::unauthenticated("the token names no recipient key"))?,
        ),
        Form::Plain | Form::Cipher | Form::Whole => None,
    };
    // Look the file up again: a removed file is gone, whatever the token says.
    let (lookup, wanted, form, range) =
        (deliveries.clone(), accession.to_string(), claims.form, claims.start..claims.end);
    let prepared = app
        .blocking(move |app| -> Result<(DeliverableFile, Vec<Piece>), DeliveryError> {
            let file = lookup.file(&app.node, &wanted)?;
            let pieces = match form {
                Form::Plain => vec![Piece::Plain(range)],
                Form::Cipher => vec![Piece::Cipher(range)],
                Form::Whole | Form::WholeCrypt4gh => lookup.plan(&file, &Selection::Whole, recipient.as_ref())?,
            };
            Ok((file, pieces))
        })
        .await
        .map_err(DeliveryFailure::from_beacon)?;
    let (file, pieces) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            let failure = DeliveryFailure::from_delivery(&e);
            let detail = format!("HTTP {}: {}", failure.status.as_u16(), failure.message);
            recorded.note(app, &claims.user, Some(&claims.dataset), Decision::Denied, detail).await;
            return Err(failure);
        }
    };
    let length = pieces_len(&file, &pieces);
    let (sender, receiver) = mpsc::channel(IN_FLIGHT);
    tokio::spawn(stream(app.clone(), deliveries, file, claims, pieces, sender, recorded.resource.clone()));
    let body = Body::from_stream(futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    }));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(response)
}

/// Copies the pieces on the blocking pool, then records what was served.
async fn stream(
    app: AppState,
    deliveries: Arc<Deliveries>,
    file: DeliverableFile,
    claims: Claims,
    pieces: Vec<Piece>,
    sender: mpsc::Sender<io::Result<Bytes>>,
    resource: String,
) {
    let outcome = crate::blocking::run(move || {
        let mut out = ChannelWriter { sender, buffer: Vec::with_capacity(CHUNK), written: 0 };
        let result = deliveries.copy_pieces(&file, &pieces, &mut out).and_then(|_| Ok(out.flush()?));
        if let Err(e) = &result {
            // Tell the client the body is incomplete (the connection is cut, not ended cleanly).
            let _ = out.sender.blocking_send(Err(io::Error::other(e.to_string())));
        }
        (out.written, result.map_err(|e| e.to_string()))
    })
    .await;
    let form = match claims.form {
        Form::Plain => "plain",
        Form::Cipher => "crypt4gh body",
        Form::Whole => "whole file, plain",
        Form::WholeCrypt4gh => "whole file, crypt4gh",
    };
    let detail = match outcome {
        Ok((served, Ok(()))) => format!("{served} bytes served ({form})"),
        Ok((served, Err(e))) => format!("{served} bytes served ({form}), then stopped: {e}"),
        Err(e) => format!("stopped ({form}): {e}"),
    };
    let recorded = Recorded::new(AuditAction::DataServed, format!("{resource} bytes={}-{}", claims.start, claims.end));
    // The bytes have left: this completes the access recorded when the URL was issued.
    recorded.note(&app, &claims.user, Some(&claims.dataset), Decision::Allowed, detail).await;
}
