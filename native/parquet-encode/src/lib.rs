//! Tributary's Parquet writer for WebAssembly: arrow-rs's ArrowWriter behind a handful of C-ABI
//! functions (src/parquet/arrow-rs.ts is the other side). A file is opened with its writer
//! settings, takes Arrow IPC streams (or whole Parquet files, for OPTIMIZE) chunk by chunk, and
//! hands out its bytes as the writer produces them (the header, each row group, the footer).
//! No wasm-bindgen: the JavaScript side is small, and every call is synchronous.
//!
//! Settings arrive as a list of key/value pairs, each a little-endian u32 length then UTF-8 bytes:
//! `compression` (snappy, zstd, uncompressed), `rowGroupRows`, `statistics` (chunk), `createdBy`,
//! `kv:<key>` (footer key/value metadata), `plain:<column>` (no dictionary for that column).

use std::io::Cursor;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::SchemaRef;
use arrow_ipc::reader::StreamReader;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;

/// A file being written: its writer (until finished) and the bytes produced and not yet taken.
struct File {
    writer: Option<ArrowWriter<Vec<u8>>>,
    /// The first chunk's: every later chunk's must be the same.
    schema: Option<SchemaRef>,
    settings: WriterProperties,
    out: Vec<u8>,
}

/// Open files by handle (1-based; 0 is a failure). One thread, one module instance: no locking.
static mut FILES: Vec<Option<File>> = Vec::new();
/// The last failure's message, read by `error_ptr`/`error_len`.
static mut ERROR: String = String::new();

/// What `write`/`finish` return on failure (>= 0 is a row count or a byte count).
const FAILED: i64 = -1;
/// The chunk's Arrow schema is not the file's (the caller's SCHEMA_MISMATCH).
const SCHEMA_MISMATCH: i64 = -2;

fn files() -> &'static mut Vec<Option<File>> {
    // SAFETY: wasm32-unknown-unknown without threads: one caller at a time.
    unsafe { &mut *std::ptr::addr_of_mut!(FILES) }
}

fn fail(message: String) -> i64 {
    // SAFETY: as files().
    unsafe { *std::ptr::addr_of_mut!(ERROR) = message };
    FAILED
}

fn file(handle: u32) -> Option<&'static mut File> {
    files().get_mut((handle as usize).checked_sub(1)?)?.as_mut()
}

#[no_mangle]
pub extern "C" fn alloc(n: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(n.max(1));
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// # Safety
/// `p` and `n` are what `alloc` returned and was given.
#[no_mangle]
pub unsafe extern "C" fn dealloc(p: *mut u8, n: usize) {
    drop(Vec::from_raw_parts(p, 0, n.max(1)));
}

#[no_mangle]
pub extern "C" fn error_ptr() -> *const u8 {
    unsafe { (&*std::ptr::addr_of!(ERROR)).as_ptr() }
}

#[no_mangle]
pub extern "C" fn error_len() -> usize {
    unsafe { (&*std::ptr::addr_of!(ERROR)).len() }
}

/// The settings' pairs, in the caller's order.
fn read_settings(mut b: &[u8]) -> Result<Vec<(String, String)>, String> {
    fn next(b: &mut &[u8]) -> Result<String, String> {
        let n = b.get(..4).ok_or("truncated writer settings")?;
        let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize;
        let s = b.get(4..4 + n).ok_or("truncated writer settings")?;
        let s = String::from_utf8(s.to_vec()).map_err(|e| e.to_string())?;
        *b = &b[4 + n..];
        Ok(s)
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let k = next(&mut b)?;
        out.push((k, next(&mut b)?));
    }
    Ok(out)
}

/// The writer settings parquet-wasm's WriterPropertiesBuilder was given before (the same calls):
/// Parquet 1.0 pages, so that every reader takes the files.
fn properties(settings: &[u8]) -> Result<WriterProperties, String> {
    let mut b = WriterProperties::builder().set_writer_version(WriterVersion::PARQUET_1_0);
    let mut kv: Vec<KeyValue> = Vec::new();
    for (key, value) in read_settings(settings)? {
        match key.as_str() {
            "compression" => {
                b = b.set_compression(match value.as_str() {
                    "snappy" => Compression::SNAPPY,
                    "zstd" => Compression::ZSTD(ZstdLevel::default()),
                    "uncompressed" => Compression::UNCOMPRESSED,
                    other => return Err(format!("unknown compression {other}")),
                })
            }
            "rowGroupRows" => {
                let rows = value.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| format!("rowGroupRows: {value}"))?;
                b = b.set_max_row_group_row_count(Some(rows))
            }
            "statistics" if value == "chunk" => b = b.set_statistics_enabled(EnabledStatistics::Chunk),
            "createdBy" => b = b.set_created_by(value),
            k if k.starts_with("plain:") => b = b.set_column_dictionary_enabled(ColumnPath::from(&k["plain:".len()..]), false),
            k if k.starts_with("kv:") => kv.push(KeyValue::new(k["kv:".len()..].to_string(), value)),
            other => return Err(format!("unknown writer setting {other}")),
        }
    }
    if !kv.is_empty() {
        b = b.set_key_value_metadata(Some(kv));
    }
    Ok(b.build())
}

/// Opens a file; its writer is made with the first chunk's schema. Returns its handle, or 0.
///
/// # Safety
/// `p`..`p + n` is memory this module gave out (`alloc`).
#[no_mangle]
pub unsafe extern "C" fn open(p: *const u8, n: usize) -> u32 {
    match properties(std::slice::from_raw_parts(p, n)) {
        Ok(settings) => {
            let all = files();
            let f = File { writer: None, schema: None, settings, out: Vec::new() };
            if let Some(i) = all.iter().position(|f| f.is_none()) {
                all[i] = Some(f);
                i as u32 + 1
            } else {
                all.push(Some(f));
                all.len() as u32
            }
        }
        Err(e) => {
            fail(e);
            0
        }
    }
}

/// Makes the file's writer for `schema` (the first chunk's), or checks that `schema` is its.
fn ensure_writer(f: &mut File, schema: SchemaRef) -> Result<(), i64> {
    if let Some(s) = &f.schema {
        if **s != *schema {
            fail("a chunk has a different Arrow schema from the first".into());
            return Err(SCHEMA_MISMATCH);
        }
        return Ok(());
    }
    let w = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(f.settings.clone())).map_err(|e| fail(e.to_string()))?;
    f.writer = Some(w);
    f.schema = Some(schema);
    Ok(())
}

/// What the writer flushed (the header, a row group) becomes the caller's to take: the buffers
/// are swapped when the caller has taken everything before (a row group is not copied again; the
/// writer goes on in the buffer the caller emptied, keeping its capacity).
fn take_flushed(out: &mut Vec<u8>, flushed: &mut Vec<u8>) {
    if out.is_empty() {
        std::mem::swap(out, flushed);
    } else {
        out.append(flushed);
    }
}

/// Writes every batch of a chunk whose schema is `schema` (a chunk of no batches still makes the
/// writer: a file of no rows has its columns, as parquet-wasm's writeParquet wrote it).
fn write_batches<I>(f: &mut File, schema: SchemaRef, batches: I) -> i64
where
    I: Iterator<Item = Result<RecordBatch, String>>,
{
    if let Err(code) = ensure_writer(f, schema) {
        return code;
    }
    let mut rows = 0i64;
    for batch in batches {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => return fail(e),
        };
        if let Err(code) = ensure_writer(f, batch.schema()) {
            return code;
        }
        let Some(writer) = f.writer.as_mut() else { return fail("the file is finished".into()) };
        let groups = writer.flushed_row_groups().len();
        if let Err(e) = writer.write(&batch) {
            return fail(e.to_string());
        }
        rows += batch.num_rows() as i64;
        // A row group closed: what its writer still buffers (the end of it, the file's header
        // before the first) goes out with it, so that each part ends whole row groups.
        if writer.flushed_row_groups().len() > groups {
            if let Err(e) = writer.sync() {
                return fail(e.to_string());
            }
        }
        take_flushed(&mut f.out, writer.inner_mut());
    }
    rows
}

/// Writes a chunk given as an Arrow IPC stream: returns its rows, or FAILED / SCHEMA_MISMATCH.
///
/// # Safety
/// `p`..`p + n` is memory this module gave out.
#[no_mangle]
pub unsafe extern "C" fn write_ipc(handle: u32, p: *const u8, n: usize) -> i64 {
    let Some(f) = file(handle) else { return fail(format!("no open file {handle}")) };
    let bytes: &'static [u8] = std::slice::from_raw_parts(p, n);
    let reader = match StreamReader::try_new(Cursor::new(bytes), None) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let schema = reader.schema();
    write_batches(f, schema, reader.map(|b| b.map_err(|e| e.to_string())))
}

/// Writes the rows of a whole Parquet file (OPTIMIZE's inputs): returns its rows, or FAILED /
/// SCHEMA_MISMATCH. Read with the Arrow schema its writer stored, as parquet-wasm's readParquet did.
///
/// # Safety
/// `p`..`p + n` is memory this module gave out.
#[no_mangle]
pub unsafe extern "C" fn write_parquet(handle: u32, p: *const u8, n: usize) -> i64 {
    let Some(f) = file(handle) else { return fail(format!("no open file {handle}")) };
    let bytes = bytes::Bytes::copy_from_slice(std::slice::from_raw_parts(p, n));
    let reader = match ParquetRecordBatchReaderBuilder::try_new(bytes).and_then(|b| b.build()) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    let schema = reader.schema();
    write_batches(f, schema, reader.map(|b| b.map_err(|e| e.to_string())))
}

/// The bytes the file produced and the caller has not taken: `out_len` of them at `out_ptr`,
/// valid until the next call; `out_clear` once copied out.
#[no_mangle]
pub extern "C" fn out_ptr(handle: u32) -> *const u8 {
    file(handle).map_or(std::ptr::null(), |f| f.out.as_ptr())
}

#[no_mangle]
pub extern "C" fn out_len(handle: u32) -> usize {
    file(handle).map_or(0, |f| f.out.len())
}

#[no_mangle]
pub extern "C" fn out_clear(handle: u32) {
    if let Some(f) = file(handle) {
        f.out.clear();
        // A finished file's buffer goes back; an open one keeps it for its next row group.
        if f.writer.is_none() {
            f.out = Vec::new();
        }
    }
}

/// Ends the file: its remaining bytes (the last row group and the footer) are left to take.
/// A file that took no chunk has no schema, and no bytes (the caller writes no such file).
/// Returns the bytes left to take, or FAILED.
#[no_mangle]
pub extern "C" fn finish(handle: u32) -> i64 {
    let Some(f) = file(handle) else { return fail(format!("no open file {handle}")) };
    let Some(w) = f.writer.take() else { return f.out.len() as i64 };
    match w.into_inner() {
        Ok(mut rest) => {
            take_flushed(&mut f.out, &mut rest);
            f.out.len() as i64
        }
        Err(e) => fail(e.to_string()),
    }
}

/// Forgets the file (finished or not) and frees its memory.
#[no_mangle]
pub extern "C" fn close(handle: u32) {
    if let Some(slot) = files().get_mut((handle as usize).wrapping_sub(1)) {
        *slot = None;
    }
}
